package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
)

// BankStore keeps hash banks in the hash_banks and hash_bank_entries tables
// (migration 0004). Workers load every bank with Banks and compile them with
// hashbank.NewSet; vigilctl writes them with PutBank.
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

// PutBank creates or replaces a bank and all its entries in one
// transaction: readers see the old bank or the new one, never a mix. The bank
// is validated first; returns an error wrapping moderation.ErrInvalid if it
// is not valid.
func (s *BankStore) PutBank(ctx context.Context, b hashbank.Bank) error {
	set, err := hashbank.NewSet([]hashbank.Bank{b}) // validates, applies defaults
	if err != nil {
		return fmt.Errorf("storing bank: %w", err)
	}
	b = set.Banks()[0]
	now := s.clock.Now()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO hash_banks (name, hash_type, threshold, min_quality, dihedral, category, severity, source, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
			ON CONFLICT (name) DO UPDATE SET hash_type = $2, threshold = $3, min_quality = $4, dihedral = $5,
				category = $6, severity = $7, source = $8, updated_at = $9`,
			b.Name, b.HashType, b.Threshold, b.MinQuality, *b.Dihedral, b.Category, int(b.Severity), b.Source, now)
		if err != nil {
			return err
		}
		// Keep quarantine state of entries that survive the replacement.
		if _, err := tx.Exec(ctx, `
			DELETE FROM hash_bank_entries WHERE bank = $1 AND NOT (entry_id = ANY($2))`, b.Name, entryIDs(b)); err != nil {
			return err
		}
		batch := &pgx.Batch{}
		for _, e := range b.Entries {
			batch.Queue(`
				INSERT INTO hash_bank_entries (bank, entry_id, hash, category, source, external_id, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (bank, entry_id) DO UPDATE SET hash = $3, category = $4, source = $5, external_id = $6`,
				b.Name, e.ID, e.Hash, e.Category, e.Source, e.ExternalID, now)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("storing bank %s: %w", b.Name, interpretError(err))
	}
	return nil
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
	banks, err := s.load(ctx, name)
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
	banks, err := s.load(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("loading banks: %w", err)
	}
	return banks, nil
}

func (s *BankStore) load(ctx context.Context, name string) ([]hashbank.Bank, error) {
	rows, err := s.pool.Query(ctx, `
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
	rows, err = s.pool.Query(ctx, `
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

// DeleteBank removes a bank and its entries. Returns moderation.ErrNotFound
// if there is no such bank.
func (s *BankStore) DeleteBank(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM hash_banks WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("deleting bank %s: %w", name, interpretError(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("deleting bank %s: %w", name, moderation.ErrNotFound)
	}
	return nil
}

// SetQuarantined records that an entry was quarantined (true) or confirmed
// by a rule engineer (false), so the state survives worker restarts.
// Returns moderation.ErrNotFound if the entry does not exist.
func (s *BankStore) SetQuarantined(ctx context.Context, bank, entryID string, quarantined bool) error {
	now := s.clock.Now()
	var q string
	if quarantined {
		q = `UPDATE hash_bank_entries SET quarantined_at = $3, confirmed_at = NULL WHERE bank = $1 AND entry_id = $2 RETURNING 1`
	} else {
		q = `UPDATE hash_bank_entries SET quarantined_at = NULL, confirmed_at = $3 WHERE bank = $1 AND entry_id = $2 RETURNING 1`
	}
	var one int
	if err := s.pool.QueryRow(ctx, q, bank, entryID, now).Scan(&one); err != nil {
		return fmt.Errorf("updating quarantine of %s/%s: %w", bank, entryID, interpretError(err))
	}
	return nil
}

// Quarantined lists the entries currently marked quarantined, as
// (bank, entry id) pairs, so a starting worker can restore its Guard.
func (s *BankStore) Quarantined(ctx context.Context) ([][2]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT bank, entry_id FROM hash_bank_entries WHERE quarantined_at IS NOT NULL ORDER BY bank, entry_id`)
	if err != nil {
		return nil, fmt.Errorf("listing quarantined entries: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var p [2]string
		err := r.Scan(&p[0], &p[1])
		return p, err
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("listing quarantined entries: %w", interpretError(err))
	}
	return out, nil
}
