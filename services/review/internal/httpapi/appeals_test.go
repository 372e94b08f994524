package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// appealsEnv seeds four items decided by a moderator and a lead, for the
// appeals tests: p1 removed by mod, p2 cleared by mod, p3 undecided, p4
// removed by lead1.
type appealsEnv struct {
	*env
	mod, lead1, lead2 moderation.User
	platform          cred // a token scoped appeals:submit, as the platform holds
	decisionOf        map[string]int64
}

func newAppealsEnv(t *testing.T) *appealsEnv {
	t.Helper()
	e := &appealsEnv{env: newEnv(t, nil), decisionOf: map[string]int64{}}
	ctx := context.Background()
	if _, err := e.schema.Pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, author_handle, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
SELECT 'p'||g, 'test', 'a', 'author'||g, '<b>post</b> '||g, 'en', $1, $1, 'terrorist_content', 2, $1::timestamptz + interval '1 hour'
FROM generate_series(1, 4) g`, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.mod = e.user("mod", moderation.RoleModerator)
	e.lead1 = e.user("lead1", moderation.RoleLead)
	e.lead2 = e.user("lead2", moderation.RoleLead)
	e.platform = e.token(e.user("platform-admin", moderation.RoleAdmin), moderation.PermAppealsSubmit)
	for _, d := range []struct {
		who    moderation.User
		post   string
		action moderation.Action
		code   string
	}{{e.mod, "p1", "remove", "TC-1"}, {e.mod, "p2", "no_violation", "NV-1"}, {e.lead1, "p4", "remove", "TC-2"}} {
		items, err := e.reviews.Claim(ctx, d.who, moderation.ClaimFilter{})
		if err != nil || len(items) != 1 || items[0].PostID != d.post {
			t.Fatalf("claiming %s: %v %v", d.post, items, err)
		}
		dec, err := e.reviews.Decide(ctx, d.who, false, items[0].ID, moderation.DecisionInput{Action: d.action, ReasonCode: d.code})
		if err != nil {
			t.Fatal(err)
		}
		e.decisionOf[d.post] = dec.ID
		if d.post == "p2" { // leave p3 undecided
			if _, err := e.schema.Pool.Exec(ctx, `UPDATE review_items SET severity = 1 WHERE post_id = 'p3'`); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Appeals come after the decisions (submit dates them an hour back).
	e.clock.Advance(2 * time.Hour)
	return e
}

func (e *appealsEnv) submit(post, appealID, statement string) reply {
	e.t.Helper()
	return e.do(e.platform, "POST", "/api/v1/appeals", map[string]any{
		"post_id": post, "appeal_id": appealID, "statement": statement, "received_at": e.clock.Now().Add(-time.Hour)})
}

func (e *appealsEnv) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.schema.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

type appealReply struct {
	Appeal moderation.Appeal `json:"appeal"`
}

// TestAppealIntake: the platform's intake records an appeal against a
// removal, idempotently on its appeal id, and refuses everything else
// with a clear 4xx.
func TestAppealIntake(t *testing.T) {
	t.Parallel()
	e := newAppealsEnv(t)
	statement := "Это была новость, не пропаганда <script>alert(1)</script>"
	var got appealReply
	r := e.must(e.submit("p1", "A-1", statement), 201)
	r.decode(t, &got)
	a := got.Appeal
	if a.ID == 0 || a.AppealID != "A-1" || a.PostID != "p1" || a.Statement != statement || a.ResolvedAt != nil ||
		a.Decision.ID != e.decisionOf["p1"] || a.Decision.Action != moderation.ActionRemove || a.Decision.ReasonCode != "TC-1" {
		t.Fatalf("appeal %+v", a)
	}
	// The platform is not told who decided (--actions-actor governs
	// that), nor the post it holds.
	if a.Decision.Actor != "" || a.Decision.ActorID != 0 || a.Item != (moderation.AppealItem{}) {
		t.Fatalf("the intake's answer names the moderator or carries the post: %s", r.body)
	}
	// The same complaint again: the stored appeal, 200.
	var again appealReply
	e.must(e.submit("p1", "A-1", statement), 200).decode(t, &again)
	if again.Appeal.ID != a.ID {
		t.Fatalf("repeat made appeal %d, want %d", again.Appeal.ID, a.ID)
	}
	// The same id for another complaint: 409.
	if r := e.submit("p1", "A-1", statement+"!"); r.status != 409 || !strings.Contains(string(r.body), "already submitted") {
		t.Fatalf("reused appeal id: %d %s", r.status, r.body)
	}
	if r := e.do(e.platform, "POST", "/api/v1/appeals", map[string]any{"post_id": "p1", "appeal_id": "A-1", "statement": statement,
		"received_at": e.clock.Now().Add(-2 * time.Hour)}); r.status != 409 {
		t.Fatalf("reused appeal id, other receipt time: %d %s", r.status, r.body)
	}
	if n := e.count(`SELECT count(*) FROM appeals`); n != 1 {
		t.Fatalf("%d appeals, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'appeal_received' AND actor = 'platform-admin'`); n != 1 {
		t.Fatalf("%d appeal_received events, want 1", n)
	}
	for _, c := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"post_id":"nope","appeal_id":"A-2","received_at":"2020-01-01T00:00:00Z"}`, 404, `no flagged post \"nope\"`},
		{`{"post_id":"p2","appeal_id":"A-2","received_at":"2020-01-01T00:00:00Z"}`, 409, "latest decision is no_violation: only removed or reported posts can be appealed"},
		{`{"post_id":"p3","appeal_id":"A-2","received_at":"2020-01-01T00:00:00Z"}`, 409, "has no final decision yet"},
		{`{"post_id":"p1","appeal_id":"A-2","received_at":"2020-01-01T00:00:00Z"}`, 409, `already has an open appeal (appeal_id \"A-1\")`},
		{`{"post_id":"p4","appeal_id":"A-2","received_at":"2020-01-01T00:00:00Z"}`, 400, "received_at 2020-01-01T00:00:00Z is before decision"},
		{`{"post_id":"p4","appeal_id":"A-2","statement":"a\u0000b","received_at":"2020-01-01T00:00:00Z"}`, 400, "statement: a string holds a NUL character"},
		{"{\"post_id\":\"p4\",\"appeal_id\":\"A-2\",\"statement\":\"a\xffb\",\"received_at\":\"2020-01-01T00:00:00Z\"}", 400, "the body must be UTF-8"},
		{`{"post_id":"p4","appeal_id":"A-2","statement":"` + strings.Repeat("ش", moderation.MaxStatementLen+1) + `","received_at":"2020-01-01T00:00:00Z"}`, 400, "statement is longer than 4000 characters"},
		{`{"post_id":"p4","appeal_id":"A-2"}`, 400, "received_at is required"},
		{`{"post_id":"p4","appeal_id":"A-2","received_at":"2999-01-01T00:00:00Z"}`, 400, "received_at is in the future"},
		{`{"post_id":"p4","received_at":"2020-01-01T00:00:00Z"}`, 400, "appeal_id must be 1 to 256 bytes"},
		{`{"post_id":"p4","appeal_id":"A\nB","received_at":"2020-01-01T00:00:00Z"}`, 400, "appeal_id must be 1 to 256 bytes"},
		{`{"post_id":"p4","appeal_id":"A-2","received_at":"yesterday"}`, 400, "malformed JSON body"},
		{`{"post_id":"p4","appeal_id":"A-2","received_at":"2020-01-01T00:00:00Z","user":"x"}`, 400, "unknown field"},
	} {
		r := e.do(e.platform, "POST", "/api/v1/appeals", c.body)
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s, want %d saying %q", c.body, r.status, r.body, c.status, c.want)
		}
	}
	// A statement of exactly the bound, in two-byte letters, is taken.
	e.must(e.submit("p4", "A-3", strings.Repeat("ش", moderation.MaxStatementLen)), 201)
	if n := e.count(`SELECT count(*) FROM appeals`); n != 2 {
		t.Fatalf("%d appeals after the refusals, want 2", n)
	}
	// The token's scope is all the platform holds.
	if r := e.do(e.platform, "GET", "/api/v1/appeals", nil); r.status != 403 {
		t.Fatalf("the intake token listing appeals: %d", r.status)
	}
}

// TestAppealResolution: a lead other than the decision's author upholds
// or reinstates, once; reinstating reverses the decision through the
// outbox like any reversal, upholding changes no decision; everything
// is audited and the chain verifies.
func TestAppealResolution(t *testing.T) {
	t.Parallel()
	e := newAppealsEnv(t)
	lead1, lead2 := e.session(e.lead1), e.session(e.lead2)
	auditor := e.session(e.user("aud", moderation.RoleAuditor))
	var a1, a4 appealReply
	e.must(e.submit("p1", "A-1", "mine"), 201).decode(t, &a1)
	e.clock.Advance(time.Minute)
	e.must(e.submit("p4", "A-4", "also mine"), 201).decode(t, &a4)

	// Listing: open ones, oldest received first.
	list := func(c cred, query string) []moderation.Appeal {
		t.Helper()
		var out struct {
			Appeals []moderation.Appeal `json:"appeals"`
		}
		e.must(e.do(c, "GET", "/api/v1/appeals"+query, nil), 200).decode(t, &out)
		return out.Appeals
	}
	ids := func(as []moderation.Appeal) string {
		var s []string
		for _, a := range as {
			s = append(s, fmt.Sprint(a.ID))
		}
		return strings.Join(s, ",")
	}
	if got, want := ids(list(auditor, "")), fmt.Sprintf("%d,%d", a1.Appeal.ID, a4.Appeal.ID); got != want {
		t.Fatalf("open appeals %s, want %s", got, want)
	}
	if got := ids(list(lead1, "?status=open&limit=1&offset=1")); got != fmt.Sprint(a4.Appeal.ID) {
		t.Fatalf("second page %s", got)
	}
	for _, q := range []string{"?status=closed", "?limit=0", "?offset=-1", "?page=2"} {
		if r := e.do(auditor, "GET", "/api/v1/appeals"+q, nil); r.status != 400 {
			t.Errorf("GET /api/v1/appeals%s: %d, want 400", q, r.status)
		}
	}

	resolve := func(c cred, id int64, body any) reply {
		t.Helper()
		return e.do(c, "POST", fmt.Sprintf("/api/v1/appeals/%d/decision", id), body)
	}
	for _, c := range []struct {
		body string
		want string
	}{
		{`{"outcome":"maybe","reason_code":"NV-1"}`, "outcome must be uphold or reinstate"},
		{`{"outcome":"reinstate","reason_code":"TC-1"}`, "reason code TC-1 does not apply to no_violation"},
		{`{"outcome":"uphold","reason_code":"NV-1"}`, "reason code NV-1 does not justify a removal or report"},
		{`{"outcome":"uphold","reason_code":"XX-9"}`, "unknown reason code"},
		{`{"outcome":"uphold","reason_code":"TC-1","note":"a\u0000b"}`, "note: a string holds a NUL character"},
	} {
		if r := resolve(lead2, a4.Appeal.ID, c.body); r.status != 400 || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s, want 400 saying %q", c.body, r.status, r.body, c.want)
		}
	}
	if r := resolve(lead2, 999999, `{"outcome":"uphold","reason_code":"TC-1"}`); r.status != 404 || !strings.Contains(string(r.body), "no appeal 999999") {
		t.Fatalf("unknown appeal: %d %s", r.status, r.body)
	}

	// Four eyes: lead1 decided p4 and may not resolve its appeal.
	if r := resolve(lead1, a4.Appeal.ID, map[string]string{"outcome": "uphold", "reason_code": "TC-2"}); r.status != 409 || !strings.Contains(string(r.body), "four-eyes rule") {
		t.Fatalf("resolving an appeal against one's own decision: %d %s", r.status, r.body)
	}

	decisions := e.count(`SELECT count(*) FROM decisions`)
	outbox := e.count(`SELECT count(*) FROM outbox`)
	// Upheld: the outcome only.
	var up appealReply
	e.must(resolve(lead2, a4.Appeal.ID, map[string]string{"outcome": "uphold", "reason_code": "TC-2", "note": "propaganda, clearly"}), 200).decode(t, &up)
	if up.Appeal.Outcome != moderation.AppealUpheld || up.Appeal.ResolvedBy != "lead2" || up.Appeal.ResolvedAt == nil ||
		up.Appeal.ReasonCode != "TC-2" || up.Appeal.Note != "propaganda, clearly" || up.Appeal.ReinstatementID != nil {
		t.Fatalf("upheld appeal %+v", up.Appeal)
	}
	if d, o := e.count(`SELECT count(*) FROM decisions`), e.count(`SELECT count(*) FROM outbox`); d != decisions || o != outbox {
		t.Fatalf("upholding wrote decisions %d→%d, outbox %d→%d", decisions, d, outbox, o)
	}
	// The platform retrying its intake learns the outcome, not who
	// resolved it or their note.
	r := e.must(e.do(e.platform, "POST", "/api/v1/appeals", map[string]any{
		"post_id": "p4", "appeal_id": "A-4", "statement": "also mine", "received_at": a4.Appeal.ReceivedAt}), 200)
	var again appealReply
	r.decode(t, &again)
	if again.Appeal.Outcome != moderation.AppealUpheld || strings.Contains(string(r.body), "lead") || strings.Contains(string(r.body), "propaganda") {
		t.Fatalf("the intake's answer after resolution: %s", r.body)
	}

	// Reinstated: a reversal to no_violation, announced through the outbox.
	e.clock.Advance(time.Minute)
	var re appealReply
	e.must(resolve(lead1, a1.Appeal.ID, map[string]string{"outcome": "reinstate", "reason_code": "NV-2", "note": "news report"}), 200).decode(t, &re)
	if re.Appeal.Outcome != moderation.AppealReinstated || re.Appeal.ResolvedBy != "lead1" || re.Appeal.ReinstatementID == nil ||
		re.Appeal.Item.Outcome != moderation.ActionNoViolation {
		t.Fatalf("reinstated appeal %+v", re.Appeal)
	}
	var reverses int64
	var action, actor string
	if err := e.schema.Pool.QueryRow(context.Background(), `
SELECT d.reverses, d.action, u.username FROM decisions d JOIN users u ON u.id = d.actor_id WHERE d.id = $1`,
		*re.Appeal.ReinstatementID).Scan(&reverses, &action, &actor); err != nil {
		t.Fatal(err)
	}
	if reverses != e.decisionOf["p1"] || action != "no_violation" || actor != "lead1" {
		t.Fatalf("reinstatement decision reverses %d action %s actor %s", reverses, action, actor)
	}
	var payload []byte
	if err := e.schema.Pool.QueryRow(context.Background(), `
SELECT payload FROM outbox WHERE topic = $1 AND (payload->>'decision_id')::bigint = $2`, moderation.TopicActions, *re.Appeal.ReinstatementID).Scan(&payload); err != nil {
		t.Fatalf("no outbox message for the reinstatement: %v", err)
	}
	var msg moderation.ActionMessage
	if err := json.Unmarshal(payload, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.PostID != "p1" || msg.Action != moderation.ActionNoViolation || msg.Reverses == nil || *msg.Reverses != e.decisionOf["p1"] {
		t.Fatalf("outbox message %+v", msg)
	}

	// Once only.
	for _, id := range []int64{a1.Appeal.ID, a4.Appeal.ID} {
		if r := resolve(lead2, id, map[string]string{"outcome": "uphold", "reason_code": "TC-1"}); r.status != 409 || !strings.Contains(string(r.body), "already resolved") {
			t.Fatalf("resolving appeal %d again: %d %s", id, r.status, r.body)
		}
	}
	// p1 is reinstated, so no longer appealable; p4's removal stands and
	// may be appealed again.
	if r := e.submit("p1", "A-5", ""); r.status != 409 {
		t.Fatalf("appeal of a reinstated post: %d %s", r.status, r.body)
	}
	var a6 appealReply
	e.must(e.submit("p4", "A-6", "again"), 201).decode(t, &a6)
	// A lead reverses p4's removal directly, to a report: the appeal now
	// stands against the report, lead2's own decision, which lead2 may
	// neither reinstate nor uphold (four eyes).
	var reversed struct {
		Decision moderation.Decision `json:"decision"`
	}
	e.must(e.do(lead2, "POST", fmt.Sprintf("/api/v1/decisions/%d/reverse", e.decisionOf["p4"]), map[string]string{"action": "report", "reason_code": "TC-2", "note": "to police"}), 201).decode(t, &reversed)
	toReport := reversed.Decision
	for outcome, reason := range map[string]string{"reinstate": "NV-1", "uphold": "TC-2"} {
		if r := resolve(lead2, a6.Appeal.ID, map[string]string{"outcome": outcome, "reason_code": reason}); r.status != 409 || !strings.Contains(string(r.body), "four-eyes rule") {
			t.Fatalf("%s by the author of the reversal the appeal now stands against: %d %s", outcome, r.status, r.body)
		}
	}
	if got := list(auditor, "?status=open"); len(got) != 1 || got[0].ID != a6.Appeal.ID || got[0].Decision.ID != toReport.ID {
		t.Fatalf("open after a refused resolution: %+v, want appeal %d against decision %d", got, a6.Appeal.ID, toReport.ID)
	}
	if got := ids(list(auditor, "?status=resolved")); got != fmt.Sprintf("%d,%d", a1.Appeal.ID, a4.Appeal.ID) {
		t.Fatalf("resolved appeals %s", got)
	}
	if got := list(auditor, "?status=all"); len(got) != 3 {
		t.Fatalf("all appeals: %d", len(got))
	}

	if n := e.count(`SELECT count(*) FROM audit_events WHERE action = 'appeal_resolved'`); n != 2 {
		t.Fatalf("%d appeal_resolved events, want 2", n)
	}
	var v moderation.AuditVerification
	e.must(e.do(auditor, "GET", "/api/v1/audit/verify", nil), 200).decode(t, &v)
	if !v.OK {
		t.Fatalf("audit chain: %+v", v)
	}
}
