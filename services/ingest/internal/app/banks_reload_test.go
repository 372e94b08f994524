package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// unbankedImage is a demo picture in no bank of rules/banks.
const unbankedImage = 6

// imagePosts returns posts prefix-start … prefix-(start+n-1), each with
// the inline PNG of demo picture img and an innocent text.
func imagePosts(t *testing.T, prefix string, start, n, img int) []kafkago.Message {
	t.Helper()
	png := pngBytes(t, demoimage.Image(img))
	var out []kafkago.Message
	for i := start; i < start+n; i++ {
		id := fmt.Sprintf("%s-%05d", prefix, i)
		p := withMedia(basePost(id, "look at this"), moderation.Media{ID: "m1", MIME: "image/png", Data: png})
		out = append(out, kafkago.Message{Key: []byte(id), Value: postJSON(t, p)})
	}
	return out
}

// phashBank is a one-entry pHash bank holding demo picture img.
func phashBank(t *testing.T, name string, img int) hashbank.Bank {
	t.Helper()
	h, err := imagehash.PHash(demoimage.Image(img))
	if err != nil {
		t.Fatal(err)
	}
	return hashbank.Bank{Name: name, HashType: imagehash.TypePHash, Source: "reload-test",
		Entries: []hashbank.Entry{{ID: "e-1", Hash: h.String(), Category: "terrorist_content", Source: "tat", ExternalID: "tat-1"}}}
}

// importBank stores b as vigilctl banks import does: the bank, its audit
// event and the workers' notification in one transaction.
func importBank(t *testing.T, store *postgres.BankStore, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, b hashbank.Bank) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := store.PutBankTx(ctx, tx, b); err != nil {
			return err
		}
		_, err := postgres.AppendAudit(ctx, tx, time.Now(), "reload-test", moderation.AuditBankImport, "bank:"+b.Name, nil)
		return err
	})
	if err != nil {
		t.Fatalf("importing bank %s: %v", b.Name, err)
	}
}

// readyBanks returns /readyz's info.banks.
func readyBanks(addr string) string {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var body struct {
		Info map[string]string `json:"info"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	return body.Info["banks"]
}

// TestBanksHotReload imports a bank into Postgres while the real worker
// consumes image posts: the worker switches to the union of its bank files
// and the stored banks without a restart, every post is processed once,
// posts sent after the switch are flagged by the imported bank, and a
// stored bank named like a file bank replaces it.
func TestBanksHotReload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	store := postgres.NewBankStore(e.schema.Pool, nil)
	cfg := e.config()
	cfg.BanksDir = moderationtest.RepoRoot(t) + "/rules/banks"
	// Every post shows the same picture: keep the bad-entry guard out of it.
	cfg.BankGuardMinMatches = 1 << 30
	w := startWorker(t, cfg)
	// Ready to serve HTTP comes first; the banks once Postgres answered.
	waitFor(t, 30*time.Second, "the two file banks on /readyz", func() bool { return readyBanks(w.addr) == "demo:file:5,demo-phash:file:5" })

	// Phase A: the picture is in no bank.
	produce(t, e.brokers, e.topic, imagePosts(t, "a", 0, 20, unbankedImage), 0)
	waitFor(t, 60*time.Second, "phase A consumed", func() bool { return counter(t, w.reg, "vigil_ingest_posts_consumed_total") >= 20 })
	if n := itemCount(t, e.schema); n != 0 {
		t.Fatalf("%d items before the import, want 0", n)
	}

	// Phase B: import a bank holding it while posts stream in.
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		wr := writer(e.brokers, e.topic)
		defer wr.Close()
		for i := 0; i < 200; i += 10 {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := wr.WriteMessages(ctx, imagePosts(t, "b", i, 10, unbankedImage)...)
			cancel()
			if err != nil {
				t.Errorf("producing: %v", err)
				return
			}
			sent.Store(int64(i + 10))
			time.Sleep(25 * time.Millisecond)
		}
	}()
	for sent.Load() < 50 {
		time.Sleep(10 * time.Millisecond)
	}
	importBank(t, store, e.schema.Pool, phashBank(t, "imported", unbankedImage))
	imported := time.Now()
	waitFor(t, 15*time.Second, "imported bank active", func() bool {
		return counter(t, w.reg, "vigil_banks_entries", "bank", "imported", "origin", "postgres") == 1 &&
			strings.Contains(readyBanks(w.addr), "imported:postgres:1")
	})
	switchedAfter := sent.Load()
	t.Logf("imported bank active %v after the import, %d of 200 phase-B posts sent by then", time.Since(imported).Round(time.Millisecond), switchedAfter)
	<-done
	waitFor(t, 60*time.Second, "phase B consumed", func() bool { return counter(t, w.reg, "vigil_ingest_posts_consumed_total") >= 220 })
	got := queued(t, e.schema)
	flagged := 0
	for i := range 200 {
		id := fmt.Sprintf("b-%05d", i)
		keys, ok := got[id]
		if ok {
			flagged++
			if len(keys) != 1 || keys[0] != "bank:imported:e-1:m1" {
				t.Fatalf("%s matches %v, want the imported entry", id, keys)
			}
		} else if int64(i) >= switchedAfter {
			t.Fatalf("%s sent after the switch is not flagged", id)
		}
	}
	if len(got) != flagged {
		t.Fatalf("%d items, %d of them phase-B posts: phase-A posts flagged", len(got), flagged)
	}
	var hashType, category string
	var distance int
	if err := e.schema.Pool.QueryRow(context.Background(), `
SELECT m.hash_type, m.category, m.distance FROM review_matches m WHERE m.match_key = 'bank:imported:e-1:m1' LIMIT 1`).
		Scan(&hashType, &category, &distance); err != nil {
		t.Logf("match details not checked: %v", err)
	} else if hashType != "phash" || category != "terrorist_content" || distance != 0 {
		t.Errorf("match %s %s %d", hashType, category, distance)
	}

	// Phase C: a stored bank named like a file bank replaces it (demo
	// picture 0 is in the file's demo-phash; the stored one holds picture 6
	// only), and a deletion is picked up too.
	importBank(t, store, e.schema.Pool, phashBank(t, "demo-phash", unbankedImage))
	waitFor(t, 15*time.Second, "stored demo-phash active", func() bool {
		return counter(t, w.reg, "vigil_banks_entries", "bank", "demo-phash", "origin", "postgres") == 1
	})
	if err := store.DeleteBank(context.Background(), "imported"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "imported bank gone", func() bool {
		return !strings.Contains(readyBanks(w.addr), "imported")
	})
	before := itemCount(t, e.schema)
	produce(t, e.brokers, e.topic, imagePosts(t, "c", 0, 5, unbankedImage), 0)
	waitItems(t, e, before+5, 60*time.Second)
	got = queued(t, e.schema)
	for i := range 5 {
		id := fmt.Sprintf("c-%05d", i)
		if keys := got[id]; len(keys) != 1 || keys[0] != "bank:demo-phash:e-1:m1" {
			t.Fatalf("%s matches %v, want the stored demo-phash entry", id, keys)
		}
	}
	if !strings.Contains(w.logs.String(), "using the one in Postgres") {
		t.Error("the replaced file bank was not logged")
	}
}

// TestBankQuarantinePersists: an entry the guard quarantines is recorded
// in Postgres (audited), a restarted worker starts with it quarantined,
// and a rule engineer's confirmation puts it back in service on the
// running worker.
func TestBankQuarantinePersists(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	ctx := context.Background()
	store := postgres.NewBankStore(e.schema.Pool, nil)
	importBank(t, store, e.schema.Pool, phashBank(t, "flood", unbankedImage))
	cfg := e.config()
	// Quarantine an entry on its third match if it matched over half of
	// the media: the first two are flagged.
	cfg.BankGuardMinMatches = 3
	cfg.BankGuardMaxShare = 0.5

	w1 := startWorker(t, cfg)
	produce(t, e.brokers, e.topic, imagePosts(t, "a", 0, 10, unbankedImage), 0)
	waitFor(t, 60*time.Second, "first worker consumed", func() bool { return counter(t, w1.reg, "vigil_ingest_posts_consumed_total") >= 10 })
	if n := itemCount(t, e.schema); n != 2 {
		t.Fatalf("%d items, want 2 (then the entry is quarantined)", n)
	}
	waitFor(t, 15*time.Second, "quarantine recorded", func() bool {
		q, err := store.Quarantined(ctx)
		return err == nil && len(q) == 1 && q[0] == [2]string{"flood", "e-1"}
	})
	if v := counter(t, w1.reg, "vigil_hashbank_quarantined_entries"); v != 1 {
		t.Errorf("quarantined gauge %v, want 1", v)
	}
	var actor string
	if err := e.schema.Pool.QueryRow(ctx, `SELECT actor FROM audit_events WHERE action = 'bank_quarantine' AND subject = 'bank:flood/e-1'`).Scan(&actor); err != nil {
		t.Fatalf("quarantine not audited: %v", err)
	}
	w1.stop(t)

	// A restart keeps it quarantined.
	w2 := startWorker(t, cfg)
	waitFor(t, 30*time.Second, "restarted worker: quarantined gauge 1", func() bool {
		return counter(t, w2.reg, "vigil_hashbank_quarantined_entries") == 1
	})
	produce(t, e.brokers, e.topic, imagePosts(t, "b", 0, 5, unbankedImage), 0)
	waitFor(t, 60*time.Second, "second worker consumed", func() bool { return counter(t, w2.reg, "vigil_ingest_posts_consumed_total") >= 5 })
	if n := itemCount(t, e.schema); n != 2 {
		t.Fatalf("%d items after the restart, want still 2", n)
	}

	// Confirmed: back in service without a restart, and exempt from the
	// share rule.
	if was, err := store.Confirm(ctx, "rita", "flood", "e-1", "a real banked image"); err != nil || !was {
		t.Fatalf("confirm: %v %v", was, err)
	}
	waitFor(t, 15*time.Second, "confirmation applied", func() bool { return counter(t, w2.reg, "vigil_hashbank_quarantined_entries") == 0 })
	produce(t, e.brokers, e.topic, imagePosts(t, "c", 0, 10, unbankedImage), 0)
	waitItems(t, e, 12, 60*time.Second)
	got := queued(t, e.schema)
	for i := range 10 {
		if _, ok := got[fmt.Sprintf("c-%05d", i)]; !ok {
			t.Fatalf("c-%05d not flagged after the confirmation", i)
		}
	}
}
