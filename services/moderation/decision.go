package moderation

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Action is what a reviewer decided about an item.
type Action string

// Actions.
const (
	// ActionRemove takes the post down.
	ActionRemove Action = "remove"
	// ActionNoViolation clears the post.
	ActionNoViolation Action = "no_violation"
	// ActionEscalate hands the item to the leads queue; it is not final.
	ActionEscalate Action = "escalate"
	// ActionReport refers the post to law enforcement, with a note.
	ActionReport Action = "report"
)

// Actions lists every action.
var Actions = []Action{ActionRemove, ActionNoViolation, ActionEscalate, ActionReport}

// ParseAction reads an action name. Returns ErrInvalid for anything else.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown action %q (want remove, no_violation, escalate or report): %w", s, ErrInvalid)
}

// Final reports whether the action settles the item (everything but
// escalate). Final actions are announced on moderation.actions.
func (a Action) Final() bool { return a != ActionEscalate && a != "" }

// QueueLeads is the queue escalated items go to; only leads claim from it.
const (
	QueueDefault = "default"
	QueueLeads   = "leads"
)

// TopicActions is where decisions are announced, through the outbox.
const TopicActions = "moderation.actions"

// MaxNoteLen bounds a decision's free-text note, in characters (runes),
// not bytes: the page's field counts characters, so a note in Arabic or
// Chinese must not be refused for taking two or three bytes a letter.
const MaxNoteLen = 4000

// Decision is one reviewer's decision about one item. Decisions are never
// edited: a reversal is a new decision whose Reverses names the old one,
// and an item's outcome is its latest decision.
type Decision struct {
	ID          int64      `json:"id"`
	ItemID      int64      `json:"item_id"`
	ActorID     int64      `json:"actor_id"`
	Actor       string     `json:"actor"`
	Action      Action     `json:"action"`
	ReasonCode  string     `json:"reason_code"`
	Note        string     `json:"note,omitempty"`
	Reverses    *int64     `json:"reverses,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	SLADeadline time.Time  `json:"sla_deadline"`
	ClaimedAt   *time.Time `json:"claimed_at,omitempty"`
}

// DecisionInput is what a reviewer submits.
type DecisionInput struct {
	Action     Action `json:"action"`
	ReasonCode string `json:"reason_code"`
	Note       string `json:"note"`
}

// Validate checks the input against the configured reason codes: the code
// must exist and apply to the action, a report needs a note, and the note
// is bounded. Returns ErrInvalid.
func (in DecisionInput) Validate(codes ReasonCodes) error {
	if _, err := ParseAction(string(in.Action)); err != nil {
		return err
	}
	rc, ok := codes.Lookup(in.ReasonCode)
	if !ok {
		return fmt.Errorf("unknown reason code %q: %w", in.ReasonCode, ErrInvalid)
	}
	if !rc.AppliesTo(in.Action) {
		return fmt.Errorf("reason code %s does not apply to %s: %w", rc.Code, in.Action, ErrInvalid)
	}
	if !utf8.ValidString(in.Note) || utf8.RuneCountInString(in.Note) > MaxNoteLen {
		return fmt.Errorf("note must be valid UTF-8 of at most %d characters: %w", MaxNoteLen, ErrInvalid)
	}
	if in.Action == ActionReport && strings.TrimSpace(in.Note) == "" {
		return fmt.Errorf("a report to law enforcement needs a note: %w", ErrInvalid)
	}
	return nil
}

// ActionMessage is the payload announced on moderation.actions for every
// final decision and reversal, so the platform can act on it. ActionID is
// unique per message (the outbox id is not known before the insert, so it
// is "decision-<id>").
type ActionMessage struct {
	ActionID   string    `json:"action_id"`
	DecisionID int64     `json:"decision_id"`
	PostID     string    `json:"post_id"`
	Platform   string    `json:"platform"`
	Action     Action    `json:"action"`
	ReasonCode string    `json:"reason_code"`
	Actor      string    `json:"actor"`
	DecidedAt  time.Time `json:"decided_at"`
	Reverses   *int64    `json:"reverses"`
}

// ActorDisclosure says who the platform is told decided, in the actor
// field of the moderation.actions messages: the moderator's username
// (DiscloseName, the default), a pseudonym stable per moderator but
// meaningless outside Vigil ("user:ID", DiscloseID), or nobody
// (DiscloseNone). Moderators of terrorist content are targets; the
// platform needs the decision, not necessarily the name.
type ActorDisclosure string

const (
	DiscloseName ActorDisclosure = "name"
	DiscloseID   ActorDisclosure = "id"
	DiscloseNone ActorDisclosure = "none"
)

// ParseActorDisclosure reads name, id or none ("" is name).
func ParseActorDisclosure(s string) (ActorDisclosure, error) {
	switch d := ActorDisclosure(s); d {
	case "":
		return DiscloseName, nil
	case DiscloseName, DiscloseID, DiscloseNone:
		return d, nil
	}
	return "", fmt.Errorf("actor disclosure %q: want name, id or none: %w", s, ErrInvalid)
}

// Actor is what the platform is told of the moderator named username
// with user id id.
func (d ActorDisclosure) Actor(username string, id int64) string {
	switch d {
	case DiscloseID:
		return "user:" + strconv.FormatInt(id, 10)
	case DiscloseNone:
		return ""
	}
	return username
}

// ReasonCode is a policy reason a decision cites.
type ReasonCode struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	// Actions the code may justify; empty means every action.
	Actions []Action `json:"actions,omitempty"`
}

// AppliesTo reports whether the code may justify a.
func (rc ReasonCode) AppliesTo(a Action) bool {
	if len(rc.Actions) == 0 {
		return true
	}
	for _, x := range rc.Actions {
		if x == a {
			return true
		}
	}
	return false
}

// ReasonCodes is the configured list of reason codes, in file order.
type ReasonCodes []ReasonCode

// Lookup finds a code.
func (rs ReasonCodes) Lookup(code string) (ReasonCode, bool) {
	for _, r := range rs {
		if r.Code == code {
			return r, true
		}
	}
	return ReasonCode{}, false
}

var violating = []Action{ActionRemove, ActionEscalate, ActionReport}

// DefaultReasonCodes is used when no file is configured.
var DefaultReasonCodes = ReasonCodes{
	{Code: "TC-1", Title: "Terrorist propaganda or recruitment", Actions: violating},
	{Code: "TC-2", Title: "Incitement to commit a terrorist offence", Actions: violating},
	{Code: "VT-1", Title: "Violent threat against a person or group", Actions: violating},
	{Code: "HATE-1", Title: "Hate speech targeting a protected group", Actions: violating},
	{Code: "CSE-1", Title: "Child sexual exploitation", Actions: violating},
	{Code: "SPAM-1", Title: "Spam or platform manipulation", Actions: violating},
	{Code: "NV-1", Title: "No violation: the match is a false positive", Actions: []Action{ActionNoViolation, ActionEscalate}},
	{Code: "NV-2", Title: "No violation: news, research or counter-speech", Actions: []Action{ActionNoViolation, ActionEscalate}},
	{Code: "ESC-1", Title: "Unsure: needs a lead's judgement", Actions: []Action{ActionEscalate}},
}

var reasonCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,15}-[0-9]{1,4}$`)

// ParseReasonCodes reads a reason-code file: one code a line, as
//
//	CODE  [action,action]  Title text
//
// where the bracketed action list is optional (every action when absent).
// Blank lines and lines starting with # are ignored. Codes look like
// TC-1 or HATE-12, and every action needs a code that applies to it (else
// moderators could not record it). Errors wrap ErrInvalid and read
// "name:line: message" (name is the file's, for messages only).
func ParseReasonCodes(name string, r io.Reader) (ReasonCodes, error) {
	var out ReasonCodes
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 4096)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("%s:%d: not UTF-8: %w", name, n, ErrInvalid)
		}
		code, rest := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			code, rest = line[:i], line[i+1:]
		}
		if !reasonCodeRE.MatchString(code) {
			return nil, fmt.Errorf("%s:%d: reason code %q must look like ABC-1: %w", name, n, code, ErrInvalid)
		}
		if seen[code] {
			return nil, fmt.Errorf("%s:%d: reason code %s repeated: %w", name, n, code, ErrInvalid)
		}
		seen[code] = true
		rc := ReasonCode{Code: code}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "[") {
			list, title, ok := strings.Cut(rest[1:], "]")
			if !ok {
				return nil, fmt.Errorf("%s:%d: unclosed action list: %w", name, n, ErrInvalid)
			}
			for _, f := range strings.Split(list, ",") {
				a, err := ParseAction(strings.TrimSpace(f))
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, n, err)
				}
				rc.Actions = append(rc.Actions, a)
			}
			rest = strings.TrimSpace(title)
		}
		if rest == "" || len(rest) > 200 {
			return nil, fmt.Errorf("%s:%d: reason code %s needs a title of at most 200 bytes: %w", name, n, code, ErrInvalid)
		}
		rc.Title = rest
		out = append(out, rc)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w: %w", name, n+1, err, ErrInvalid)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no reason codes: %w", name, ErrInvalid)
	}
	for _, a := range Actions {
		if !slices.ContainsFunc(out, func(rc ReasonCode) bool { return rc.AppliesTo(a) }) {
			return nil, fmt.Errorf("%s: no reason code applies to %s, so moderators could not record it: %w", name, a, ErrInvalid)
		}
	}
	return out, nil
}

// ClaimFilter selects what a claim may hand out.
type ClaimFilter struct {
	Category string
	Lang     string
	Queue    string // QueueDefault when empty
	Count    int    // 1 when zero
}

// MaxClaim bounds how many items one claim hands out.
const MaxClaim = 50

// ItemDetail is an item with its review history.
type ItemDetail struct {
	Item
	Overdue   bool       `json:"overdue"`
	ClaimedAt *time.Time `json:"claimed_at,omitempty"`
	PurgedAt  *time.Time `json:"purged_at,omitempty"`
	Decisions []Decision `json:"decisions"`
	Hold      *LegalHold `json:"legal_hold,omitempty"`
}

// Cluster is a group of undecided items whose media matched the same
// hash-bank entry, i.e. copies of one known image, so one decision can
// cover them all. Re-uploads are re-encoded, resized or cropped, so their
// hashes differ by a few bits; grouping by the entry they matched (not by
// the media's hash) keeps them together.
type Cluster struct {
	ID         string    `json:"id"` // ClusterKey.String
	Bank       string    `json:"bank"`
	Entry      string    `json:"entry"`
	HashType   string    `json:"hash_type,omitempty"`
	Items      int       `json:"items"`
	MaxSev     Severity  `json:"severity"`
	Deadline   time.Time `json:"sla_deadline"`
	Categories []string  `json:"categories"`
}

// ClusterKey names a cluster: the bank entry its items matched.
type ClusterKey struct{ Bank, Entry string }

// MaxEntryID bounds a bank entry id in a cluster key.
const MaxEntryID = 256

// String is the key as clusters' URLs carry it: bank, a colon, the entry
// id (bank names have no colon; the entry id may, and is taken whole).
func (k ClusterKey) String() string { return k.Bank + ":" + k.Entry }

// ParseClusterKey reads a ClusterKey.String. Errors wrap ErrInvalid.
func ParseClusterKey(s string) (ClusterKey, error) {
	bank, entry, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return ClusterKey{}, fmt.Errorf("cluster id %q: want BANK:ENTRY (the bank entry its items matched): %w", s, ErrInvalid)
	case !ValidBankName(bank):
		return ClusterKey{}, fmt.Errorf("cluster id %q: bank name must be 1 to 64 of a-z 0-9 _ . - starting with a letter or digit: %w", s, ErrInvalid)
	case entry == "" || !PrintableText(entry, MaxEntryID):
		return ClusterKey{}, fmt.Errorf("cluster id %q: entry id must be 1 to %d bytes of printable UTF-8: %w", s, MaxEntryID, ErrInvalid)
	}
	return ClusterKey{Bank: bank, Entry: entry}, nil
}

// PrintableText says whether s is at most max bytes of UTF-8 without
// control characters: what bank entry ids and labels must be, so that
// they can name a cluster, be stored as Postgres text (which refuses NUL)
// and be shown to people.
func PrintableText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// ValidBankName says whether name can name a hash bank: 1 to 64 of
// a-z, 0-9, '_', '.' and '-', starting with a letter or digit.
func ValidBankName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// BulkResult says what a cluster decision did.
type BulkResult struct {
	Decisions []Decision `json:"decisions"`
	// Skipped are the ids of SkippedItems, in the same order; kept for
	// clients written before SkippedItems.
	Skipped []int64 `json:"skipped"`
	// SkippedItems are the items asked for that were not decided, each
	// with the reason, in item-id order.
	SkippedItems []SkippedItem `json:"skipped_items"`
	// Remaining counts the undecided members beyond MaxClusterDecision
	// that a decision without item ids did not consider: neither decided
	// nor skipped. Automation decides again until it is zero.
	Remaining int `json:"remaining"`
}

// SkippedItem is an item a cluster decision was asked to decide but did
// not, and why.
type SkippedItem struct {
	ItemID int64      `json:"item_id"`
	Reason SkipReason `json:"reason"`
}

// SkipReason says why a cluster decision left an item undecided, so a
// client can tell what is worth retrying and what is not.
type SkipReason string

// Skip reasons.
const (
	// SkipNotInCluster: the item was listed in the item ids but is not
	// an undecided member of the cluster, e.g. decided meanwhile, or it
	// never matched the entry. Deciding again will not decide it.
	SkipNotInCluster SkipReason = "not_in_cluster"
	// SkipHeld: another reviewer has claimed the item and their lease is
	// live. It may be decided once they release it or the lease ends.
	SkipHeld SkipReason = "held"
	// SkipLeadsQueue: the item is escalated, in the leads queue, and the
	// actor lacks PermDecideEscalated. A lead has to decide it.
	SkipLeadsQueue SkipReason = "leads_queue"
	// SkipBusy: the item qualified but its row was locked by a
	// concurrent transaction (a claim or a decision) at that moment, and
	// a cluster decision does not wait. Deciding again may decide it.
	SkipBusy SkipReason = "busy"
)

// CheckClusterItems validates the item ids a cluster decision is limited
// to (nil: no limit): at least one, at most MaxClusterDecision, each
// positive and listed once. Errors wrap ErrInvalid.
func CheckClusterItems(ids []int64) error {
	if ids == nil {
		return nil
	}
	if len(ids) == 0 || len(ids) > MaxClusterDecision {
		return fmt.Errorf("item_ids must list 1 to %d items (leave it out to decide the whole cluster): %w", MaxClusterDecision, ErrInvalid)
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id <= 0 {
			return fmt.Errorf("item_ids: %d is not an item id: %w", id, ErrInvalid)
		}
		if seen[id] {
			return fmt.Errorf("item_ids: item %d is listed twice: %w", id, ErrInvalid)
		}
		seen[id] = true
	}
	return nil
}

// MaxClusterDecision bounds the items one cluster decision covers.
const MaxClusterDecision = 1000

// LegalHold keeps an item's evidence past the retention period.
type LegalHold struct {
	ID       int64      `json:"id"`
	ItemID   int64      `json:"item_id"`
	Reason   string     `json:"reason"`
	PlacedBy string     `json:"placed_by"`
	PlacedAt time.Time  `json:"placed_at"`
	LiftedBy string     `json:"lifted_by,omitempty"`
	LiftedAt *time.Time `json:"lifted_at,omitempty"`
}

// Retention is how long the content of removed items is kept: a number of
// months (calendar) plus a duration.
type Retention struct {
	Months int
	Extra  time.Duration
}

// DefaultRetention keeps removed content for six months.
var DefaultRetention = Retention{Months: 6}

// Cutoff is the instant before which content decided at is purgeable.
func (r Retention) Cutoff(now time.Time) time.Time {
	return now.AddDate(0, -r.Months, 0).Add(-r.Extra)
}

func (r Retention) String() string {
	switch {
	case r.Months != 0 && r.Extra == 0:
		return strconv.Itoa(r.Months) + "mo"
	case r.Months == 0:
		return r.Extra.String()
	}
	return strconv.Itoa(r.Months) + "mo+" + r.Extra.String()
}

// ParseRetention reads "6mo", "180d" or a Go duration such as "720h".
// Returns ErrInvalid for anything else, and for periods under one hour
// (a typo there would destroy evidence).
func ParseRetention(s string) (Retention, error) {
	var r Retention
	switch {
	case strings.HasSuffix(s, "mo"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "mo"))
		if err != nil || n < 1 || n > 1200 {
			return r, fmt.Errorf("retention %q: want 1mo to 1200mo: %w", s, ErrInvalid)
		}
		r.Months = n
		return r, nil
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 1 || n > 36500 {
			return r, fmt.Errorf("retention %q: want 1d to 36500d: %w", s, ErrInvalid)
		}
		r.Extra = time.Duration(n) * 24 * time.Hour
		return r, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Hour {
		return r, fmt.Errorf("retention %q: want e.g. 6mo, 180d or 720h, at least 1h: %w", s, ErrInvalid)
	}
	r.Extra = d
	return r, nil
}

// PurgeResult says what a retention purge removed.
type PurgeResult struct {
	Items []int64 `json:"items"`
	Blobs int     `json:"blobs"`
	Held  int     `json:"held"` // purgeable but under legal hold, kept
}

// Stats summarises the queue and decisions, for leads and auditors.
type Stats struct {
	ByStatus       map[Status]int64 `json:"by_status"`
	Overdue        int64            `json:"overdue"`
	DecisionsBy    map[Action]int64 `json:"decisions_by_action"`
	Reversals      int64            `json:"reversals"`
	DecidedOnTime  int64            `json:"decided_within_sla"`
	DecidedLate    int64            `json:"decided_after_sla"`
	MedianDecideMs float64          `json:"median_time_to_decision_ms"`
}

// DecisionFilter narrows a listing of decisions. Zero fields do not
// narrow it.
type DecisionFilter struct {
	ItemID int64
	// PostID is the post's id on its platform: a legal request names
	// the post, not Vigil's item.
	PostID  string
	ActorID int64
	Actor   string // the actor's username
	Action  Action
	Since   time.Time // created at or after
	Until   time.Time // created before
	AfterID int64
	// BeforeID keeps decisions of lower ids: with Newest, the next page
	// starts before the last id of the one shown.
	BeforeID int64
	// Newest lists the latest decisions first (id descending) rather
	// than in id order.
	Newest bool
	Limit  int // 100 when zero, at most 1000
}

// AuditFilter narrows a reading of the audit log.
type AuditFilter struct {
	Action   string
	Actor    string
	Subject  string
	AfterSeq int64
	// BeforeSeq keeps events of lower sequence numbers (0: no bound).
	BeforeSeq int64
	// Newest lists the latest events first rather than in sequence order.
	Newest bool
	Limit  int // 100 when zero, at most 1000
}

// AuditVerification is the result of re-computing the audit hash chain.
type AuditVerification struct {
	OK     bool   `json:"ok"`
	Events int64  `json:"events"`
	Seq    int64  `json:"broken_at_seq,omitempty"` // the first event that does not verify
	Reason string `json:"reason,omitempty"`
}

// MediaBlob is stored evidence: the bytes of one media file.
type MediaBlob struct {
	MIME     string
	SHA256   string
	Bytes    []byte // nil once purged
	PurgedAt *time.Time
}
