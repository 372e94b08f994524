package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/evidence"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/password"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestEvidenceExport: vigilctl evidence export writes the item's package
// to a file (or standard output) with the operator as generated_by; the
// export is audited with the operator as actor and the manifest's hash,
// and the audit chain still verifies. An unknown item, missing flags and
// an unwritable destination write nothing and audit nothing.
func TestEvidenceExport(t *testing.T) {
	t.Parallel()
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	text := "join us </script><script>alert(1)</script>\r\n\u202e ' \" \\ 🙂"
	img := []byte("\xff\xd8\xff\xe0 jpeg-ish evidence bytes")
	gone := []byte("purged bytes")
	flag := moderation.Flag{
		Post: moderation.Post{V: 1, ID: "cli-ev", Platform: "test", Author: moderation.Author{ID: "a"}, Text: text, Lang: "en",
			CreatedAt: now.Add(-2 * time.Hour)},
		Verdict: moderation.Verdict{PostID: "cli-ev", Matches: []moderation.Match{{RuleID: "r", RuleVersion: 1,
			Category: "terrorist_content", Severity: moderation.SeverityHigh, Spans: []moderation.Span{{Start: 0, End: 4}}}}},
		FlaggedAt: now.Add(-time.Hour),
		Evidence: []moderation.Evidence{
			{MediaID: "m1", MIME: "image/jpeg", SHA256: hexSHA(img), Bytes: img},
			{MediaID: "m2", MIME: "image/webp", SHA256: hexSHA(gone), Bytes: gone},
		},
	}
	if err := postgres.NewQueue(s.Pool).Enqueue(ctx, []moderation.Flag{flag}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(ctx, `UPDATE media_blobs SET bytes = NULL, purged_at = $2 WHERE sha256 = $1`, hexSHA(gone), now); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := s.Pool.QueryRow(ctx, `SELECT id FROM review_items`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	users := postgres.NewUsers(s.Pool, postgres.UserOptions{Hasher: password.NewHasher(password.HasherOptions{
		Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}})})
	lead, err := users.Create(ctx, "test", "lena", "password-of-lena", []moderation.Role{moderation.RoleLead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewReviews(s.Pool, postgres.ReviewOptions{}).PlaceHold(ctx, lead, id, "court order 7"); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		env := Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Now: func() time.Time { return now }}
		err := Run(ctx, append([]string{"vigilctl", "evidence", "export", "--database-url=" + s.URL}, args...), env)
		return out.String(), errb.String(), err
	}
	exports := func() []moderation.AuditEvent {
		t.Helper()
		evs, err := postgres.NewAuditLog(s.Pool).Read(ctx, moderation.AuditFilter{Action: moderation.AuditEvidenceExport})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--item", "999999", "-o", filepath.Join(dir, "x.zip"), "--author", "ops"}, "there is no review item 999999"},
		{[]string{"-o", filepath.Join(dir, "x.zip"), "--author", "ops"}, "--item ID is required"},
		{[]string{"--item", "0", "-o", filepath.Join(dir, "x.zip"), "--author", "ops"}, "--item ID is required"},
		{[]string{"--item", fmt.Sprint(id), "--author", "ops"}, "-o FILE is required"},
		{[]string{"--item", fmt.Sprint(id), "-o", filepath.Join(dir, "x.zip")}, "no --author"},
		{[]string{"--item", fmt.Sprint(id), "-o", filepath.Join(dir, "no-such-dir", "x.zip"), "--author", "ops"}, "no such file or directory"},
		{[]string{"--item", fmt.Sprint(id), "-o", filepath.Join(dir, "x.zip"), "--author", "ops", "extra"}, "unexpected arguments"},
	} {
		if _, _, err := run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 || len(exports()) != 0 {
		t.Fatalf("refused exports left files %v or audit events %v", left, exports())
	}

	file := filepath.Join(dir, "item.zip")
	out, errOut, err := run("--item", fmt.Sprint(id), "-o", file, "--author", "ops-alice")
	if err != nil || out != "" || !strings.Contains(errOut, "wrote "+file) {
		t.Fatalf("export: %v %q %q", err, out, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("the package is mode %v, want 0600", st.Mode().Perm())
	}
	entries, files := moderationtest.Unzip(t, b)
	var names []string
	for _, f := range entries {
		names = append(names, f.Name)
	}
	imgName := "media/" + hexSHA(img) + ".jpg"
	if !slices.Equal(names, []string{"manifest.json", "README.txt", imgName}) || !bytes.Equal(files[imgName], img) {
		t.Fatalf("archive holds %q", names)
	}
	var m evidence.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.GeneratedBy != "ops-alice" || m.Generator != "vigilctl" || !m.GeneratedAt.Equal(now) || m.Post.Text != text ||
		len(m.Media) != 2 || m.Media[1].Status != evidence.MediaPurged || len(m.LegalHolds) != 1 || m.LegalHolds[0].Reason != "court order 7" ||
		len(m.AuditEvents) != 1 || m.AuditEvents[0].Action != moderation.AuditLegalHold {
		t.Fatalf("manifest %+v", m)
	}
	for _, f := range m.Files {
		if hexSHA(files[f.Path]) != f.SHA256 || int64(len(files[f.Path])) != f.Size {
			t.Errorf("files entry %+v does not match", f)
		}
	}
	evs := exports()
	var details moderation.EvidenceExport
	if len(evs) != 1 || json.Unmarshal(evs[0].Details, &details) != nil || evs[0].Actor != "ops-alice" ||
		evs[0].Subject != fmt.Sprintf("item:%d", id) || details.ManifestSHA256 != hexSHA(files["manifest.json"]) ||
		!strings.Contains(errOut, details.ManifestSHA256) {
		t.Fatalf("export events %+v (stderr %q)", evs, errOut)
	}
	if out, _, err := runCLI(t, "", "audit", "verify", "--database-url="+s.URL); err != nil || !strings.Contains(out, "audit chain OK") {
		t.Fatalf("audit verify after the export: %v %s", err, out)
	}

	// To standard output: the same package, but for the first export
	// now among the item's events.
	out, _, err = run("--item", fmt.Sprint(id), "-o", "-", "--author", "ops-bob")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(strings.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatalf("standard output is not a zip: %v", err)
	}
	rc, _ := zr.File[0].Open()
	var m2 evidence.Manifest
	if err := json.NewDecoder(rc).Decode(&m2); err != nil {
		t.Fatal(err)
	}
	if m2.GeneratedBy != "ops-bob" || len(m2.AuditEvents) != 2 || m2.AuditEvents[1].Actor != "ops-alice" || len(exports()) != 2 {
		t.Fatalf("second export %+v", m2)
	}
}
