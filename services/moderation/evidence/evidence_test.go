package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/evidence"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fakeStore serves one item from memory and counts what it is asked.
type fakeStore struct {
	item     moderation.ItemDetail
	holds    []moderation.LegalHold
	appeals  []moderation.Appeal
	media    []moderation.StoredMedia
	blobs    map[string][]byte
	events   []moderation.AuditEvent
	recorded []moderation.EvidenceExport
	chunks   int   // MediaChunk calls
	maxChunk int   // the largest chunk asked for
	failAt   int   // MediaChunk call that fails (0: none)
	auditErr error // RecordEvidenceExport's error
}

func (f *fakeStore) Get(_ context.Context, id int64) (moderation.ItemDetail, error) {
	if id != f.item.ID {
		return moderation.ItemDetail{}, fmt.Errorf("item %d: %w", id, moderation.ErrNotFound)
	}
	return f.item, nil
}

func (f *fakeStore) ItemHolds(context.Context, int64) ([]moderation.LegalHold, error) {
	return f.holds, nil
}

func (f *fakeStore) ItemAppeals(context.Context, int64) ([]moderation.Appeal, error) {
	return f.appeals, nil
}

func (f *fakeStore) StoredMedia(context.Context, int64) ([]moderation.StoredMedia, error) {
	return f.media, nil
}

func (f *fakeStore) MediaChunk(_ context.Context, sha string, off int64, n int) ([]byte, error) {
	f.chunks++
	f.maxChunk = max(f.maxChunk, n)
	b, ok := f.blobs[sha]
	if !ok || f.chunks == f.failAt {
		return nil, fmt.Errorf("blob %s: %w", sha, moderation.ErrNotFound)
	}
	if off >= int64(len(b)) {
		return []byte{}, nil
	}
	return b[off:min(int64(len(b)), off+int64(n))], nil
}

func (f *fakeStore) ItemAudit(_ context.Context, _ int64, after int64, limit int) ([]moderation.AuditEvent, error) {
	var out []moderation.AuditEvent
	for _, ev := range f.events {
		if ev.Seq > after && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *fakeStore) RecordEvidenceExport(_ context.Context, actor string, _ int64, ex moderation.EvidenceExport) (moderation.AuditEvent, error) {
	if f.auditErr != nil {
		return moderation.AuditEvent{}, f.auditErr
	}
	f.recorded = append(f.recorded, ex)
	return moderation.AuditEvent{Seq: 1000, Actor: actor, Action: moderation.AuditEvidenceExport}, nil
}

var at = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newStore() *fakeStore {
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<17+3) // 2 MiB + 48 bytes: three chunks
	purged := at.Add(-time.Hour)
	reverses := int64(1)
	return &fakeStore{
		item: moderation.ItemDetail{Item: moderation.Item{ID: 42, PostID: "p1", Platform: "x", AuthorID: "a1", AuthorHandle: "h",
			Text: "line1\r\nline2 <b>&amp;</b> \u202e", Lang: "en", URL: "https://example.test/1", PostCreatedAt: at.Add(-2 * time.Hour),
			FlaggedAt: at.Add(-time.Hour), Category: "terrorist_content", Severity: moderation.SeverityCritical, Queue: "leads",
			SLADeadline: at, Status: moderation.StatusDecided,
			Matches: []moderation.Match{{Bank: "b", EntryID: "e:1", HashType: "pdq", MediaID: "m1", Hash: "ff", Category: "terrorist_content", Severity: moderation.SeverityCritical}}},
			Decisions: []moderation.Decision{
				{ID: 1, Actor: "mo", Action: moderation.ActionRemove, ReasonCode: "TC-1", CreatedAt: at.Add(-30 * time.Minute), SLADeadline: at},
				{ID: 2, Actor: "lena", Action: moderation.ActionReport, ReasonCode: "TC-1", Note: "referred", Reverses: &reverses, CreatedAt: at.Add(-20 * time.Minute), SLADeadline: at},
			}},
		holds: []moderation.LegalHold{{ID: 1, ItemID: 42, Reason: "request", PlacedBy: "lena", PlacedAt: at.Add(-10 * time.Minute)}},
		media: []moderation.StoredMedia{
			{MediaID: "m0", MIME: "application/x-evil; name=../../x", SHA256: sha(big), Size: int64(len(big)), Stored: true},
			{MediaID: "m1", MIME: "image/png", SHA256: sha(png), Size: int64(len(png)), Stored: true},
			{MediaID: "m2", MIME: "image/png", SHA256: sha(png), Size: int64(len(png)), Stored: true}, // a copy: one file
			{MediaID: "m3", MIME: "image/jpeg", SHA256: sha([]byte("gone")), Size: 4, PurgedAt: &purged},
			{MediaID: "m4", MIME: "image/gif", URL: "https://cdn.example.test/4.gif"},
		},
		blobs: map[string][]byte{sha(big): big, sha(png): png},
		events: []moderation.AuditEvent{
			{Seq: 3, At: at.Add(-30 * time.Minute), Actor: "mo", Action: "decision", Subject: "item:42",
				Details: json.RawMessage(`{"note": "x", "action": "remove"}`), PrevHash: "p", Hash: "h"},
		},
	}
}

func export(t *testing.T, st *fakeStore) (*evidence.Package, []byte) {
	t.Helper()
	x := evidence.New(st, evidence.Options{Clock: fixedClock(at.Add(1500 * time.Millisecond)), Generator: "test"})
	p, err := x.Open(context.Background(), 42, "lena")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Write(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return p, b.Bytes()
}

// TestPackage: the archive's files in order, stamped with generated_at;
// the manifest's files list matches them; copies share one file; media
// are read in bounded chunks; the export is recorded with the manifest's
// hash; the same data and time give the same bytes.
func TestPackage(t *testing.T) {
	t.Parallel()
	st := newStore()
	p, b := export(t, st)
	entries, files := moderationtest.Unzip(t, b)
	var names []string
	for _, f := range entries {
		names = append(names, f.Name)
		if !f.Modified.Equal(at.Add(time.Second)) {
			t.Errorf("%s stamped %v", f.Name, f.Modified)
		}
	}
	bigName := "media/" + st.media[0].SHA256 + ".bin"
	pngName := "media/" + st.media[1].SHA256 + ".png"
	want := []string{"manifest.json", "README.txt", bigName, pngName}
	if pngName < bigName {
		want[2], want[3] = pngName, bigName
	}
	if !slices.Equal(names, want) {
		t.Fatalf("archive holds %q, want %q", names, want)
	}
	var m evidence.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if !m.GeneratedAt.Equal(at.Add(time.Second)) || m.Post.Text != st.item.Text || m.Item.Clusters[0] != "b:e:1" {
		t.Fatalf("manifest %+v", m)
	}
	for _, f := range m.Files {
		if got, ok := files[f.Path]; !ok || sha(got) != f.SHA256 || int64(len(got)) != f.Size {
			t.Errorf("files entry %+v does not match", f)
		}
	}
	if len(m.Files) != 3 || m.Media[1].File != pngName || m.Media[2].File != pngName || m.Media[3].Status != evidence.MediaPurged ||
		m.Media[4].Status != evidence.MediaNotStored || m.Media[0].File != bigName {
		t.Fatalf("media %+v files %+v", m.Media, m.Files)
	}
	if st.maxChunk > 1<<20 || st.chunks != 4 { // three of the big blob, one of the png
		t.Errorf("%d chunks read, the largest %d bytes", st.chunks, st.maxChunk)
	}
	if len(st.recorded) != 1 || st.recorded[0].ManifestSHA256 != sha(files["manifest.json"]) || p.ManifestSHA256 != st.recorded[0].ManifestSHA256 ||
		st.recorded[0].Files != 4 || st.recorded[0].MediaIncluded != 2 || st.recorded[0].MediaMissing != 2 {
		t.Fatalf("recorded %+v", st.recorded)
	}
	if ev := m.AuditEvents[0]; ev.DetailsText != `{"note": "x", "action": "remove"}` || m.Decisions[1].ReversalOf == nil || !m.AuditComplete {
		t.Fatalf("events %+v decisions %+v", m.AuditEvents, m.Decisions)
	}
	if _, again := export(t, newStore()); !bytes.Equal(again, b) {
		t.Fatal("the same item at the same time gave another archive")
	}
	if p.Filename() != "vigil-evidence-item-42.zip" {
		t.Fatalf("filename %q", p.Filename())
	}
}

// TestPackageFailures: an unknown item and a failed audit give no
// package; a blob purged or altered while streaming stops the archive
// before its central directory, so no reader accepts it.
func TestPackageFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := func(st *fakeStore) *evidence.Exporter {
		return evidence.New(st, evidence.Options{Clock: fixedClock(at)})
	}
	if _, err := x(newStore()).Open(ctx, 7, "lena"); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("unknown item: %v", err)
	}
	st := newStore()
	st.auditErr = errors.New("database gone")
	if _, err := x(st).Open(ctx, 42, "lena"); err == nil || !strings.Contains(err.Error(), "database gone") {
		t.Fatalf("unaudited export: %v", err)
	}
	st = newStore()
	st.media[0].SHA256 = "../../../../etc/passwd"
	if _, err := x(st).Open(ctx, 42, "lena"); !errors.Is(err, evidence.ErrStoredData) {
		t.Fatalf("a stored hash that is not hex: %v", err)
	}
	for name, spoil := range map[string]func(*fakeStore){
		"purged midway": func(st *fakeStore) { st.failAt = 2 },
		"altered":       func(st *fakeStore) { st.blobs[st.media[1].SHA256] = []byte("\x89PNG\r\n\x1a\nfake image bytez") },
		"shorter":       func(st *fakeStore) { st.blobs[st.media[1].SHA256] = []byte("\x89PNG") },
	} {
		st := newStore()
		p, err := x(st).Open(ctx, 42, "lena")
		if err != nil {
			t.Fatal(err)
		}
		spoil(st)
		var b bytes.Buffer
		want := evidence.ErrStoredData
		if name == "purged midway" {
			want = moderation.ErrNotFound
		}
		if err := p.Write(ctx, &b); !errors.Is(err, want) {
			t.Errorf("%s: Write: %v, want %v", name, err, want)
		}
		if _, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len())); err == nil {
			t.Errorf("%s: the partial archive reads as a zip", name)
		}
	}
}

// TestAuditBound: an item with more than MaxAuditEvents events lists the
// first ones and says the list is incomplete; exactly the bound is
// complete.
func TestAuditBound(t *testing.T) {
	t.Parallel()
	for _, n := range []int{evidence.MaxAuditEvents, evidence.MaxAuditEvents + 1} {
		st := newStore()
		st.events = nil
		for i := range n {
			st.events = append(st.events, moderation.AuditEvent{Seq: int64(i + 1), At: at, Action: "view_media", Details: json.RawMessage(`{}`)})
		}
		_, b := export(t, st)
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		rc, _ := zr.File[0].Open()
		var m evidence.Manifest
		if err := json.NewDecoder(rc).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if len(m.AuditEvents) != evidence.MaxAuditEvents || m.AuditComplete != (n == evidence.MaxAuditEvents) {
			t.Errorf("%d events: listed %d, complete %v", n, len(m.AuditEvents), m.AuditComplete)
		}
	}
}
