// Package evidence writes an item's evidence package: one self-contained,
// verifiable zip a lead hands to law enforcement with a referral, or in
// answer to a legal request. vigil-review serves it
// (GET /api/v1/items/{id}/evidence) and vigilctl writes it to a file
// (vigilctl evidence export); both go through Exporter, so the two are
// the same bytes for the same item and time.
//
// The archive holds, in this order:
//
//	manifest.json   everything recorded about the item: the post as stored
//	                (its text byte for byte), matches, media, decisions and
//	                reversals, legal holds, the item's audit events with
//	                their chain hashes, and the SHA-256 and size of every
//	                other file of the archive
//	README.txt      what the package is and how to verify it
//	media/<sha256>.<ext>  the original bytes of each media file still
//	                stored, named by their SHA-256 (purged ones are listed
//	                in the manifest only)
//
// Every entry is stamped with the manifest's generated_at, so the archive
// is a function of the stored data and that time. Entry names are built
// only from fixed names and hex hashes, never from post data.
//
// Exporting is audited (moderation.AuditEvidenceExport, details carrying
// the manifest's SHA-256) before the first byte is written. Media bytes
// are read from the store a chunk at a time and checked against their
// SHA-256 as they stream, so a package is never held in memory whole.
package evidence
