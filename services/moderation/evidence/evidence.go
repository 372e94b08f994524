package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Format and FormatVersion name the manifest's schema; the version
// changes when a field changes meaning or goes away.
const (
	Format        = "vigil-evidence-package"
	FormatVersion = 1
)

// MaxAuditEvents bounds the audit events one manifest lists, read in
// pages of the audit log's largest page (1000). An item with more says
// so (audit_events_complete false) rather than growing without bound.
const MaxAuditEvents = 10000

const (
	auditPage  = 1000
	mediaChunk = 1 << 20 // bytes of media read from the store at once
)

// Store is what a package is read from, and where its export is audited
// (postgres.Reviews).
type Store interface {
	// Get returns the item with its matches, media and every decision,
	// reversals included, in id order. Returns ErrNotFound.
	Get(ctx context.Context, id int64) (moderation.ItemDetail, error)
	// ItemHolds lists every legal hold of the item, placed and lifted.
	ItemHolds(ctx context.Context, itemID int64) ([]moderation.LegalHold, error)
	// ItemAppeals lists every appeal against the item's decisions, open
	// and resolved, in id order.
	ItemAppeals(ctx context.Context, itemID int64) ([]moderation.Appeal, error)
	// StoredMedia lists the item's media with the state of their bytes.
	StoredMedia(ctx context.Context, itemID int64) ([]moderation.StoredMedia, error)
	// MediaChunk returns at most n bytes of blob sha from offset; none at
	// its end. Returns ErrNotFound when the bytes are gone (purged).
	MediaChunk(ctx context.Context, sha string, offset int64, n int) ([]byte, error)
	// ItemAudit returns at most limit audit events whose subject is the
	// item, after afterSeq, in sequence order.
	ItemAudit(ctx context.Context, itemID, afterSeq int64, limit int) ([]moderation.AuditEvent, error)
	// RecordEvidenceExport appends the export's audit event.
	RecordEvidenceExport(ctx context.Context, actor string, itemID int64, ex moderation.EvidenceExport) (moderation.AuditEvent, error)
}

// ErrStoredData says the store holds evidence that contradicts itself:
// media bytes that do not match the SHA-256 they are stored under, or a
// stored hash that is not one. No package is handed out with it; the
// operator has to look.
var ErrStoredData = errors.New("stored evidence is inconsistent")

// Clock tells the time.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configures an Exporter. The zero value is usable.
type Options struct {
	Clock Clock // the system clock when nil
	// Generator names the program in the manifest ("vigil-review",
	// "vigilctl"); "vigil" when empty.
	Generator string
	Log       *slog.Logger // discarded when nil
}

// Exporter prepares evidence packages from a Store.
type Exporter struct {
	store     Store
	clock     Clock
	generator string
	log       *slog.Logger
}

// New returns an Exporter reading from store.
func New(store Store, o Options) *Exporter {
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Generator == "" {
		o.Generator = "vigil"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Exporter{store: store, clock: o.Clock, generator: o.Generator, log: o.Log}
}

// Package is one prepared and audited export, to be written once.
type Package struct {
	ItemID         int64
	GeneratedAt    time.Time
	ManifestSHA256 string
	// Event is the export's audit event.
	Event moderation.AuditEvent

	store    Store
	manifest []byte
	readme   []byte
	media    []mediaFile // stored blobs, by file name
}

// mediaFile is one stored blob the archive carries.
type mediaFile struct {
	name   string // media/<sha256><ext>
	sha256 string
	size   int64
}

// Filename is the archive's suggested name; it holds the item id only.
func (p *Package) Filename() string {
	return "vigil-evidence-item-" + strconv.FormatInt(p.ItemID, 10) + ".zip"
}

// Open reads everything the package of item itemID holds except the media
// bytes, builds and hashes its manifest, and records the export in the
// audit log with actor as its actor. Nothing is written: after Open
// returns, Package.Write streams the archive. Returns ErrNotFound for an
// unknown item; an error when the export could not be audited (then no
// package may be handed out).
func (x *Exporter) Open(ctx context.Context, itemID int64, actor string) (*Package, error) {
	now := x.clock.Now().UTC().Truncate(time.Second) // zip timestamps keep seconds (two, in the DOS field)
	d, err := x.store.Get(ctx, itemID)
	if err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	holds, err := x.store.ItemHolds(ctx, itemID)
	if err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	appeals, err := x.store.ItemAppeals(ctx, itemID)
	if err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	media, err := x.store.StoredMedia(ctx, itemID)
	if err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	events, complete, err := x.auditEvents(ctx, itemID)
	if err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	p := &Package{ItemID: itemID, GeneratedAt: now, store: x.store}
	m := newManifest(now, actor, x.generator, d, holds, events, complete)
	m.addAppeals(appeals)
	files, err := p.listMedia(&m, media)
	if err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	p.readme = readme(m)
	sum := sha256.Sum256(p.readme)
	m.Files = append([]ManifestFile{{Path: readmeName, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(p.readme))}}, files...)
	if p.manifest, err = encodeManifest(m); err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	sum = sha256.Sum256(p.manifest)
	p.ManifestSHA256 = hex.EncodeToString(sum[:])
	ex := moderation.EvidenceExport{ManifestSHA256: p.ManifestSHA256, FormatVersion: FormatVersion, GeneratedAt: now,
		Generator: x.generator, Files: len(m.Files) + 1, MediaIncluded: len(p.media)}
	for _, md := range m.Media {
		if !md.Included {
			ex.MediaMissing++
		}
	}
	if p.Event, err = x.store.RecordEvidenceExport(ctx, actor, itemID, ex); err != nil {
		return nil, fmt.Errorf("preparing evidence package of item %d: %w", itemID, err)
	}
	x.log.InfoContext(ctx, "evidence package exported", "item", itemID, "actor", actor,
		"manifest_sha256", p.ManifestSHA256, "media_files", len(p.media), "audit_seq", p.Event.Seq)
	return p, nil
}

// auditEvents reads the item's audit events, at most MaxAuditEvents, and
// says whether that is all of them.
func (x *Exporter) auditEvents(ctx context.Context, itemID int64) ([]moderation.AuditEvent, bool, error) {
	var out []moderation.AuditEvent
	var after int64
	for len(out) < MaxAuditEvents {
		page, err := x.store.ItemAudit(ctx, itemID, after, min(auditPage, MaxAuditEvents-len(out)))
		if err != nil {
			return nil, false, err
		}
		out = append(out, page...)
		if len(page) == 0 || len(out) < MaxAuditEvents && len(page) < auditPage {
			return out, true, nil
		}
		after = page[len(page)-1].Seq
	}
	more, err := x.store.ItemAudit(ctx, itemID, after, 1)
	if err != nil {
		return nil, false, err
	}
	return out, len(more) == 0, nil
}

// listMedia fills the manifest's media list and returns the archive's
// media files (one per distinct stored blob, sorted by name). Errors
// wrap ErrStoredData for a stored hash that is not hex SHA-256 (it
// would name a file).
func (p *Package) listMedia(m *Manifest, media []moderation.StoredMedia) ([]ManifestFile, error) {
	byName := map[string]bool{}
	m.Media = make([]ManifestMedia, 0, len(media))
	for _, sm := range media {
		mm := ManifestMedia{MediaID: sm.MediaID, SHA256: sm.SHA256, ContentType: sm.MIME, URL: sm.URL, PurgedAt: utc(sm.PurgedAt)}
		switch {
		case sm.SHA256 == "":
			mm.Status = MediaNotStored
		case !validSHA256(sm.SHA256):
			return nil, fmt.Errorf("media %q has a stored hash that is not SHA-256 hex: %w", sm.MediaID, ErrStoredData)
		case !sm.Stored:
			mm.Status, mm.Size = MediaPurged, &sm.Size
		default:
			mm.Status, mm.Size, mm.Included = MediaIncluded, &sm.Size, true
			mm.File = mediaName(sm.SHA256, sm.MIME)
			// A blob is stored once per hash: copies share the first
			// one's file (media-id order), whatever their stated types.
			for _, f := range p.media {
				if f.sha256 == sm.SHA256 {
					mm.File = f.name
				}
			}
			if !byName[mm.File] {
				byName[mm.File] = true
				p.media = append(p.media, mediaFile{name: mm.File, sha256: sm.SHA256, size: sm.Size})
			}
		}
		m.Media = append(m.Media, mm)
	}
	slices.SortFunc(p.media, func(a, b mediaFile) int { return strings.Compare(a.name, b.name) })
	files := make([]ManifestFile, 0, len(p.media))
	for _, f := range p.media {
		files = append(files, ManifestFile{Path: f.name, SHA256: f.sha256, Size: f.size})
	}
	return files, nil
}

func validSHA256(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// mediaName is the archive path of a blob: media/<sha256><ext>, the
// extension from its stated content type (.bin for any other). The type
// is the poster's claim, so only these fixed strings reach a file name.
func mediaName(sha, contentType string) string {
	t, _, _ := strings.Cut(contentType, ";")
	ext := ".bin"
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "image/jpeg":
		ext = ".jpg"
	case "image/png":
		ext = ".png"
	case "image/gif":
		ext = ".gif"
	case "image/webp":
		ext = ".webp"
	case "image/bmp":
		ext = ".bmp"
	case "image/tiff":
		ext = ".tiff"
	case "image/avif":
		ext = ".avif"
	case "image/heic":
		ext = ".heic"
	case "video/mp4":
		ext = ".mp4"
	case "video/webm":
		ext = ".webm"
	}
	return "media/" + sha + ext
}

// File names of the archive.
const (
	manifestName = "manifest.json"
	readmeName   = "README.txt"
)

// Write streams the archive to w: manifest.json, README.txt, then the
// media files by name, every entry stamped with GeneratedAt. Each media
// file is read from the store one chunk at a time and checked against its
// SHA-256 and size as it goes (ErrStoredData when they differ). On an
// error (a blob purged or altered meanwhile, the store or w failing)
// Write stops without finishing the archive: what was written lacks its
// central directory, which zip readers refuse, and must be discarded.
func (p *Package) Write(ctx context.Context, w io.Writer) error {
	zw := zip.NewWriter(w)
	if err := p.writeFile(zw, manifestName, bytes.NewReader(p.manifest)); err != nil {
		return fmt.Errorf("writing evidence package of item %d: %w", p.ItemID, err)
	}
	if err := p.writeFile(zw, readmeName, bytes.NewReader(p.readme)); err != nil {
		return fmt.Errorf("writing evidence package of item %d: %w", p.ItemID, err)
	}
	for _, f := range p.media {
		if err := p.writeMedia(ctx, zw, f); err != nil {
			return fmt.Errorf("writing evidence package of item %d: %w", p.ItemID, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing evidence package of item %d: %w", p.ItemID, err)
	}
	return nil
}

func (p *Package) create(zw *zip.Writer, name string) (io.Writer, error) {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: p.GeneratedAt}
	h.SetMode(0o444)
	return zw.CreateHeader(h)
}

func (p *Package) writeFile(zw *zip.Writer, name string, r io.Reader) error {
	fw, err := p.create(zw, name)
	if err != nil {
		return err
	}
	_, err = io.Copy(fw, r)
	return err
}

func (p *Package) writeMedia(ctx context.Context, zw *zip.Writer, f mediaFile) error {
	fw, err := p.create(zw, f.name)
	if err != nil {
		return err
	}
	h := sha256.New()
	var off int64
	for off < f.size {
		chunk, err := p.store.MediaChunk(ctx, f.sha256, off, int(min(mediaChunk, f.size-off)))
		if err != nil {
			return fmt.Errorf("reading media %s: %w", f.sha256, err)
		}
		if len(chunk) == 0 {
			break // shorter than stored: the check below says so
		}
		h.Write(chunk)
		if _, err := fw.Write(chunk); err != nil {
			return err
		}
		off += int64(len(chunk))
	}
	if got := hex.EncodeToString(h.Sum(nil)); off != f.size || got != f.sha256 {
		return fmt.Errorf("media %s: read %d bytes hashing to %s, want %d bytes: %w", f.sha256, off, got, f.size, ErrStoredData)
	}
	return nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
