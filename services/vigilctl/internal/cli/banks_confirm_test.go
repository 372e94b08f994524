package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestBanksImportLabelsAndNotify: an import keeps each entry's category,
// source and external id, and announces itself to the workers.
func TestBanksImportLabelsAndNotify(t *testing.T) {
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	store := postgres.NewBankStore(s.Pool, nil)
	name := strings.ToLower(moderationtest.RandomName("imp"))
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	notified := make(chan string, 10)
	go func() {
		_ = store.Listen(lctx, func() { close(listening) }, func(p string) {
			if p == "bank:"+name {
				notified <- p
			}
		})
	}()
	<-listening

	p := filepath.Join(t.TempDir(), "list.csv")
	content := "hash_type,hash,labels,category,source,id\n" +
		"pdq," + pdqA + ",isis;Terrorist_Content,,gifct,g-1\n" +
		"pdq," + pdqB + ",hate,violent_threat,tat,t-7\n" +
		"pdq," + strings.Repeat("ab", 32) + ",other,,,\n"
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "", "banks", "import", "--database-url", s.URL, "--author", "ann", "--format", "csv", "--bank", name, p)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "imported 3 pdq hashes") {
		t.Fatalf("out %q", out)
	}
	select {
	case <-notified:
	case <-time.After(10 * time.Second):
		t.Fatal("import not announced on " + postgres.BanksChannel)
	}
	b, err := store.Bank(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]hashbank.Entry{}
	for _, e := range b.Entries {
		got[e.ID] = e
	}
	want := map[string]hashbank.Entry{
		"g-1":                    {ID: "g-1", Hash: pdqA, Category: "terrorist_content", Source: "gifct", ExternalID: "g-1"},
		"t-7":                    {ID: "t-7", Hash: pdqB, Category: "violent_threat", Source: "tat", ExternalID: "t-7"},
		strings.Repeat("ab", 32): {ID: strings.Repeat("ab", 32), Hash: strings.Repeat("ab", 32)},
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("entry %s = %+v, want %+v", id, got[id], w)
		}
	}
}

// TestBanksQuarantinedAndConfirm: a rule engineer lists the quarantined
// entries and releases one; the release is audited and announced.
func TestBanksQuarantinedAndConfirm(t *testing.T) {
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	store := postgres.NewBankStore(s.Pool, nil)
	b := hashbank.Bank{Name: "gifct", HashType: "pdq", Entries: []hashbank.Entry{
		{ID: "g-1", Hash: pdqA, Source: "gifct", ExternalID: "x-1"},
		{ID: "g-2", Hash: pdqB},
	}}
	if err := store.PutBank(ctx, b); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		return runCLI(t, "", append(append([]string{"banks"}, args[0], "--database-url", s.URL), args[1:]...)...)
	}
	out, _, err := run("quarantined")
	if err != nil || strings.TrimSpace(out) != "no quarantined entries" {
		t.Fatalf("none: %q %v", out, err)
	}
	if ok, err := store.RecordQuarantine(ctx, "vigil-ingest", hashbank.QuarantineState{Bank: "gifct", EntryID: "g-1", Matches: 30, Observed: 90}); err != nil || !ok {
		t.Fatalf("record: %v %v", ok, err)
	}
	out, _, err = run("quarantined")
	if err != nil || !strings.Contains(out, "BANK") || !lineHas(out, "gifct", "g-1", "quarantined", "gifct", "x-1", pdqA) {
		t.Fatalf("list: %q %v", out, err)
	}
	out, _, err = run("quarantined", "--json")
	var row map[string]string
	if err != nil || json.Unmarshal([]byte(out), &row) != nil || row["entry"] != "g-1" || row["quarantined_at"] == "" {
		t.Fatalf("json: %q %v", out, err)
	}

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	notified := make(chan string, 10)
	go func() {
		_ = store.Listen(lctx, func() { close(listening) }, func(p string) {
			if p == "quarantine:gifct/g-1" {
				notified <- p
			}
		})
	}()
	<-listening
	out, _, err = run("confirm", "--author", "rita", "-m", "checked: real propaganda", "gifct", "g-1")
	if err != nil || !strings.Contains(out, "confirmed gifct/g-1: released from quarantine") {
		t.Fatalf("confirm: %q %v", out, err)
	}
	select {
	case <-notified:
	case <-time.After(10 * time.Second):
		t.Fatal("confirmation not announced")
	}
	if out, _, _ := run("quarantined"); strings.TrimSpace(out) != "no quarantined entries" {
		t.Fatalf("after confirm: %q", out)
	}
	if out, _, _ := run("quarantined", "--confirmed"); !lineHas(out, "gifct", "g-1", "confirmed") {
		t.Fatalf("--confirmed: %q", out)
	}
	var actor, details string
	if err := s.Pool.QueryRow(ctx, `SELECT actor, details::text FROM audit_events WHERE action = 'bank_confirm' AND subject = 'bank:gifct/g-1'`).
		Scan(&actor, &details); err != nil || actor != "rita" || !strings.Contains(details, "checked: real propaganda") || !strings.Contains(details, `"was_quarantined": true`) {
		t.Fatalf("audit: %s %s %v", actor, details, err)
	}

	// Not quarantined: exempted in advance. Unknown: an error.
	out, _, err = run("confirm", "--author", "rita", "gifct", "g-2")
	if err != nil || !strings.Contains(out, "was not quarantined") {
		t.Fatalf("confirm g-2: %q %v", out, err)
	}
	if _, _, err := run("confirm", "--author", "rita", "gifct", "nope"); err == nil || !strings.Contains(err.Error(), "has no entry nope") {
		t.Fatalf("unknown entry: %v", err)
	}
	if _, _, err := run("confirm", "--author", "rita", "gifct"); err == nil {
		t.Fatal("missing ENTRY: no error")
	}
}

// TestBanksQuarantineByHand: a rule engineer takes a wrong entry out of
// service (what banks precision advises); it is listed, audited as a
// manual quarantine with the reason, announced to the workers, and only a
// confirmation releases it.
func TestBanksQuarantineByHand(t *testing.T) {
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	store := postgres.NewBankStore(s.Pool, nil)
	if err := store.PutBank(ctx, hashbank.Bank{Name: "gifct", HashType: "pdq", Entries: []hashbank.Entry{{ID: "g-17", Hash: pdqA}}}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		return runCLI(t, "", append(append([]string{"banks"}, args[0], "--database-url", s.URL), args[1:]...)...)
	}
	if _, _, err := run("quarantine", "--author", "rita", "gifct", "g-17"); err == nil || !strings.Contains(err.Error(), "-m REASON is required") {
		t.Fatalf("without a reason: %v", err)
	}
	if _, _, err := run("quarantine", "--author", "rita", "-m", "typo", "gifct", "g-71"); err == nil || !strings.Contains(err.Error(), "has no entry g-71") {
		t.Fatalf("unknown entry: %v", err)
	}

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	notified := make(chan string, 10)
	go func() {
		_ = store.Listen(lctx, func() { close(listening) }, func(p string) { notified <- p })
	}()
	<-listening
	out, _, err := run("quarantine", "--author", "rita", "-m", "a meme: 28 of 30 no violation", "gifct", "g-17")
	if err != nil || !strings.Contains(out, "quarantined gifct/g-17: out of service on every worker") {
		t.Fatalf("quarantine: %q %v", out, err)
	}
	select {
	case p := <-notified:
		if p != "quarantine:gifct/g-17" {
			t.Fatalf("announced %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("quarantine not announced")
	}
	if out, _, _ := run("quarantined"); !lineHas(out, "gifct", "g-17", "quarantined") {
		t.Fatalf("not listed: %q", out)
	}
	var actor, details string
	if err := s.Pool.QueryRow(ctx, `SELECT actor, details::text FROM audit_events WHERE action = 'bank_quarantine' AND subject = 'bank:gifct/g-17'`).
		Scan(&actor, &details); err != nil || actor != "rita" || !strings.Contains(details, "a meme: 28 of 30 no violation") || !strings.Contains(details, `"manual": true`) {
		t.Fatalf("audit: %s %s %v", actor, details, err)
	}
	// A worker's automatic record does not undo it; a confirmation does.
	if ok, err := store.RecordQuarantine(ctx, "vigil-ingest", hashbank.QuarantineState{Bank: "gifct", EntryID: "g-17"}); err != nil || ok {
		t.Fatalf("automatic record over a manual quarantine: %v %v", ok, err)
	}
	if q, err := store.Quarantined(ctx); err != nil || len(q) != 1 || q[0] != [2]string{"gifct", "g-17"} {
		t.Fatalf("quarantined %v %v", q, err)
	}
	out, _, err = run("quarantine", "--author", "rita", "-m", "still a meme", "gifct", "g-17")
	if err != nil || !strings.Contains(out, "was quarantined already") {
		t.Fatalf("again: %q %v", out, err)
	}
	if out, _, err := run("confirm", "--author", "rita", "-m", "on second thoughts", "gifct", "g-17"); err != nil || !strings.Contains(out, "released from quarantine") {
		t.Fatalf("confirm: %q %v", out, err)
	}
}

// lineHas reports whether some line of out holds every field, in order.
func lineHas(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := line, true
		for _, f := range fields {
			i := strings.Index(rest, f)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(f):]
		}
		if ok {
			return true
		}
	}
	return false
}
