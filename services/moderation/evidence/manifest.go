package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Manifest is manifest.json. Every time is UTC, RFC 3339.
type Manifest struct {
	Format        string          `json:"format"`
	FormatVersion int             `json:"format_version"`
	GeneratedAt   time.Time       `json:"generated_at"`
	GeneratedBy   string          `json:"generated_by"`
	Generator     string          `json:"generator"`
	Item          Item            `json:"item"`
	Post          Post            `json:"post"`
	Matches       []Match         `json:"matches"`
	Media         []ManifestMedia `json:"media"`
	Decisions     []Decision      `json:"decisions"`
	LegalHolds    []Hold          `json:"legal_holds"`
	Appeals       []Appeal        `json:"appeals"`
	AuditEvents   []AuditEvent    `json:"audit_events"`
	// AuditComplete is false when the item has more than MaxAuditEvents
	// events: the first ones are listed.
	AuditComplete bool           `json:"audit_events_complete"`
	Files         []ManifestFile `json:"files"`
}

// Item is the review item.
type Item struct {
	ID          int64      `json:"id"`
	Status      string     `json:"status"`
	Category    string     `json:"category"`
	Severity    string     `json:"severity"`
	FlaggedAt   time.Time  `json:"flagged_at"`
	SLADeadline time.Time  `json:"sla_deadline"`
	Queue       string     `json:"queue"`
	DecidedAt   *time.Time `json:"decided_at"`
	// Clusters are the hash-bank entries (BANK:ENTRY) its media matched:
	// the clusters of copies of one known image it belongs to.
	Clusters []string `json:"clusters"`
}

// Post is the post as stored. Text is exactly the stored text; TextSHA256
// is the SHA-256 of its UTF-8 bytes, so a recipient can check a decoded
// copy byte for byte. After a retention purge the text, handle and URL
// are empty and ContentPurgedAt says when they went.
type Post struct {
	PostID          string     `json:"post_id"`
	Platform        string     `json:"platform"`
	AuthorID        string     `json:"author_id"`
	AuthorHandle    string     `json:"author_handle"`
	URL             string     `json:"url"`
	Text            string     `json:"text"`
	TextSHA256      string     `json:"text_sha256"`
	Lang            string     `json:"lang"`
	CreatedAt       time.Time  `json:"created_at"`
	ContentPurgedAt *time.Time `json:"content_purged_at"`
}

// Match is one reason the post was flagged: a keyword rule (rule_id,
// rule_version, spans: byte ranges [start, end) of the text) or a hash-bank
// entry (bank, entry_id, hash_type, hash, distance, media_id).
type Match struct {
	RuleID      string            `json:"rule_id,omitempty"`
	RuleVersion int64             `json:"rule_version,omitempty"`
	Category    string            `json:"category"`
	Severity    string            `json:"severity"`
	Spans       []moderation.Span `json:"spans,omitempty"`
	Bank        string            `json:"bank,omitempty"`
	EntryID     string            `json:"entry_id,omitempty"`
	HashType    string            `json:"hash_type,omitempty"`
	Hash        string            `json:"hash,omitempty"`
	Distance    *int              `json:"distance,omitempty"`
	MediaID     string            `json:"media_id,omitempty"`
}

// Media statuses.
const (
	MediaIncluded  = "included"   // the bytes are in the archive, at File
	MediaPurged    = "purged"     // the retention purge removed the bytes
	MediaNotStored = "not_stored" // the bytes were never fetched
)

// ManifestMedia is one media file of the post.
type ManifestMedia struct {
	MediaID     string     `json:"media_id"`
	SHA256      string     `json:"sha256,omitempty"`
	Size        *int64     `json:"size,omitempty"`
	ContentType string     `json:"content_type"`
	URL         string     `json:"url,omitempty"`
	Status      string     `json:"status"`
	Included    bool       `json:"included"`
	File        string     `json:"file,omitempty"`
	PurgedAt    *time.Time `json:"purged_at,omitempty"`
}

// Decision is one decision on the item; a reversal names the decision it
// reverses in ReversalOf.
type Decision struct {
	ID          int64      `json:"id"`
	Action      string     `json:"action"`
	ReasonCode  string     `json:"reason_code"`
	Note        string     `json:"note"`
	Actor       string     `json:"actor"`
	DecidedAt   time.Time  `json:"decided_at"`
	SLADeadline time.Time  `json:"sla_deadline"`
	ClaimedAt   *time.Time `json:"claimed_at,omitempty"`
	ReversalOf  *int64     `json:"reversal_of"`
}

// Hold is a legal hold, active when LiftedAt is null.
type Hold struct {
	ID       int64      `json:"id"`
	Reason   string     `json:"reason"`
	PlacedBy string     `json:"placed_by"`
	PlacedAt time.Time  `json:"placed_at"`
	LiftedBy string     `json:"lifted_by,omitempty"`
	LiftedAt *time.Time `json:"lifted_at"`
}

// Appeal is a user's complaint against a decision on the item, as the
// platform forwarded it, and its outcome once a lead resolved it.
// Statement is empty once the retention purge took the item's content.
type Appeal struct {
	ID              int64      `json:"id"`
	AppealID        string     `json:"appeal_id"` // the platform's
	DecisionID      int64      `json:"decision_id"`
	Statement       string     `json:"statement"`
	ReceivedAt      time.Time  `json:"received_at"`
	Outcome         string     `json:"outcome,omitempty"` // upheld or reinstated; empty while open
	ResolvedAt      *time.Time `json:"resolved_at"`
	ResolvedBy      string     `json:"resolved_by,omitempty"`
	ReasonCode      string     `json:"reason_code,omitempty"`
	Note            string     `json:"note,omitempty"`
	ReinstatementID *int64     `json:"reinstatement_decision_id,omitempty"`
}

// addAppeals lists appeals in the manifest.
func (m *Manifest) addAppeals(appeals []moderation.Appeal) {
	m.Appeals = make([]Appeal, 0, len(appeals))
	for _, a := range appeals {
		m.Appeals = append(m.Appeals, Appeal{ID: a.ID, AppealID: a.AppealID, DecisionID: a.Decision.ID, Statement: a.Statement,
			ReceivedAt: a.ReceivedAt.UTC(), Outcome: string(a.Outcome), ResolvedAt: utc(a.ResolvedAt), ResolvedBy: a.ResolvedBy,
			ReasonCode: a.ReasonCode, Note: a.Note, ReinstatementID: a.ReinstatementID})
	}
}

// AuditEvent is an event of Vigil's hash-chained audit log whose subject
// is the item. DetailsText is the details exactly as hashed; Hash is
// SHA-256 over the length-prefixed fields prev_hash, seq, at (RFC 3339
// with nanoseconds, UTC), actor, action, subject, details_text, each
// written as its byte length in decimal, a colon, and the bytes
// (moderation.ChainHash).
type AuditEvent struct {
	Seq         int64           `json:"seq"`
	At          time.Time       `json:"at"`
	Actor       string          `json:"actor"`
	Action      string          `json:"action"`
	Subject     string          `json:"subject"`
	Details     json.RawMessage `json:"details"`
	DetailsText string          `json:"details_text"`
	PrevHash    string          `json:"prev_hash"`
	Hash        string          `json:"hash"`
}

// ManifestFile is a file of the archive other than manifest.json.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

func newManifest(now time.Time, actor, generator string, d moderation.ItemDetail, holds []moderation.LegalHold,
	events []moderation.AuditEvent, complete bool) Manifest {
	textSum := sha256.Sum256([]byte(d.Text))
	m := Manifest{
		Format: Format, FormatVersion: FormatVersion, GeneratedAt: now, GeneratedBy: actor, Generator: generator,
		Item: Item{ID: d.ID, Status: string(d.Status), Category: d.Category, Severity: d.Severity.String(),
			FlaggedAt: d.FlaggedAt.UTC(), SLADeadline: d.SLADeadline.UTC(), Queue: d.Queue, DecidedAt: utc(d.DecidedAt),
			Clusters: []string{}},
		Post: Post{PostID: d.PostID, Platform: d.Platform, AuthorID: d.AuthorID, AuthorHandle: d.AuthorHandle, URL: d.URL,
			Text: d.Text, TextSHA256: hex.EncodeToString(textSum[:]), Lang: d.Lang, CreatedAt: d.PostCreatedAt.UTC(),
			ContentPurgedAt: utc(d.PurgedAt)},
		Matches: make([]Match, 0, len(d.Matches)), Decisions: make([]Decision, 0, len(d.Decisions)),
		LegalHolds: make([]Hold, 0, len(holds)), AuditEvents: make([]AuditEvent, 0, len(events)), AuditComplete: complete,
	}
	for _, mt := range d.Matches {
		x := Match{RuleID: mt.RuleID, RuleVersion: mt.RuleVersion, Category: mt.Category, Severity: mt.Severity.String(),
			Spans: mt.Spans, Bank: mt.Bank, EntryID: mt.EntryID, HashType: mt.HashType, Hash: mt.Hash, MediaID: mt.MediaID}
		if mt.Bank != "" {
			dist := mt.Distance
			x.Distance = &dist
			if c := (moderation.ClusterKey{Bank: mt.Bank, Entry: mt.EntryID}).String(); !slices.Contains(m.Item.Clusters, c) {
				m.Item.Clusters = append(m.Item.Clusters, c)
			}
		}
		m.Matches = append(m.Matches, x)
	}
	slices.Sort(m.Item.Clusters)
	for _, dc := range d.Decisions {
		m.Decisions = append(m.Decisions, Decision{ID: dc.ID, Action: string(dc.Action), ReasonCode: dc.ReasonCode, Note: dc.Note,
			Actor: dc.Actor, DecidedAt: dc.CreatedAt.UTC(), SLADeadline: dc.SLADeadline.UTC(), ClaimedAt: utc(dc.ClaimedAt),
			ReversalOf: dc.Reverses})
	}
	for _, h := range holds {
		m.LegalHolds = append(m.LegalHolds, Hold{ID: h.ID, Reason: h.Reason, PlacedBy: h.PlacedBy, PlacedAt: h.PlacedAt.UTC(),
			LiftedBy: h.LiftedBy, LiftedAt: utc(h.LiftedAt)})
	}
	for _, ev := range events {
		details := ev.Details
		if !json.Valid(details) {
			details = json.RawMessage("null")
		}
		m.AuditEvents = append(m.AuditEvents, AuditEvent{Seq: ev.Seq, At: ev.At.UTC(), Actor: ev.Actor, Action: ev.Action,
			Subject: ev.Subject, Details: details, DetailsText: string(ev.Details), PrevHash: ev.PrevHash, Hash: ev.Hash})
	}
	return m
}

// encodeManifest is the manifest as manifest.json holds it: indented,
// without HTML escaping (the text stays as readable as it was stored).
func encodeManifest(m Manifest) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	return b.Bytes(), nil
}

// readme is README.txt: what the package is and how to check it. It names
// no post data, only the item id and who made it when.
func readme(m Manifest) []byte {
	var b strings.Builder
	w := func(lines ...string) {
		for _, l := range lines {
			b.WriteString(l)
			b.WriteString("\r\n") // readable in every text editor of the recipients
		}
	}
	w("VIGIL EVIDENCE PACKAGE",
		"",
		"Item:         "+strconv.FormatInt(m.Item.ID, 10),
		"Generated at: "+m.GeneratedAt.Format(time.RFC3339),
		"Generated by: "+printableLine(m.GeneratedBy)+" ("+printableLine(m.Generator)+")",
		"Format:       "+Format+" version "+strconv.Itoa(FormatVersion),
		"",
		"This archive is everything Vigil, a content-moderation system, holds about",
		"one flagged post: the post as it was stored, why it was flagged, the",
		"original media, every moderation decision (reversals included), legal",
		"holds, and the audit-log events about it. It was exported for a referral",
		"to law enforcement or in answer to a legal request, and the export itself",
		"is recorded in Vigil's audit log.",
		"",
		"CONTENTS",
		"",
		"  manifest.json         all the records, as JSON (times in UTC); the post's",
		"                        text is the \"text\" field of \"post\", exactly as stored",
		"  README.txt            this file",
		"  media/<sha256>.<ext>  the original bytes of each media file still stored,",
		"                        named by the SHA-256 of their content. Media purged",
		"                        under the retention policy are listed in the",
		"                        manifest (\"status\": \"purged\") but not included.",
		"",
		"WARNING: the post and its media may be violent or terrorist content.",
		"",
		"HOW TO VERIFY",
		"",
		"1. Every file other than manifest.json is listed in the manifest's \"files\"",
		"   with its SHA-256 and size. Compute the hashes and compare:",
		"",
		"     sha256sum README.txt media/*",
		"",
		"   or check them all at once (needs jq):",
		"",
		"     jq -r '.files[] | \"\\(.sha256)  \\(.path)\"' manifest.json | sha256sum -c -",
		"",
		"2. The SHA-256 of manifest.json (sha256sum manifest.json) is recorded in",
		"   Vigil's audit log, in the evidence_exported event of this export",
		"   (details.manifest_sha256). The platform can confirm it.",
		"",
		"3. Each entry of \"audit_events\" carries its place in Vigil's hash-chained",
		"   audit log (seq, prev_hash, hash). Its hash is the SHA-256 of the fields",
		"   prev_hash, seq, at, actor, action, subject and details_text, each",
		"   written as its length in bytes (decimal), a colon, then its bytes. The",
		"   platform verifies the whole chain with `vigilctl audit verify` and can",
		"   confirm that events of these seq numbers have these hashes.",
		"",
		"4. \"text_sha256\" in \"post\" is the SHA-256 of the post's text as UTF-8.",
	)
	return []byte(b.String())
}

// printableLine drops line breaks and other control characters from a
// name written into README.txt (the operator's name comes from a flag).
func printableLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
