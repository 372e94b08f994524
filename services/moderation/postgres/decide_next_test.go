package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestDecideAndClaim: the decision is Decide's, the claim Claim's, both
// audited in that order; nothing is claimed when the decision fails.
func TestDecideAndClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	// Severities 2, 3, 4, 1: claim order 3, 2, 1, 4.
	seed(t, f.s.Pool, 4, f.clock.Now(), "")
	mod := f.user(t, "mod", moderation.RoleModerator)
	other := f.user(t, "other", moderation.RoleModerator)
	first, err := f.reviews.Claim(ctx, mod, moderation.ClaimFilter{})
	if err != nil || len(first) != 1 || first[0].ID != 3 {
		t.Fatalf("claim: %+v %v", first, err)
	}
	remove := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}
	d, next, err := f.reviews.DecideAndClaim(ctx, mod, false, 3, remove, moderation.ClaimFilter{Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 || d.ItemID != 3 || d.ClaimedAt == nil || d.SLADeadline.IsZero() || d.Actor != "mod" {
		t.Fatalf("decision %+v", d)
	}
	if len(next) != 2 || next[0].ID != 2 || next[1].ID != 1 {
		t.Fatalf("next items %+v, want 2 then 1", next)
	}
	for _, it := range next {
		if it.Status != moderation.StatusClaimed || it.ClaimedBy == nil || *it.ClaimedBy != mod.ID || it.LeaseExpiresAt == nil ||
			it.Matches == nil || it.Media == nil {
			t.Fatalf("next item %+v", it)
		}
	}
	// Not held: nothing decided, nothing claimed.
	if _, _, err := f.reviews.DecideAndClaim(ctx, mod, false, 3, remove, moderation.ClaimFilter{}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("deciding a decided item: %v, want ErrConflict", err)
	}
	if _, _, err := f.reviews.DecideAndClaim(ctx, other, false, 2, remove, moderation.ClaimFilter{}); !errors.Is(err, moderation.ErrConflict) {
		t.Fatalf("deciding another's item: %v, want ErrConflict", err)
	}
	if _, _, err := f.reviews.DecideAndClaim(ctx, mod, false, 999, remove, moderation.ClaimFilter{}); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("deciding an unknown item: %v, want ErrNotFound", err)
	}
	if _, _, err := f.reviews.DecideAndClaim(ctx, mod, false, 2, remove, moderation.ClaimFilter{Count: moderation.MaxClaim + 1}); !errors.Is(err, moderation.ErrInvalid) {
		t.Fatalf("bad count: %v, want ErrInvalid", err)
	}
	if it, err := f.reviews.Get(ctx, 4); err != nil || it.Status != moderation.StatusPending {
		t.Fatalf("item 4 after refused decisions: %s %v", it.Status, err)
	}
	// Escalate and take the last one.
	d, next, err = f.reviews.DecideAndClaim(ctx, mod, false, 2, moderation.DecisionInput{Action: moderation.ActionEscalate, ReasonCode: "ESC-1"}, moderation.ClaimFilter{Count: 5})
	if err != nil || len(next) != 1 || next[0].ID != 4 {
		t.Fatalf("escalate and next: %+v %v", next, err)
	}
	if it, err := f.reviews.Get(ctx, 2); err != nil || it.Status != moderation.StatusEscalated || it.Queue != moderation.QueueLeads {
		t.Fatalf("escalated item: %s %s %v", it.Status, it.Queue, err)
	}
	// The queue is empty: the decision alone.
	d, next, err = f.reviews.DecideAndClaim(ctx, mod, false, 1, moderation.DecisionInput{Action: moderation.ActionNoViolation, ReasonCode: "NV-1"}, moderation.ClaimFilter{})
	if err != nil || next == nil || len(next) != 0 || d.ItemID != 1 {
		t.Fatalf("decide with an empty queue: %+v %+v %v", d, next, err)
	}
	st, err := f.reviews.Stats(ctx, f.clock.Now().AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	if st.DecisionsBy[moderation.ActionRemove] != 1 || st.DecisionsBy[moderation.ActionEscalate] != 1 || st.DecisionsBy[moderation.ActionNoViolation] != 1 {
		t.Fatalf("stats %+v", st)
	}
	var outbox int
	if err := f.s.Pool.QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&outbox); err != nil || outbox != 2 {
		t.Fatalf("%d outbox rows (%v), want 2", outbox, err)
	}
	evs, err := postgres.ReadAudit(ctx, f.s.Pool, moderation.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range evs {
		if e.Action == moderation.AuditClaim || e.Action == moderation.AuditDecision {
			trail = append(trail, e.Action+" "+e.Subject)
		}
	}
	want := "[claim item:3 decision item:3 claim items decision item:2 claim item:4 decision item:1]"
	if fmt.Sprint(trail) != want {
		t.Fatalf("audit trail %v, want %s", trail, want)
	}
	if br, _, err := postgres.VerifyAudit(ctx, f.s.Pool); err != nil || br != nil {
		t.Fatalf("audit chain: %+v %v", br, err)
	}
}

// TestDecideAndClaimConcurrency: 50 moderators drain 10,000 items by
// submit-and-next; every item is handed out exactly once and decided.
func TestDecideAndClaimConcurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const items, mods = 10000, 50
	seed(t, f.s.Pool, items, f.clock.Now(), "")
	users := make([]moderation.User, mods)
	for i := range users {
		users[i] = f.user(t, fmt.Sprintf("mod%02d", i), moderation.RoleModerator)
	}
	remove := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "TC-1"}
	var mu sync.Mutex
	got := map[int64]int64{}
	var wg sync.WaitGroup
	errs := make(chan error, mods)
	record := func(u moderation.User, claimed []moderation.Item) error {
		mu.Lock()
		defer mu.Unlock()
		for _, it := range claimed {
			if prev, dup := got[it.ID]; dup {
				return fmt.Errorf("item %d handed to users %d and %d", it.ID, prev, u.ID)
			}
			got[it.ID] = u.ID
		}
		return nil
	}
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 1 + int(u.ID%3) // mixed batch sizes
			held, err := f.reviews.Claim(ctx, u, moderation.ClaimFilter{Count: n})
			if err == nil {
				err = record(u, held)
			}
			for err == nil && len(held) > 0 {
				it := held[0]
				held = held[1:]
				if len(held) > 0 {
					_, err = f.reviews.Decide(ctx, u, false, it.ID, remove)
					continue
				}
				_, held, err = f.reviews.DecideAndClaim(ctx, u, false, it.ID, remove, moderation.ClaimFilter{Count: n})
				if err == nil {
					err = record(u, held)
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(got) != items {
		t.Fatalf("handed out %d distinct items, want %d", len(got), items)
	}
	var undecided, decisions int
	if err := f.s.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM review_items WHERE status <> 'decided'), (SELECT count(*) FROM decisions)`).
		Scan(&undecided, &decisions); err != nil || undecided != 0 || decisions != items {
		t.Fatalf("%d items undecided, %d decisions (err %v)", undecided, decisions, err)
	}
	if br, n, err := postgres.VerifyAudit(ctx, f.s.Pool); err != nil || br != nil || n < items+mods {
		t.Fatalf("audit chain after concurrent decisions: %+v %d events %v", br, n, err)
	}
}

// TestDecideAndClaimShareStatement: submit-and-next requests and claims
// that meet in a batch with the same claim filter run as one statement,
// with the outcome each would have had alone: a refused decision fails alone (the
// others are re-run), a request for an item another request of the batch
// decides, or for an item not held, gets ErrConflict and claims nothing,
// an escalation moves its item to the leads queue, another filter runs
// apart; no item is handed out twice, and every act has its audit event.
func TestDecideAndClaimShareStatement(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	reviews := postgres.NewReviews(f.s.Pool, postgres.ReviewOptions{Clock: f.clock, Lease: 10 * time.Minute, Writers: 1})
	seed(t, f.s.Pool, 60, f.clock.Now().Add(-time.Hour), "")
	const mods = 12
	users := make([]moderation.User, mods+2) // the last two only claim
	held := make([]int64, mods)
	for i := range users {
		users[i] = f.user(t, fmt.Sprintf("sn%02d", i), moderation.RoleModerator)
		if i >= mods {
			continue
		}
		got, err := reviews.Claim(ctx, users[i], moderation.ClaimFilter{Count: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
		held[i] = got[0].ID
	}
	const (
		refused   = 3  // a decision the database refuses
		escalates = 5  // escalates its item
		twoNext   = 7  // asks for two next items: another filter
		notHeld   = 9  // decides an item another moderator holds
		twice     = 12 // a second request of moderator 1 for its item
		claims    = 13 // and 14: claim 1 and 3 items
	)
	remove := moderation.DecisionInput{Action: moderation.ActionRemove, ReasonCode: "HATE-1"}
	errs := make([]error, claims+2)
	next := make([][]moderation.Item, claims+2)
	decided := make([]moderation.Decision, claims+2)
	merged := reviews.WriteStats().Shared
	pileUp(t, f, reviews, claims+2, func(i int) {
		if i >= claims {
			next[i], errs[i] = reviews.Claim(ctx, users[i-claims+mods], moderation.ClaimFilter{Count: 1 + 2*(i-claims)})
			return
		}
		u, item, in, filter := i, held[min(i, mods-1)], remove, moderation.ClaimFilter{Count: 1}
		switch i {
		case refused:
			in = bogus
		case escalates:
			in = moderation.DecisionInput{Action: moderation.ActionEscalate, ReasonCode: "ESC-1"}
		case twoNext:
			filter.Count = 2
		case notHeld:
			item = held[notHeld+1]
		case twice:
			u, item = 1, held[1]
		}
		decided[i], next[i], errs[i] = reviews.DecideAndClaim(ctx, users[u], false, item, in, filter)
	})
	if n := reviews.WriteStats().Shared - merged; n < 10 {
		t.Fatalf("%d requests ran in a shared statement, want the 10 or more that could", n)
	}
	handed := map[int64]int{}
	for _, id := range held {
		handed[id] = -1
	}
	conflicts := 0
	for i, err := range errs {
		switch {
		case i == refused:
			if !errors.Is(err, moderation.ErrInvalid) {
				t.Errorf("refused decision: %v, want ErrInvalid", err)
			}
			continue
		case i == notHeld || i == 1 || i == twice:
			if errors.Is(err, moderation.ErrConflict) {
				conflicts++
				if len(next) > 0 && len(next[i]) > 0 {
					t.Errorf("request %d failed but claimed %v", i, next[i])
				}
				continue
			}
		}
		if err != nil {
			t.Errorf("request %d: %v", i, err)
			continue
		}
		want := 1
		switch i {
		case twoNext:
			want = 2
		case claims + 1:
			want = 3
		}
		if len(next[i]) != want || (i < claims) != (decided[i].ID != 0) {
			t.Errorf("request %d: decision %d, %d next items, want %d", i, decided[i].ID, len(next[i]), want)
		}
		for _, it := range next[i] {
			if prev, dup := handed[it.ID]; dup {
				t.Errorf("item %d handed to request %d, already %d", it.ID, i, prev)
			}
			handed[it.ID] = i
			u := i
			switch {
			case i == twice:
				u = 1
			case i >= claims:
				u = i - claims + mods
			}
			if it.Status != moderation.StatusClaimed || it.ClaimedBy == nil || *it.ClaimedBy != users[u].ID || it.Matches == nil {
				t.Errorf("request %d: next item %+v", i, it)
			}
		}
	}
	// The item decided twice is decided once; the moderator who asked
	// for another's item still holds their own.
	if conflicts != 2 {
		t.Errorf("%d requests refused as not holding their item, want 2 (one of moderator 1's, and the one for another's item)", conflicts)
	}
	if it, err := reviews.Get(ctx, held[escalates]); err != nil || it.Status != moderation.StatusEscalated || it.Queue != moderation.QueueLeads {
		t.Errorf("escalated item: %s %s %v", it.Status, it.Queue, err)
	}
	if it, err := reviews.Get(ctx, held[notHeld]); err != nil || it.Status != moderation.StatusClaimed || *it.ClaimedBy != users[notHeld].ID {
		t.Errorf("item of the moderator who decided another's: %s %v", it.Status, err)
	}
	ok := mods - 2 // every held item but the refused one's and notHeld's own
	var decisions, decisionEvents, claimEvents, outbox int
	err := f.s.Pool.QueryRow(ctx, `
SELECT (SELECT count(*) FROM decisions), (SELECT count(*) FROM audit_events WHERE action = 'decision'),
    (SELECT count(*) FROM audit_events WHERE action = 'claim'), (SELECT count(*) FROM outbox)`).
		Scan(&decisions, &decisionEvents, &claimEvents, &outbox)
	if err != nil {
		t.Fatal(err)
	}
	if decisions != ok || decisionEvents != ok || outbox != ok-1 || claimEvents != mods+ok+2 {
		t.Errorf("%d decisions, %d decision events, %d outbox rows, %d claim events; want %d, %d, %d, %d",
			decisions, decisionEvents, outbox, claimEvents, ok, ok, ok-1, mods+ok+2)
	}
	if br, _, err := postgres.VerifyAudit(ctx, f.s.Pool); err != nil || br != nil {
		t.Fatalf("audit chain: %+v %v", br, err)
	}
}
