package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
)

// BankStore keeps hash banks in the hash_banks and hash_bank_entries tables
// (migration 0004) and the quarantine state of every bank's entries, stored
// or file-only, in hash_entry_states (migration 0005). Workers load every
// bank with Banks and compile them with hashbank.NewSet; vigilctl writes
// them with PutBank.
type BankStore struct {
	pool  *pgxpool.Pool
	clock Clock
}

// NewBankStore returns a store on pool. clock stamps updated_at and the
// quarantine columns (nil = SystemClock).
func NewBankStore(pool *pgxpool.Pool, clock Clock) *BankStore {
	if clock == nil {
		clock = SystemClock{}
	}
	return &BankStore{pool: pool, clock: clock}
}

// BanksChannel is the LISTEN/NOTIFY channel on which every change to the
// stored banks or to an entry's quarantine is announced, in the
// transaction of the change (so a listener that hears it sees the change).
// The payload is "bank:NAME" after PutBank or DeleteBank and
// "quarantine:BANK/ENTRY" after a quarantine or a confirmation; listeners
// must treat it as a hint and re-read (NOTIFY is database-wide: another
// schema's changes are heard too).
const BanksChannel = "vigil_banks"

// PutBank creates or replaces a bank and all its entries in one
// transaction and notifies BanksChannel: readers see the old bank or the new
// one, never a mix. The bank is validated first; returns an error wrapping
// moderation.ErrInvalid if it is not valid.
func (s *BankStore) PutBank(ctx context.Context, b hashbank.Bank) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.PutBankTx(ctx, tx, b) })
}

// PutBankTx is PutBank inside the caller's transaction, so that the bank,
// the audit event recording who changed it (AppendAudit) and the
// notification commit together or not at all.
func (s *BankStore) PutBankTx(ctx context.Context, tx DBTX, b hashbank.Bank) error {
	set, err := hashbank.NewSet([]hashbank.Bank{b}) // validates, applies defaults
	if err != nil {
		return fmt.Errorf("storing bank: %w", err)
	}
	b = set.Banks()[0]
	if err := s.putBank(ctx, tx, b); err != nil {
		return fmt.Errorf("storing bank %s: %w", b.Name, interpretError(err))
	}
	return nil
}

func (s *BankStore) putBank(ctx context.Context, tx DBTX, b hashbank.Bank) error {
	now := s.clock.Now()
	_, err := tx.Exec(ctx, `
		INSERT INTO hash_banks (name, hash_type, threshold, min_quality, dihedral, category, severity, source, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		ON CONFLICT (name) DO UPDATE SET hash_type = $2, threshold = $3, min_quality = $4, dihedral = $5,
			category = $6, severity = $7, source = $8, updated_at = $9`,
		b.Name, b.HashType, b.Threshold, b.MinQuality, *b.Dihedral, b.Category, int(b.Severity), b.Source, now)
	if err != nil {
		return err
	}
	// Keep quarantine state of entries that survive the replacement; drop
	// that of the stored entries that do not.
	if _, err := tx.Exec(ctx, `
		WITH gone AS (DELETE FROM hash_bank_entries WHERE bank = $1 AND NOT (entry_id = ANY($2)) RETURNING entry_id)
		DELETE FROM hash_entry_states s USING gone WHERE s.bank = $1 AND s.entry_id = gone.entry_id`, b.Name, entryIDs(b)); err != nil {
		return err
	}
	// One statement for all entries: a bank of a million hashes is a few
	// arrays, not a million round trips.
	n := len(b.Entries)
	ids, hashes, cats, srcs, exts := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range b.Entries {
		ids[i], hashes[i], cats[i], srcs[i], exts[i] = e.ID, e.Hash, e.Category, e.Source, e.ExternalID
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO hash_bank_entries (bank, entry_id, hash, category, source, external_id, created_at)
		SELECT $1, u.entry_id, u.hash, u.category, u.source, u.external_id, $7
		FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(entry_id, hash, category, source, external_id)
		ON CONFLICT (bank, entry_id) DO UPDATE SET hash = EXCLUDED.hash, category = EXCLUDED.category,
			source = EXCLUDED.source, external_id = EXCLUDED.external_id`,
		b.Name, ids, hashes, cats, srcs, exts, now); err != nil {
		return err
	}
	return notifyBanks(ctx, tx, "bank:"+b.Name)
}

func notifyBanks(ctx context.Context, tx DBTX, payload string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, BanksChannel, payload)
	return err
}

func entryIDs(b hashbank.Bank) []string {
	ids := make([]string, len(b.Entries))
	for i, e := range b.Entries {
		ids[i] = e.ID
	}
	return ids
}

// Bank loads one bank with its entries. Returns moderation.ErrNotFound if
// there is no bank of that name.
func (s *BankStore) Bank(ctx context.Context, name string) (hashbank.Bank, error) {
	banks, err := s.load(ctx, s.pool, name)
	if err != nil {
		return hashbank.Bank{}, fmt.Errorf("loading bank %s: %w", name, err)
	}
	if len(banks) == 0 {
		return hashbank.Bank{}, fmt.Errorf("loading bank %s: %w", name, moderation.ErrNotFound)
	}
	return banks[0], nil
}

// Banks loads every bank with its entries, sorted by name.
func (s *BankStore) Banks(ctx context.Context) ([]hashbank.Bank, error) {
	banks, err := s.load(ctx, s.pool, "")
	if err != nil {
		return nil, fmt.Errorf("loading banks: %w", err)
	}
	return banks, nil
}

// BankTx loads one bank inside the caller's transaction after taking a
// transaction-scoped lock on its name, so that a read-modify-write (an
// import adding entries) cannot lose a concurrent one's entries. Returns
// moderation.ErrNotFound if there is no bank of that name (the lock is
// held all the same, so the caller may create it).
func (s *BankStore) BankTx(ctx context.Context, tx DBTX, name string) (hashbank.Bank, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('vigil_bank:' || $1))`, name); err != nil {
		return hashbank.Bank{}, fmt.Errorf("locking bank %s: %w", name, interpretError(err))
	}
	banks, err := s.load(ctx, tx, name)
	if err != nil {
		return hashbank.Bank{}, fmt.Errorf("loading bank %s: %w", name, err)
	}
	if len(banks) == 0 {
		return hashbank.Bank{}, fmt.Errorf("loading bank %s: %w", name, moderation.ErrNotFound)
	}
	return banks[0], nil
}

func (s *BankStore) load(ctx context.Context, db DBTX, name string) ([]hashbank.Bank, error) {
	rows, err := db.Query(ctx, `
		SELECT name, hash_type, threshold, min_quality, dihedral, category, severity, source
		FROM hash_banks WHERE $1 = '' OR name = $1 ORDER BY name`, name)
	if err != nil {
		return nil, interpretError(err)
	}
	var banks []hashbank.Bank
	index := map[string]int{}
	for rows.Next() {
		var b hashbank.Bank
		var sev int16
		var dih bool
		if err := rows.Scan(&b.Name, &b.HashType, &b.Threshold, &b.MinQuality, &dih, &b.Category, &sev, &b.Source); err != nil {
			return nil, interpretError(err)
		}
		b.Dihedral = &dih
		b.Severity = moderation.Severity(sev)
		index[b.Name] = len(banks)
		banks = append(banks, b)
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	if len(banks) == 0 {
		return nil, nil
	}
	rows, err = db.Query(ctx, `
		SELECT bank, entry_id, hash, category, source, external_id
		FROM hash_bank_entries WHERE $1 = '' OR bank = $1 ORDER BY bank, entry_id`, name)
	if err != nil {
		return nil, interpretError(err)
	}
	for rows.Next() {
		var bank string
		var e hashbank.Entry
		if err := rows.Scan(&bank, &e.ID, &e.Hash, &e.Category, &e.Source, &e.ExternalID); err != nil {
			return nil, interpretError(err)
		}
		if i, ok := index[bank]; ok {
			banks[i].Entries = append(banks[i].Entries, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(err)
	}
	return banks, nil
}

// DeleteBank removes a bank, its entries and their quarantine state, and
// notifies BanksChannel. Returns moderation.ErrNotFound if there is no such
// bank.
func (s *BankStore) DeleteBank(ctx context.Context, name string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			DELETE FROM hash_entry_states s USING hash_bank_entries e
			WHERE e.bank = $1 AND s.bank = e.bank AND s.entry_id = e.entry_id`, name); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM hash_banks WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return moderation.ErrNotFound
		}
		return notifyBanks(ctx, tx, "bank:"+name)
	})
	if err != nil {
		return fmt.Errorf("deleting bank %s: %w", name, interpretError(err))
	}
	return nil
}

// SetQuarantined records that an entry was quarantined (true) or confirmed
// by a rule engineer (false), so the state survives worker restarts, and
// notifies BanksChannel so every worker applies it. It is not audited: use
// Confirm and RecordQuarantine for acts that must be. Returns
// moderation.ErrNotFound if the bank is stored and has no such entry.
func (s *BankStore) SetQuarantined(ctx context.Context, bank, entryID string, quarantined bool) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := s.setQuarantined(ctx, tx, bank, entryID, quarantined, true)
		return err
	})
	if err != nil {
		return fmt.Errorf("updating quarantine of %s/%s: %w", bank, entryID, interpretError(err))
	}
	return nil
}

// setQuarantined updates one entry's state and notifies. With force false
// (the guard's automatic quarantine), an entry that is already quarantined
// or that a rule engineer confirmed is left alone (the share rule no longer
// applies to a confirmed entry) and changed reports false, so that many
// workers quarantining the same entry at once record it once.
//
// An entry of a stored bank must exist (pgx.ErrNoRows otherwise). Banks that
// exist only as files on the workers cannot be checked here: their entries
// are taken on the worker's word, so the guard's quarantines of file banks
// are kept too.
func (s *BankStore) setQuarantined(ctx context.Context, tx DBTX, bank, entryID string, quarantined, force bool) (changed bool, err error) {
	q, c, err := lockEntryState(ctx, tx, bank, entryID)
	if err != nil {
		return false, err
	}
	if !force && (q != nil || c != nil) {
		return false, nil
	}
	sql := `UPDATE hash_entry_states SET quarantined_at = NULL, confirmed_at = $3 WHERE bank = $1 AND entry_id = $2`
	if quarantined {
		sql = `UPDATE hash_entry_states SET quarantined_at = $3, confirmed_at = NULL WHERE bank = $1 AND entry_id = $2`
	}
	if _, err := tx.Exec(ctx, sql, bank, entryID, s.clock.Now()); err != nil {
		return false, err
	}
	return true, notifyBanks(ctx, tx, "quarantine:"+bank+"/"+entryID)
}

// RecordQuarantine records that a worker's guard quarantined an entry
// automatically (q.Manual false) or that a person did (q.Manual true),
// appends a bank_quarantine audit event by actor with the window counts and
// notifies BanksChannel, in one transaction. An automatic quarantine does
// not override a rule engineer's confirmation: then nothing is written and
// recorded is false (workers confirm the entry again when they sync).
// Returns moderation.ErrNotFound if the bank is stored and the entry is not
// in it (the bank was replaced meanwhile); an entry of a bank that exists
// only as files is recorded as the worker names it.
func (s *BankStore) RecordQuarantine(ctx context.Context, actor string, q hashbank.QuarantineState) (recorded bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		recorded, err = s.setQuarantined(ctx, tx, q.Bank, q.EntryID, true, q.Manual)
		if err != nil || !recorded {
			return err
		}
		details := map[string]any{"bank": q.Bank, "entry": q.EntryID, "manual": q.Manual, "matches": q.Matches, "observed": q.Observed}
		_, err = AppendAudit(ctx, tx, s.clock.Now(), actor, moderation.AuditBankQuarantine, entrySubject(q.Bank, q.EntryID), details)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("recording quarantine of %s/%s: %w", q.Bank, q.EntryID, interpretError(err))
	}
	return recorded, nil
}

// Confirm is a rule engineer's word that an entry is right: it leaves
// quarantine on every worker, and the guard's share rule no longer applies
// to it. The change, a bank_confirm audit event by actor and the
// notification commit together; reason, if any, goes into the audit
// event. wasQuarantined reports whether the entry
// was quarantined (confirming one that is not exempts it in advance).
// Returns moderation.ErrNotFound if the entry is not in its stored bank or,
// for a bank that exists only as files, if no worker ever recorded a state
// for it (Postgres cannot tell a file entry from a typo).
func (s *BankStore) Confirm(ctx context.Context, actor, bank, entryID, reason string) (wasQuarantined bool, err error) {
	wasQuarantined, err = s.byHand(ctx, actor, bank, entryID, reason, false)
	if err != nil {
		return false, fmt.Errorf("confirming %s/%s: %w", bank, entryID, err)
	}
	return wasQuarantined, nil
}

// Quarantine is a rule engineer's word that an entry is wrong (it flags
// harmless posts: vigilctl banks precision shows which): it stops matching
// on every worker within seconds, until Confirm. The change, a
// bank_quarantine audit event (manual) by actor with reason, and the
// notification commit together. Import only adds entries, so this is how
// one leaves service. wasQuarantined and errors as Confirm.
func (s *BankStore) Quarantine(ctx context.Context, actor, bank, entryID, reason string) (wasQuarantined bool, err error) {
	wasQuarantined, err = s.byHand(ctx, actor, bank, entryID, reason, true)
	if err != nil {
		return false, fmt.Errorf("quarantining %s/%s: %w", bank, entryID, err)
	}
	return wasQuarantined, nil
}

// byHand quarantines (or confirms) an entry as a person's decision, for
// Quarantine and Confirm.
func (s *BankStore) byHand(ctx context.Context, actor, bank, entryID, reason string, quarantine bool) (wasQuarantined bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM hash_banks WHERE name = $1)
			OR EXISTS (SELECT 1 FROM hash_entry_states WHERE bank = $1 AND entry_id = $2)`, bank, entryID).Scan(&known); err != nil {
			return err
		}
		if !known {
			return moderation.ErrNotFound
		}
		since, _, err := lockEntryState(ctx, tx, bank, entryID)
		if err != nil {
			return err
		}
		wasQuarantined = since != nil
		if _, err := s.setQuarantined(ctx, tx, bank, entryID, quarantine, true); err != nil {
			return err
		}
		details := map[string]any{"bank": bank, "entry": entryID, "was_quarantined": wasQuarantined}
		if reason != "" {
			details["reason"] = reason
		}
		if since != nil {
			details["quarantined_at"] = since.UTC()
		}
		action := moderation.AuditBankConfirm
		if quarantine {
			action, details["manual"] = moderation.AuditBankQuarantine, true
		}
		_, err = AppendAudit(ctx, tx, s.clock.Now(), actor, action, entrySubject(bank, entryID), details)
		return err
	})
	if err != nil {
		return false, interpretError(err)
	}
	return wasQuarantined, nil
}

// lockEntryState returns an entry's quarantine state, creating its row if
// needed, locked until the transaction ends. It returns pgx.ErrNoRows for an
// entry missing from its stored bank.
func lockEntryState(ctx context.Context, tx DBTX, bank, entryID string) (quarantined, confirmed *time.Time, err error) {
	var ok bool
	if err := tx.QueryRow(ctx, `
		SELECT NOT EXISTS (SELECT 1 FROM hash_banks WHERE name = $1)
			OR EXISTS (SELECT 1 FROM hash_bank_entries WHERE bank = $1 AND entry_id = $2)`, bank, entryID).Scan(&ok); err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, pgx.ErrNoRows
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hash_entry_states (bank, entry_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, bank, entryID); err != nil {
		return nil, nil, err
	}
	err = tx.QueryRow(ctx, `SELECT quarantined_at, confirmed_at FROM hash_entry_states WHERE bank = $1 AND entry_id = $2 FOR UPDATE`,
		bank, entryID).Scan(&quarantined, &confirmed)
	return quarantined, confirmed, err
}

func entrySubject(bank, entry string) string { return "bank:" + bank + "/" + entry }

// Quarantined lists the entries currently marked quarantined, as
// (bank, entry id) pairs, so a starting worker can restore its Guard.
func (s *BankStore) Quarantined(ctx context.Context) ([][2]string, error) {
	return s.pairs(ctx, `quarantined_at IS NOT NULL`)
}

// Confirmed lists the entries a rule engineer confirmed and that are not
// quarantined again, as (bank, entry id) pairs: the guard exempts them.
func (s *BankStore) Confirmed(ctx context.Context) ([][2]string, error) {
	return s.pairs(ctx, `confirmed_at IS NOT NULL AND quarantined_at IS NULL`)
}

func (s *BankStore) pairs(ctx context.Context, where string) ([][2]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT bank, entry_id FROM hash_entry_states WHERE `+where+` ORDER BY bank, entry_id`)
	if err != nil {
		return nil, fmt.Errorf("listing entries: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var p [2]string
		err := r.Scan(&p[0], &p[1])
		return p, err
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("listing entries: %w", interpretError(err))
	}
	return out, nil
}

// EntryState is a stored entry with its review state, as listed for
// rule engineers (vigilctl banks quarantined).
type EntryState struct {
	Bank          string
	Entry         hashbank.Entry
	QuarantinedAt time.Time // zero: not quarantined
	ConfirmedAt   time.Time // zero: never confirmed
}

// QuarantinedEntries lists the quarantined entries with their labels,
// oldest quarantine first; with confirmed, also the confirmed ones. Entries
// of banks that exist only as files have no labels here (empty hash).
func (s *BankStore) QuarantinedEntries(ctx context.Context, confirmed bool) ([]EntryState, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT s.bank, s.entry_id, coalesce(e.hash, ''), coalesce(e.category, ''), coalesce(e.source, ''),
			coalesce(e.external_id, ''), s.quarantined_at, s.confirmed_at
		FROM hash_entry_states s
		LEFT JOIN hash_bank_entries e ON e.bank = s.bank AND e.entry_id = s.entry_id
		WHERE s.quarantined_at IS NOT NULL OR ($1 AND s.confirmed_at IS NOT NULL)
		ORDER BY s.quarantined_at NULLS LAST, s.confirmed_at, s.bank, s.entry_id`, confirmed)
	if err != nil {
		return nil, fmt.Errorf("listing quarantined entries: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EntryState, error) {
		var st EntryState
		var q, c *time.Time
		err := r.Scan(&st.Bank, &st.Entry.ID, &st.Entry.Hash, &st.Entry.Category, &st.Entry.Source, &st.Entry.ExternalID, &q, &c)
		if q != nil {
			st.QuarantinedAt = *q
		}
		if c != nil {
			st.ConfirmedAt = *c
		}
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing quarantined entries: %w", interpretError(err))
	}
	return out, nil
}

// Stamp returns a value that changes whenever a bank is stored or deleted
// (the count and the transaction ids of the hash_banks rows: PutBank
// always rewrites its bank's row), so a worker can tell cheaply whether
// it must reload, whatever the clocks say.
func (s *BankStore) Stamp(ctx context.Context) (string, error) {
	var stamp string
	err := s.pool.QueryRow(ctx, `
		SELECT count(*)::text || ':' || coalesce(sum(xmin::text::bigint), 0)::text FROM hash_banks`).Scan(&stamp)
	if err != nil {
		return "", fmt.Errorf("reading banks stamp: %w", interpretError(err))
	}
	return stamp, nil
}

// Listen LISTENs on BanksChannel on a connection of its own and calls
// notify with each payload until ctx is done or the connection fails,
// which it returns (the caller reconnects). ready is called once the
// LISTEN is in place, so the caller can catch up on changes made before.
func (s *BankStore) Listen(ctx context.Context, ready func(), notify func(payload string)) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listening for banks: %w", interpretError(err))
	}
	// A connection that LISTENed must not go back to the pool: take it out.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+BanksChannel); err != nil {
		return fmt.Errorf("listening for banks: %w", interpretError(err))
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("waiting for banks notification: %w", err)
		}
		notify(n.Payload)
	}
}
