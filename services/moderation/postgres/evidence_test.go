package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// TestEvidenceReads: what an evidence package reads beyond Get. Media
// come in media-id order with their stored state (held, purged, never
// stored); a blob is read in chunks up to its end and not at all once
// purged; every hold is listed, lifted ones too; the item's audit events
// page by sequence number; the export's event carries its details.
func TestEvidenceReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	blob := bytes.Repeat([]byte{0, 1, 2, 0xff}, 2500)
	gone := []byte("purged")
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	fl := flag("ev1", f.clock.Now(), moderation.Match{RuleID: "r", Category: "hate", Severity: moderation.SeverityLow})
	fl.Evidence = []moderation.Evidence{
		{MediaID: "b", MIME: "image/png", SHA256: sum(gone), Bytes: gone},
		{MediaID: "a", MIME: "image/jpeg", URL: "https://x.test/a", SHA256: sum(blob), Bytes: blob},
		{MediaID: "c", MIME: "image/gif", URL: "https://x.test/c"},
	}
	if err := postgres.NewQueue(f.s.Pool).Enqueue(ctx, []moderation.Flag{fl}); err != nil {
		t.Fatal(err)
	}
	purgedAt := f.clock.Now().UTC()
	if _, err := f.s.Pool.Exec(ctx, `UPDATE media_blobs SET bytes = NULL, purged_at = $2 WHERE sha256 = $1`, sum(gone), purgedAt); err != nil {
		t.Fatal(err)
	}
	media, err := f.reviews.StoredMedia(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(media) != 3 || media[0].MediaID != "a" || !media[0].Stored || media[0].Size != int64(len(blob)) || media[0].SHA256 != sum(blob) ||
		media[1].MediaID != "b" || media[1].Stored || media[1].PurgedAt == nil || !media[1].PurgedAt.Equal(purgedAt) || media[1].Size != int64(len(gone)) ||
		media[2].MediaID != "c" || media[2].Stored || media[2].SHA256 != "" || media[2].Size != 0 || media[2].URL != "https://x.test/c" {
		t.Fatalf("stored media %+v", media)
	}
	var got []byte
	for off := int64(0); ; {
		chunk, err := f.reviews.MediaChunk(ctx, sum(blob), off, 3000)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk) == 0 {
			break
		}
		got = append(got, chunk...)
		off += int64(len(chunk))
	}
	if !bytes.Equal(got, blob) {
		t.Fatalf("read %d bytes in chunks, want the %d stored", len(got), len(blob))
	}
	for _, sha := range []string{sum(gone), sum([]byte("unknown"))} {
		if _, err := f.reviews.MediaChunk(ctx, sha, 0, 10); !errors.Is(err, moderation.ErrNotFound) {
			t.Errorf("reading %s: %v, want ErrNotFound", sha, err)
		}
	}
	if _, err := f.reviews.MediaChunk(ctx, sum(blob), -1, 10); !errors.Is(err, moderation.ErrInvalid) {
		t.Errorf("negative offset: %v", err)
	}

	lead := f.user(t, "lena", moderation.RoleLead)
	if _, err := f.reviews.PlaceHold(ctx, lead, 1, "first"); err != nil {
		t.Fatal(err)
	}
	if err := f.reviews.LiftHold(ctx, lead, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reviews.PlaceHold(ctx, lead, 1, "second"); err != nil {
		t.Fatal(err)
	}
	holds, err := f.reviews.ItemHolds(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(holds) != 2 || holds[0].Reason != "first" || holds[0].LiftedBy != "lena" || holds[1].Reason != "second" || holds[1].LiftedAt != nil {
		t.Fatalf("holds %+v", holds)
	}
	f.clock.Advance(time.Minute)
	ev, err := f.reviews.RecordEvidenceExport(ctx, "lena", 1, moderation.EvidenceExport{ManifestSHA256: sum(nil), FormatVersion: 1, Files: 2})
	if err != nil {
		t.Fatal(err)
	}
	page1, err := f.reviews.ItemAudit(ctx, 1, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	page2, err := f.reviews.ItemAudit(ctx, 1, page1[len(page1)-1].Seq, 2)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range append(page1, page2...) {
		actions = append(actions, e.Action)
	}
	if len(actions) != 4 || actions[0] != moderation.AuditLegalHold || actions[3] != moderation.AuditEvidenceExport || page2[1].Seq != ev.Seq {
		t.Fatalf("item events %v", actions)
	}
	var details moderation.EvidenceExport
	if err := json.Unmarshal(page2[1].Details, &details); err != nil || details.ManifestSHA256 != sum(nil) || ev.Subject != "item:1" || ev.Actor != "lena" {
		t.Fatalf("export event %+v: %v", page2[1], err)
	}
}
