package moderation

import "time"

// StoredMedia is a media file of an item with the state of its stored
// bytes, but not the bytes: what an evidence package lists before it
// streams them, so a purged file is described rather than missing.
type StoredMedia struct {
	MediaID string
	MIME    string
	URL     string
	// SHA256 is the hex address of the stored bytes; "" when they were
	// never fetched (only the reference was kept).
	SHA256 string
	// Size is the length of the bytes when they were stored; 0 when
	// they never were.
	Size int64
	// Stored says the bytes are held now (not purged).
	Stored bool
	// PurgedAt is when the retention purge removed the bytes.
	PurgedAt *time.Time
}

// EvidenceExport is what the audit log records of an evidence package
// handed out (AuditEvidenceExport, the item as subject): enough to tell
// later which package a recipient holds, by its manifest's SHA-256.
type EvidenceExport struct {
	ManifestSHA256 string    `json:"manifest_sha256"`
	FormatVersion  int       `json:"format_version"`
	GeneratedAt    time.Time `json:"generated_at"`
	Generator      string    `json:"generator"`
	Files          int       `json:"files"`          // in the archive, manifest.json included
	MediaIncluded  int       `json:"media_included"` // media files whose bytes are in the archive
	MediaMissing   int       `json:"media_missing"`  // listed, bytes purged or never stored
}
