package moderation

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Appeals are complaints by users whose post was removed or reported to
// law enforcement, forwarded by the platform (EU Regulation 2021/784
// Art. 10, DSA Art. 20). A lead other than the one who made the decision
// appealed against resolves each once: upheld, or reinstated by a
// reversal to no_violation that reaches the platform like any reversal.

// AppealOutcome is how an appeal was resolved.
type AppealOutcome string

// Appeal outcomes, as stored and reported.
const (
	AppealUpheld     AppealOutcome = "upheld"
	AppealReinstated AppealOutcome = "reinstated"
)

// Appeal resolutions, as a lead asks for them.
const (
	ResolveUphold    = "uphold"
	ResolveReinstate = "reinstate"
)

// Appeal bounds. The statement is counted in characters (runes), as the
// page counts them.
const (
	MaxStatementLen   = 4000
	MaxAppealIDBytes  = 256
	MaxAppealsListing = 200
)

// Appeal status filters.
const (
	AppealsOpen     = "open"
	AppealsResolved = "resolved"
	AppealsAll      = "all"
)

// Appeal is one complaint and, once resolved, its outcome. Item carries
// the post as the review queue holds it (its text is gone once purged)
// and Decision the decision appealed against.
type Appeal struct {
	ID         int64     `json:"id"`
	ItemID     int64     `json:"item_id"`
	AppealID   string    `json:"appeal_id"` // the platform's
	PostID     string    `json:"post_id"`
	Statement  string    `json:"statement"`
	ReceivedAt time.Time `json:"received_at"`
	CreatedAt  time.Time `json:"created_at"`
	// Set once resolved.
	ResolvedAt      *time.Time    `json:"resolved_at,omitempty"`
	Outcome         AppealOutcome `json:"outcome,omitempty"`
	ResolvedBy      string        `json:"resolved_by,omitempty"`
	ReasonCode      string        `json:"reason_code,omitempty"`
	Note            string        `json:"note,omitempty"`
	ReinstatementID *int64        `json:"reinstatement_decision_id,omitempty"`

	Item     AppealItem `json:"item"`
	Decision Decision   `json:"decision"`
}

// AppealItem is what a lead needs to see of the appealed post.
type AppealItem struct {
	Platform     string     `json:"platform"`
	AuthorHandle string     `json:"author_handle"`
	Text         string     `json:"text"`
	Lang         string     `json:"lang"`
	URL          string     `json:"url"`
	Category     string     `json:"category"`
	Outcome      Action     `json:"outcome,omitempty"` // the item's latest decision
	PurgedAt     *time.Time `json:"purged_at,omitempty"`
}

// AppealInput is a complaint as the platform submits it.
type AppealInput struct {
	PostID     string    `json:"post_id"`
	AppealID   string    `json:"appeal_id"`
	Statement  string    `json:"statement"`
	ReceivedAt time.Time `json:"received_at"`
}

// MaxAppealClockSkew is how far in the future a complaint's receipt time
// may be (the platform's clock against ours).
const MaxAppealClockSkew = 5 * time.Minute

// Validate checks a complaint: ids printable and bounded, the statement
// valid UTF-8 without NUL of at most MaxStatementLen characters, and a
// receipt time not in the future (now is the server's time). Returns
// ErrInvalid.
func (in AppealInput) Validate(now time.Time) error {
	switch {
	case in.PostID == "" || !PrintableText(in.PostID, MaxIDBytes):
		return fmt.Errorf("post_id must be 1 to %d bytes of printable text: %w", MaxIDBytes, ErrInvalid)
	case in.AppealID == "" || !PrintableText(in.AppealID, MaxAppealIDBytes):
		return fmt.Errorf("appeal_id must be 1 to %d bytes of printable text: %w", MaxAppealIDBytes, ErrInvalid)
	case !utf8.ValidString(in.Statement) || strings.ContainsRune(in.Statement, 0):
		return fmt.Errorf("statement must be UTF-8 text without NUL characters: %w", ErrInvalid)
	case utf8.RuneCountInString(in.Statement) > MaxStatementLen:
		return fmt.Errorf("statement is longer than %d characters: %w", MaxStatementLen, ErrInvalid)
	case in.ReceivedAt.IsZero():
		return fmt.Errorf("received_at is required (RFC 3339): %w", ErrInvalid)
	case in.ReceivedAt.After(now.Add(MaxAppealClockSkew)):
		return fmt.Errorf("received_at is in the future: %w", ErrInvalid)
	}
	return nil
}

// Same reports whether a repeated submission carries the complaint a
// stored appeal records (intake is idempotent on the platform's id).
// Times compare at the microsecond Postgres keeps.
func (in AppealInput) Same(a Appeal) bool {
	return in.PostID == a.PostID && in.Statement == a.Statement &&
		in.ReceivedAt.Truncate(time.Microsecond).Equal(a.ReceivedAt.Truncate(time.Microsecond))
}

// AppealResolution is a lead's resolution of an appeal.
type AppealResolution struct {
	Outcome    string `json:"outcome"` // ResolveUphold or ResolveReinstate
	ReasonCode string `json:"reason_code"`
	Note       string `json:"note"`
}

// Validate checks a resolution against the reason codes: reinstating
// cites a code that justifies no_violation (it records that reversal),
// upholding one that justifies a removal or a report. Returns ErrInvalid.
func (in AppealResolution) Validate(codes ReasonCodes) error {
	switch in.Outcome {
	case ResolveReinstate:
		return in.Reinstatement().Validate(codes)
	case ResolveUphold:
		rc, ok := codes.Lookup(in.ReasonCode)
		if !ok {
			return fmt.Errorf("unknown reason code %q: %w", in.ReasonCode, ErrInvalid)
		}
		if !rc.AppliesTo(ActionRemove) && !rc.AppliesTo(ActionReport) {
			return fmt.Errorf("reason code %s does not justify a removal or report, so it cannot uphold one: %w", rc.Code, ErrInvalid)
		}
		if !utf8.ValidString(in.Note) || utf8.RuneCountInString(in.Note) > MaxNoteLen {
			return fmt.Errorf("note must be valid UTF-8 of at most %d characters: %w", MaxNoteLen, ErrInvalid)
		}
		return nil
	}
	return fmt.Errorf("outcome must be %s or %s: %w", ResolveUphold, ResolveReinstate, ErrInvalid)
}

// Reinstatement is the reversal a reinstating resolution records.
func (in AppealResolution) Reinstatement() DecisionInput {
	return DecisionInput{Action: ActionNoViolation, ReasonCode: in.ReasonCode, Note: in.Note}
}

// AppealFilter selects appeals to list: open ones oldest received first,
// resolved ones latest resolved first, all of them latest first.
type AppealFilter struct {
	Status string // AppealsOpen when empty
	Offset int
	Limit  int // 50 when zero, at most MaxAppealsListing
}

// AppealBacklog is the appeals still waiting for an outcome.
type AppealBacklog struct {
	Open int64
	// OldestReceived is when the oldest of them was sent by its user
	// (zero when none waits).
	OldestReceived time.Time
}
