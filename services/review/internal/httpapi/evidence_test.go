package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/evidence"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/review/internal/httpapi"
)

// hostileText is a post text that must reach the manifest byte for byte:
// markup, JSON and path look-alikes, a bidi override, CRLF, a lone
// combining mark, emoji and a zero-width joiner, and backslashes.
const hostileText = "<script>alert(1)</script>\"}],\"x\":{\r\n../../etc/passwd \u202eevil\u202c \u0301 " +
	"👩\u200d💻 C:\\Windows\\ & &amp; \\u0000 ' \t end"

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// evidenceItem queues a post with two stored media (the first larger than
// one read chunk) and a third only referenced, and returns its id and the
// media bytes.
func evidenceItem(t *testing.T, e *env) (int64, []byte, []byte) {
	t.Helper()
	ctx := context.Background()
	big := make([]byte, 1<<20+12345) // crosses the 1 MiB read chunk
	_, _ = rand.Read(big)
	small := []byte("\x89PNG\r\n\x1a\n not really a png, but bytes are bytes")
	at := e.clock.Now().Add(-time.Hour)
	f := moderation.Flag{
		Post: moderation.Post{V: 1, ID: "post-ev-1", Platform: "test", Author: moderation.Author{ID: "auth-1", Handle: "<b>handle</b>"},
			Text: hostileText, Lang: "ar", URL: "https://example.test/p/1?a=<x>", CreatedAt: at.Add(-time.Minute)},
		Verdict: moderation.Verdict{PostID: "post-ev-1", Matches: []moderation.Match{
			{RuleID: "tc.recruit", RuleVersion: 7, Category: "terrorist_content", Severity: moderation.SeverityCritical,
				Spans: []moderation.Span{{Start: 0, End: 8}}},
			{Bank: "terror-hashes", EntryID: "flag/7", HashType: "pdq", Distance: 0, MediaID: "m1", Hash: "b74ec9b7c15d2a08",
				Category: "terrorist_content", Severity: moderation.SeverityHigh},
		}},
		FlaggedAt: at,
		Source:    moderation.Source{Topic: "posts", Partition: 0, Offset: 1},
		Evidence: []moderation.Evidence{
			{MediaID: "m1", MIME: "image/jpeg", URL: "https://cdn.example.test/1.jpg", SHA256: sha(big), Bytes: big},
			{MediaID: "m2", MIME: "image/png", URL: "https://cdn.example.test/2.png", SHA256: sha(small), Bytes: small},
			{MediaID: "m3", MIME: "image/gif", URL: "https://cdn.example.test/3.gif"},
		},
	}
	if err := postgres.NewQueue(e.schema.Pool).Enqueue(ctx, []moderation.Flag{f}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := e.schema.Pool.QueryRow(ctx, `SELECT id FROM review_items WHERE post_id = 'post-ev-1'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id, big, small
}

// TestEvidencePackage: a lead downloads the evidence package of a
// referred item with text, two stored media (one of them purged since),
// one never stored, a decision and its reversal, and a lifted and an
// active legal hold. The manifest holds all of it, the post's hostile
// text byte for byte; its files list matches the archive; the media are
// the original bytes; every audit event of the item is there with a hash
// that recomputes; the export is audited with the manifest's SHA-256 and
// the chain still verifies.
func TestEvidencePackage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	id, big, small := evidenceItem(t, e)
	mod := e.session(e.user("mo", moderation.RoleModerator))
	lead := e.session(e.user("lena", moderation.RoleLead))
	auditor := e.session(e.user("audrey", moderation.RoleAuditor))
	admin := e.session(e.user("ada", moderation.RoleAdmin))

	e.must(e.do(mod, "POST", "/api/v1/queue/claim", map[string]any{"count": 1}), 200)
	e.must(e.do(mod, "GET", fmt.Sprintf("/api/v1/items/%d/media/m2?view=original", id), nil), 200)
	var decided, reversed struct{ Decision moderation.Decision }
	e.must(e.do(mod, "POST", fmt.Sprintf("/api/v1/items/%d/decision", id),
		map[string]any{"action": "remove", "reason_code": "TC-1", "note": "recruitment poster"}), 201).decode(t, &decided)
	dec := decided.Decision
	e.clock.Advance(time.Minute)
	e.must(e.do(lead, "POST", fmt.Sprintf("/api/v1/decisions/%d/reverse", dec.ID),
		map[string]any{"action": "report", "reason_code": "TC-1", "note": "credible threat: referred to the police"}), 201).decode(t, &reversed)
	rev := reversed.Decision
	e.must(e.do(lead, "POST", fmt.Sprintf("/api/v1/items/%d/hold", id), map[string]any{"reason": "first request"}), 201)
	e.must(e.do(lead, "DELETE", fmt.Sprintf("/api/v1/items/%d/hold", id), nil), 204)
	e.must(e.do(admin, "POST", fmt.Sprintf("/api/v1/items/%d/hold", id), map[string]any{"reason": "police request 2026/113 <b>"}), 201)
	// The author appeals the report.
	const statement = "I was <i>quoting</i> the news\u202e"
	if _, _, err := e.reviews.SubmitAppeal(ctx, moderation.User{Username: "platform"}, 0, moderation.AppealInput{
		PostID: "post-ev-1", AppealID: "ap-ev-1", Statement: statement, ReceivedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// The retention purge took m2's bytes (shared with an item purged
	// earlier, say): listed, not included, not an error.
	purgedAt := e.clock.Now().Add(-time.Minute).UTC()
	if _, err := e.schema.Pool.Exec(ctx, `UPDATE media_blobs SET bytes = NULL, purged_at = $2 WHERE sha256 = $1`, sha(small), purgedAt); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)

	// Who may: leads and admins; not moderators, not auditors.
	for _, c := range []cred{mod, auditor} {
		if r := e.do(c, "GET", fmt.Sprintf("/api/v1/items/%d/evidence", id), nil); r.status != 403 || r.code() != "forbidden" {
			t.Fatalf("evidence as a moderator or auditor: %d %s", r.status, r.body)
		}
	}
	r := e.must(e.do(lead, "GET", fmt.Sprintf("/api/v1/items/%d/evidence", id), nil), 200)
	if ct := r.header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != fmt.Sprintf("attachment; filename=vigil-evidence-item-%d.zip", id) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	entries, files := moderationtest.Unzip(t, r.body)
	names := make([]string, len(entries))
	for i, f := range entries {
		names[i] = f.Name
	}
	bigName := "media/" + sha(big) + ".jpg"
	if want := []string{"manifest.json", "README.txt", bigName}; !slices.Equal(names, want) {
		t.Fatalf("archive holds %q, want %q", names, want)
	}
	if got := r.header.Get(httpapi.HeaderManifestSHA256); got != sha(files["manifest.json"]) {
		t.Fatalf("manifest header %s, manifest hashes to %s", got, sha(files["manifest.json"]))
	}
	var m evidence.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	generated := e.clock.Now().UTC().Truncate(time.Second)
	for _, f := range entries {
		if !f.Modified.Equal(generated) {
			t.Errorf("%s stamped %v, want generated_at %v", f.Name, f.Modified, generated)
		}
	}
	if m.Format != evidence.Format || m.FormatVersion != 1 || !m.GeneratedAt.Equal(generated) || m.GeneratedBy != "lena" || m.Generator != "test" {
		t.Fatalf("manifest header fields %+v", m)
	}
	if m.Item.ID != id || m.Item.Status != "decided" || m.Item.Category != "terrorist_content" || m.Item.Severity != "critical" ||
		m.Item.Queue != "default" || !slices.Equal(m.Item.Clusters, []string{"terror-hashes:flag/7"}) || m.Item.SLADeadline.IsZero() {
		t.Fatalf("manifest item %+v", m.Item)
	}
	if m.Post.Text != hostileText || m.Post.TextSHA256 != sha([]byte(hostileText)) || m.Post.AuthorHandle != "<b>handle</b>" ||
		m.Post.PostID != "post-ev-1" || m.Post.AuthorID != "auth-1" || m.Post.Lang != "ar" || m.Post.URL != "https://example.test/p/1?a=<x>" {
		t.Fatalf("manifest post %+v", m.Post)
	}
	// Not HTML-escaped: the text is as readable in the file as it was stored.
	if !bytes.Contains(files["manifest.json"], []byte(`"text": "<script>alert(1)</script>\"}],\"x\":{\r\n../../etc/passwd`)) {
		t.Errorf("manifest.json does not hold the text unescaped: %s", files["manifest.json"])
	}
	if len(m.Matches) != 2 || m.Matches[0].Bank != "terror-hashes" || m.Matches[0].Distance == nil || *m.Matches[0].Distance != 0 ||
		m.Matches[1].RuleID != "tc.recruit" || m.Matches[1].RuleVersion != 7 || len(m.Matches[1].Spans) != 1 {
		t.Fatalf("manifest matches %+v", m.Matches)
	}
	if len(m.Media) != 3 {
		t.Fatalf("manifest media %+v", m.Media)
	}
	if md := m.Media[0]; md.MediaID != "m1" || md.Status != evidence.MediaIncluded || !md.Included || md.File != bigName ||
		md.SHA256 != sha(big) || md.Size == nil || *md.Size != int64(len(big)) || md.ContentType != "image/jpeg" {
		t.Errorf("media m1 %+v", md)
	}
	if md := m.Media[1]; md.MediaID != "m2" || md.Status != evidence.MediaPurged || md.Included || md.File != "" ||
		md.SHA256 != sha(small) || md.PurgedAt == nil || !md.PurgedAt.Equal(purgedAt) {
		t.Errorf("media m2 %+v", md)
	}
	if md := m.Media[2]; md.MediaID != "m3" || md.Status != evidence.MediaNotStored || md.Included || md.SHA256 != "" {
		t.Errorf("media m3 %+v", md)
	}
	if !bytes.Equal(files[bigName], big) {
		t.Errorf("%s is not the original bytes", bigName)
	}
	// The files list is every other file, with its hash and size.
	var listed []string
	for _, f := range m.Files {
		listed = append(listed, f.Path)
		if b, ok := files[f.Path]; !ok || sha(b) != f.SHA256 || int64(len(b)) != f.Size {
			t.Errorf("files entry %+v does not match the archive's file (%d bytes, %s)", f, len(b), sha(b))
		}
	}
	if !slices.Equal(listed, []string{"README.txt", bigName}) {
		t.Errorf("files list %q", listed)
	}
	if len(m.Decisions) != 2 || m.Decisions[0].ID != dec.ID || m.Decisions[0].Action != "remove" || m.Decisions[0].Actor != "mo" ||
		m.Decisions[0].Note != "recruitment poster" || m.Decisions[0].ReversalOf != nil ||
		m.Decisions[1].ID != rev.ID || m.Decisions[1].Action != "report" || m.Decisions[1].ReversalOf == nil ||
		*m.Decisions[1].ReversalOf != dec.ID || m.Decisions[1].Note != "credible threat: referred to the police" || m.Decisions[1].Actor != "lena" {
		t.Fatalf("manifest decisions %+v", m.Decisions)
	}
	if len(m.LegalHolds) != 2 || m.LegalHolds[0].Reason != "first request" || m.LegalHolds[0].PlacedBy != "lena" ||
		m.LegalHolds[0].LiftedBy != "lena" || m.LegalHolds[0].LiftedAt == nil ||
		m.LegalHolds[1].Reason != "police request 2026/113 <b>" || m.LegalHolds[1].PlacedBy != "ada" || m.LegalHolds[1].LiftedAt != nil {
		t.Fatalf("manifest holds %+v", m.LegalHolds)
	}
	if len(m.Appeals) != 1 || m.Appeals[0].AppealID != "ap-ev-1" || m.Appeals[0].DecisionID != rev.ID ||
		m.Appeals[0].Statement != statement || m.Appeals[0].Outcome != "" || m.Appeals[0].ResolvedAt != nil {
		t.Fatalf("manifest appeals %+v", m.Appeals)
	}
	var actions []string
	for _, ev := range m.AuditEvents {
		actions = append(actions, ev.Action)
		if ev.Subject != fmt.Sprintf("item:%d", id) {
			t.Errorf("event %d has subject %q", ev.Seq, ev.Subject)
		}
		if h := moderation.ChainHash(ev.PrevHash, ev.Seq, ev.At, ev.Actor, ev.Action, ev.Subject, []byte(ev.DetailsText)); h != ev.Hash {
			t.Errorf("event %d: hash %s does not recompute (%s)", ev.Seq, ev.Hash, h)
		}
	}
	if want := []string{"claim", "view_media", "decision", "reversal", "legal_hold", "legal_hold_lift", "legal_hold", "appeal_received"}; !m.AuditComplete || !slices.Equal(actions, want) {
		t.Fatalf("audit events %q (complete %v), want %q", actions, m.AuditComplete, want)
	}
	// The events are the audit log's, as an auditor reads them.
	var logged struct {
		Events []moderation.AuditEvent `json:"events"`
	}
	e.must(e.do(admin, "GET", fmt.Sprintf("/api/v1/audit?subject=item:%d&limit=100", id), nil), 200).decode(t, &logged)
	if len(logged.Events) != len(m.AuditEvents)+1 {
		t.Fatalf("the log has %d events of the item, the manifest %d (+1 export)", len(logged.Events), len(m.AuditEvents))
	}
	for i, ev := range m.AuditEvents {
		// The API sends details compacted; details_text is as hashed.
		var fromLog, fromManifest any
		l := logged.Events[i]
		_ = json.Unmarshal(l.Details, &fromLog)
		_ = json.Unmarshal([]byte(ev.DetailsText), &fromManifest)
		if l.Seq != ev.Seq || l.Hash != ev.Hash || l.PrevHash != ev.PrevHash || !reflect.DeepEqual(fromLog, fromManifest) {
			t.Errorf("manifest event %+v, log %+v", ev, l)
		}
	}
	// The export itself is on record, naming the manifest by its hash.
	export := logged.Events[len(logged.Events)-1]
	var details moderation.EvidenceExport
	if err := json.Unmarshal(export.Details, &details); err != nil {
		t.Fatal(err)
	}
	if export.Action != moderation.AuditEvidenceExport || export.Actor != "lena" || details.ManifestSHA256 != sha(files["manifest.json"]) ||
		details.MediaIncluded != 1 || details.MediaMissing != 2 || details.Files != 3 || !details.GeneratedAt.Equal(generated) {
		t.Fatalf("export event %+v details %s", export, export.Details)
	}
	var ver moderation.AuditVerification
	e.must(e.do(admin, "GET", "/api/v1/audit/verify", nil), 200).decode(t, &ver)
	if !ver.OK {
		t.Fatalf("audit verification after the export: %+v", ver)
	}
	readme := string(files["README.txt"])
	for _, want := range []string{"VIGIL EVIDENCE PACKAGE", fmt.Sprintf("Item:         %d", id), "sha256sum", "manifest_sha256"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.txt lacks %q:\n%s", want, readme)
		}
	}
	if strings.Contains(readme, "script") || strings.Contains(readme, "handle") {
		t.Errorf("README.txt carries post data:\n%s", readme)
	}

	// An admin may too, and a lead's token scoped evidence:export; the
	// second package lists the first export among the item's events.
	r = e.must(e.do(admin, "GET", fmt.Sprintf("/api/v1/items/%d/evidence", id), nil), 200)
	_, files = moderationtest.Unzip(t, r.body)
	var m2 evidence.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m2); err != nil {
		t.Fatal(err)
	}
	if last := m2.AuditEvents[len(m2.AuditEvents)-1]; last.Action != moderation.AuditEvidenceExport || last.Actor != "lena" || m2.GeneratedBy != "ada" {
		t.Fatalf("second package's last event %+v, generated by %s", last, m2.GeneratedBy)
	}
	lena, err := e.users.Authenticate(ctx, "lena", "password-of-lena", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.do(e.token(lena, moderation.PermEvidence), "GET", fmt.Sprintf("/api/v1/items/%d/evidence", id), nil), 200)
	if r := e.do(e.token(lena, moderation.PermMediaUnblurred, moderation.PermHolds), "GET", fmt.Sprintf("/api/v1/items/%d/evidence", id), nil); r.status != 403 {
		t.Fatalf("a token without evidence:export: %d %s", r.status, r.body)
	}
}

// TestEvidenceErrors: an unknown item is a 404 and a bad id a 400, both
// JSON, and neither is audited; a refused request is not audited either.
func TestEvidenceErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	lead := e.session(e.user("lena", moderation.RoleLead))
	mod := e.session(e.user("mo", moderation.RoleModerator))
	id, _, _ := evidenceItem(t, e)
	for path, want := range map[string]int{
		"/api/v1/items/999999/evidence":               404,
		"/api/v1/items/abc/evidence":                  400,
		"/api/v1/items/0/evidence":                    400,
		"/api/v1/items/-1/evidence":                   400,
		"/api/v1/items/1/evidence?format=tar":         400,
		"/api/v1/items/99999999999999999999/evidence": 400,
	} {
		r := e.do(lead, "GET", path, nil)
		if r.status != want || r.code() == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %s %s, want %d with a JSON error", path, r.status, r.header.Get("Content-Type"), r.body, want)
		}
	}
	e.must(e.do(mod, "GET", fmt.Sprintf("/api/v1/items/%d/evidence", id), nil), 403)
	// HEAD, which Go's mux serves with the GET handler, would be audited
	// as an export or a view that sent nothing: refused. The blurred
	// view, which is not audited, still answers HEAD.
	for path, want := range map[string]int{
		fmt.Sprintf("/api/v1/items/%d/evidence", id):               405,
		fmt.Sprintf("/api/v1/items/%d/media/m2?view=original", id): 405,
		fmt.Sprintf("/api/v1/items/%d/media/m2", id):               200,
	} {
		r := e.do(lead, "HEAD", path, nil)
		if r.status != want || want == 405 && r.header.Get("Allow") != "GET" {
			t.Errorf("HEAD %s: %d, Allow %q; want %d", path, r.status, r.header.Get("Allow"), want)
		}
	}
	for _, action := range []string{moderation.AuditEvidenceExport, moderation.AuditViewMedia} {
		evs, err := postgres.NewAuditLog(e.schema.Pool).Read(context.Background(), moderation.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 0 {
			t.Fatalf("refused requests were audited as %s: %+v", action, evs)
		}
	}
}
