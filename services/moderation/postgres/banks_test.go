package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func TestBankStoreRoundTrip(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	store := postgres.NewBankStore(s.Pool, nil)

	pdq := "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	b := hashbank.Bank{Name: "gifct", HashType: "pdq", Severity: moderation.SeverityHigh, Source: "gifct",
		Entries: []hashbank.Entry{
			{ID: "a", Hash: pdq, Category: "violent_extremism", ExternalID: "x-1"},
			{ID: "b", Hash: strings.Repeat("0", 64)},
		}}
	if err := store.PutBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := store.Bank(ctx, "gifct")
	if err != nil {
		t.Fatal(err)
	}
	if got.Threshold != 31 || got.MinQuality != 50 || !*got.Dihedral || got.Severity != moderation.SeverityHigh ||
		got.Category != hashbank.DefaultCategory || len(got.Entries) != 2 || got.Entries[0].ExternalID != "x-1" ||
		got.Entries[0].Category != "violent_extremism" {
		t.Fatalf("bank %+v", got)
	}
	// Replace: entry b goes, c arrives; quarantine of a survives.
	if err := store.SetQuarantined(ctx, "gifct", "a", true); err != nil {
		t.Fatal(err)
	}
	b.Entries = []hashbank.Entry{b.Entries[0], {ID: "c", Hash: strings.Repeat("f", 64)}}
	if err := store.PutBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := store.PutBank(ctx, hashbank.Bank{Name: "ph", HashType: "phash", Entries: []hashbank.Entry{{ID: "p", Hash: "00000000000000ff"}}}); err != nil {
		t.Fatal(err)
	}
	all, err := store.Banks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "gifct" || len(all[0].Entries) != 2 || all[0].Entries[1].ID != "c" || all[1].Entries[0].ID != "p" {
		t.Fatalf("banks %+v", all)
	}
	if _, err := hashbank.NewSet(all); err != nil {
		t.Fatalf("stored banks do not compile: %v", err)
	}
	q, err := store.Quarantined(ctx)
	if err != nil || len(q) != 1 || q[0] != [2]string{"gifct", "a"} {
		t.Fatalf("quarantined %v %v", q, err)
	}
	if err := store.SetQuarantined(ctx, "gifct", "a", false); err != nil {
		t.Fatal(err)
	}
	if q, _ := store.Quarantined(ctx); len(q) != 0 {
		t.Fatalf("still quarantined: %v", q)
	}

	// Errors.
	if _, err := store.Bank(ctx, "nope"); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("missing bank: %v", err)
	}
	if err := store.SetQuarantined(ctx, "gifct", "nope", true); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("missing entry: %v", err)
	}
	if err := store.PutBank(ctx, hashbank.Bank{Name: "bad", HashType: "md5"}); !errors.Is(err, moderation.ErrInvalid) {
		t.Errorf("invalid bank: %v", err)
	}
	if err := store.DeleteBank(ctx, "ph"); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteBank(ctx, "ph"); !errors.Is(err, moderation.ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
}
