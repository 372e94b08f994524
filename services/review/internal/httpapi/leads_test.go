package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestDecisionsFilters: the decision listing narrows by the post's id on
// its platform, actor name, action and a half-open period, and pages the latest first with
// before_id (the leads' page lists them so).
func TestDecisionsFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	start := e.clock.Now()
	if _, err := e.schema.Pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
SELECT 'p'||g, 'test', 'a', 'post '||g, 'en', $1, $1, 'spam', 2, $1::timestamptz + interval '1 hour'
FROM generate_series(1, 4) g`, start); err != nil {
		t.Fatal(err)
	}
	ann, bob := e.user("ann", moderation.RoleModerator), e.user("bob", moderation.RoleModerator)
	auditor := e.session(e.user("aud", moderation.RoleAuditor))
	// Decisions 1 to 4, a minute apart: ann removes, bob clears, ann
	// clears, bob removes.
	for i, d := range []struct {
		who    moderation.User
		action moderation.Action
		code   string
	}{{ann, "remove", "SPAM-1"}, {bob, "no_violation", "NV-1"}, {ann, "no_violation", "NV-1"}, {bob, "remove", "SPAM-1"}} {
		items, err := e.reviews.Claim(ctx, d.who, moderation.ClaimFilter{})
		if err != nil || len(items) != 1 {
			t.Fatalf("claim %d: %v %v", i, items, err)
		}
		if _, err := e.reviews.Decide(ctx, d.who, false, items[0].ID, moderation.DecisionInput{Action: d.action, ReasonCode: d.code}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
	}
	ids := func(query string) string {
		t.Helper()
		var out struct {
			Decisions []moderation.Decision `json:"decisions"`
		}
		e.must(e.do(auditor, "GET", "/api/v1/decisions?"+query, nil), 200).decode(t, &out)
		var s []string
		for _, d := range out.Decisions {
			s = append(s, fmt.Sprint(d.ID))
		}
		return strings.Join(s, ",")
	}
	at := func(d time.Duration) string { return url.QueryEscape(start.Add(d).Format(time.RFC3339)) }
	for query, want := range map[string]string{
		"":                               "1,2,3,4",
		"order=asc":                      "1,2,3,4",
		"order=desc":                     "4,3,2,1",
		"order=desc&limit=2":             "4,3",
		"order=desc&limit=2&before_id=3": "2,1",
		"actor=ann":                      "1,3",
		"actor=bob&order=desc":           "4,2",
		"actor=nobody":                   "",
		"action=no_violation":            "2,3",
		"action=remove&actor=bob":        "4",
		"since=" + at(time.Minute) + "&until=" + at(3*time.Minute): "2,3",
		"until=" + at(time.Minute):                                 "1",
		"after_id=1&before_id=4":                                   "2,3",
		"post_id=p3":                                               "3",
		"post_id=p2&actor=ann":                                     "",
		"post_id=p9":                                               "",
	} {
		if got := ids(query); got != want {
			t.Errorf("GET /api/v1/decisions?%s: ids %q, want %q", query, got, want)
		}
	}
	for query, msg := range map[string]string{
		"action=delete":                       "action must be one of remove, no_violation, escalate, report",
		"order=newest":                        "order must be one of asc, desc",
		"before_id=0":                         "before_id must be an integer",
		"until=tomorrow":                      "until must be an RFC 3339 timestamp",
		"actor=" + strings.Repeat("a", 65):    "actor is longer than 64 bytes",
		"post_id=" + strings.Repeat("p", 257): "longer than 256 bytes",
	} {
		r := e.do(auditor, "GET", "/api/v1/decisions?"+query, nil)
		if r.status != 400 || !strings.Contains(string(r.body), msg) {
			t.Errorf("GET /api/v1/decisions?%s: %d %s, want 400 saying %q", query, r.status, r.body, msg)
		}
	}
}

// TestAuditNewestFirst: the audit log reads the latest events first with
// order=desc and pages back with before_seq, filters still applying.
func TestAuditNewestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, err := e.schema.Pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
SELECT 'p'||g, 'test', 'a', 'post '||g, 'en', $1, $1, 'spam', 2, $1::timestamptz + interval '1 hour'
FROM generate_series(1, 3) g`, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	lead := e.user("lead", moderation.RoleLead)
	auditor := e.session(e.user("aud", moderation.RoleAuditor))
	for id := int64(1); id <= 3; id++ {
		if _, err := e.reviews.PlaceHold(ctx, lead, id, "case "+fmt.Sprint(id)); err != nil {
			t.Fatal(err)
		}
	}
	read := func(query string) []moderation.AuditEvent {
		t.Helper()
		var out struct {
			Events []moderation.AuditEvent `json:"events"`
		}
		e.must(e.do(auditor, "GET", "/api/v1/audit?"+query, nil), 200).decode(t, &out)
		return out.Events
	}
	all := read("action=legal_hold")
	if len(all) != 3 {
		t.Fatalf("%d legal_hold events, want 3", len(all))
	}
	seqs := func(evs []moderation.AuditEvent) []int64 {
		var s []int64
		for _, ev := range evs {
			s = append(s, ev.Seq)
		}
		return s
	}
	want := seqs(all)
	slices.Reverse(want)
	if got := seqs(read("action=legal_hold&order=desc")); !slices.Equal(got, want) {
		t.Errorf("order=desc: %v, want %v", got, want)
	}
	page := read("action=legal_hold&order=desc&limit=1")
	if got := seqs(read(fmt.Sprintf("action=legal_hold&order=desc&before_seq=%d", page[0].Seq))); !slices.Equal(got, want[1:]) {
		t.Errorf("the page before seq %d: %v, want %v", page[0].Seq, got, want[1:])
	}
	if got := read("action=legal_hold&order=desc&actor=someone-else"); len(got) != 0 {
		t.Errorf("another actor's events: %v", got)
	}
	for _, query := range []string{"order=up", "before_seq=0", "before_seq=x"} {
		if r := e.do(auditor, "GET", "/api/v1/audit?"+query, nil); r.status != 400 {
			t.Errorf("GET /api/v1/audit?%s: %d, want 400", query, r.status)
		}
	}
}
