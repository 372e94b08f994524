package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBankStoreNotifiesAndAudits: every change is announced on
// BanksChannel once committed (not when rolled back); an import's bank,
// audit event and notification commit together; quarantines and
// confirmations are audited and an automatic quarantine neither repeats
// nor overrides a confirmation.
func TestBankStoreNotifiesAndAudits(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	store := postgres.NewBankStore(s.Pool, nil)
	// NOTIFY is database-wide: other tests' banks are heard too, so this
	// test's bank has a name of its own.
	name := strings.ToLower(moderationtest.RandomName("n"))

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	notified := make(chan string, 100)
	go func() {
		_ = store.Listen(lctx, func() { close(listening) }, func(p string) {
			if strings.Contains(p, name) {
				notified <- p
			}
		})
	}()
	<-listening
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-notified:
			if got != want {
				t.Fatalf("notified %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification %q", want)
		}
	}
	stamp0, err := store.Stamp(ctx)
	if err != nil {
		t.Fatal(err)
	}

	b := hashbank.Bank{Name: name, HashType: "phash", Entries: []hashbank.Entry{
		{ID: "e1", Hash: "00000000000000ff", Category: "hate", Source: "tat", ExternalID: "tat-1"},
		{ID: "e2", Hash: "ff00000000000000"},
	}}
	// A failed audit rolls the bank back, and nothing is announced.
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if err := store.PutBankTx(ctx, tx, b); err != nil {
			return err
		}
		return errors.New("audit failed")
	})
	if err == nil {
		t.Fatal("no error")
	}
	if _, err := store.Bank(ctx, name); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("rolled-back bank stored: %v", err)
	}
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := store.BankTx(ctx, tx, name); !errors.Is(err, moderation.ErrNotFound) {
			return err
		}
		if err := store.PutBankTx(ctx, tx, b); err != nil {
			return err
		}
		_, err := postgres.AppendAudit(ctx, tx, time.Now(), "ann", moderation.AuditBankImport, "bank:"+name, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	expect("bank:" + name)
	got, err := store.Bank(ctx, name)
	if err != nil || got.Entries[0] != b.Entries[0] {
		t.Fatalf("labels not kept: %+v %v", got, err)
	}
	stamp1, _ := store.Stamp(ctx)
	if stamp1 == stamp0 {
		t.Fatal("stamp unchanged by a new bank")
	}
	// Replacing the bank changes the stamp even with the same count.
	if err := store.PutBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	expect("bank:" + name)
	if stamp2, _ := store.Stamp(ctx); stamp2 == stamp1 {
		t.Fatal("stamp unchanged by a replaced bank")
	}

	// The guard quarantines e1 on two workers at once: recorded once.
	q := hashbank.QuarantineState{Bank: name, EntryID: "e1", Matches: 40, Observed: 100}
	if ok, err := store.RecordQuarantine(ctx, "vigil-ingest", q); err != nil || !ok {
		t.Fatalf("record: %v %v", ok, err)
	}
	expect("quarantine:" + name + "/e1")
	if ok, err := store.RecordQuarantine(ctx, "vigil-ingest", q); err != nil || ok {
		t.Fatalf("second record: %v %v", ok, err)
	}
	list, err := store.QuarantinedEntries(ctx, false)
	if err != nil || len(list) != 1 || list[0].Entry.ExternalID != "tat-1" || list[0].QuarantinedAt.IsZero() {
		t.Fatalf("quarantined entries %+v %v", list, err)
	}
	// A rule engineer confirms it: released, exempt from automatic
	// quarantine.
	if was, err := store.Confirm(ctx, "rita", name, "e1", "a real propaganda image"); err != nil || !was {
		t.Fatalf("confirm: %v %v", was, err)
	}
	expect("quarantine:" + name + "/e1")
	if ok, err := store.RecordQuarantine(ctx, "vigil-ingest", q); err != nil || ok {
		t.Fatalf("automatic quarantine over a confirmation: %v %v", ok, err)
	}
	if c, err := store.Confirmed(ctx); err != nil || len(c) != 1 || c[0] != [2]string{name, "e1"} {
		t.Fatalf("confirmed %v %v", c, err)
	}
	if list, _ := store.QuarantinedEntries(ctx, false); len(list) != 0 {
		t.Fatalf("still quarantined: %+v", list)
	}
	if list, _ := store.QuarantinedEntries(ctx, true); len(list) != 1 || list[0].ConfirmedAt.IsZero() {
		t.Fatalf("with confirmed: %+v", list)
	}
	// A person's quarantine overrides the confirmation.
	q.Manual = true
	if ok, err := store.RecordQuarantine(ctx, "rita", q); err != nil || !ok {
		t.Fatalf("manual quarantine: %v %v", ok, err)
	}
	expect("quarantine:" + name + "/e1")
	if _, err := store.Confirm(ctx, "rita", name, "nope", ""); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("confirm a missing entry: %v", err)
	}
	if _, err := store.RecordQuarantine(ctx, "vigil-ingest", hashbank.QuarantineState{Bank: name, EntryID: "x"}); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("record an entry missing from a stored bank: %v", err)
	}

	var actions []string
	rows, err := s.Pool.Query(ctx, `SELECT action || ' ' || actor || ' ' || subject FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	actions, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bank_import ann bank:" + name,
		"bank_quarantine vigil-ingest bank:" + name + "/e1",
		"bank_confirm rita bank:" + name + "/e1",
		"bank_quarantine rita bank:" + name + "/e1",
	}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}

	// A bank that exists only as files on the workers: its quarantines are
	// recorded and confirmed like a stored bank's, but Postgres cannot vouch
	// for an id no worker ever recorded.
	file := name + "-files"
	fq := hashbank.QuarantineState{Bank: file, EntryID: "f1", Matches: 30, Observed: 90}
	if ok, err := store.RecordQuarantine(ctx, "vigil-ingest", fq); err != nil || !ok {
		t.Fatalf("record a file bank's entry: %v %v", ok, err)
	}
	expect("quarantine:" + file + "/f1")
	if qs, err := store.Quarantined(ctx); err != nil || !slices.Contains(qs, [2]string{file, "f1"}) {
		t.Fatalf("file bank quarantine not listed: %v %v", qs, err)
	}
	if list, err := store.QuarantinedEntries(ctx, false); err != nil || !slices.ContainsFunc(list, func(e postgres.EntryState) bool {
		return e.Bank == file && e.Entry.ID == "f1" && e.Entry.Hash == "" && !e.QuarantinedAt.IsZero()
	}) {
		t.Fatalf("quarantined entries %+v %v", list, err)
	}
	if _, err := store.Confirm(ctx, "rita", file, "f2", ""); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("confirm an unknown file bank entry: %v", err)
	}
	if was, err := store.Confirm(ctx, "rita", file, "f1", "meme, not propaganda"); err != nil || !was {
		t.Fatalf("confirm a file bank's entry: %v %v", was, err)
	}
	expect("quarantine:" + file + "/f1")
	if c, err := store.Confirmed(ctx); err != nil || !slices.Contains(c, [2]string{file, "f1"}) {
		t.Fatalf("confirmed %v %v", c, err)
	}

	// Deleting the stored bank drops its entries' state, not the file
	// bank's.
	if err := store.DeleteBank(ctx, name); err != nil {
		t.Fatal(err)
	}
	expect("bank:" + name)
	qs, _ := store.Quarantined(ctx)
	cs, _ := store.Confirmed(ctx)
	if slices.Contains(qs, [2]string{name, "e1"}) || !slices.Contains(cs, [2]string{file, "f1"}) {
		t.Fatalf("after delete: quarantined %v confirmed %v", qs, cs)
	}
}
