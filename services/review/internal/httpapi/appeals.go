package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Appeals are users' complaints against removals (postgres.Reviews).
type Appeals interface {
	// SubmitAppeal takes in a complaint, idempotently on its appeal id
	// (created false for a repeat). Returns ErrNotFound for an unknown
	// post, ErrConflict for a reused appeal id, a post not removed or
	// reported, or one with an open appeal.
	SubmitAppeal(ctx context.Context, actor moderation.User, tokenID int64, in moderation.AppealInput) (moderation.Appeal, bool, error)
	Appeals(ctx context.Context, f moderation.AppealFilter) ([]moderation.Appeal, error)
	// ResolveAppeal resolves an appeal once. Returns ErrNotFound and
	// ErrConflict (resolved already, the actor made the decision, or the
	// decision was superseded).
	ResolveAppeal(ctx context.Context, actor moderation.User, id int64, in moderation.AppealResolution) (moderation.Appeal, error)
}

var errNoAppeals = errors.New("appeals are not configured")

// submitAppeal is the platform's intake of a user's complaint: 201 with
// the new appeal, 200 with the stored one when the same complaint comes
// again (a retry), 409 when the appeal id was used for another one; as an
// appealReceipt.
func (s *Server) submitAppeal(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	if s.Appeals == nil {
		return errNoAppeals
	}
	if err := utf8Body(w, r); err != nil {
		return err
	}
	var in moderation.AppealInput
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	if err := in.Validate(s.Clock.Now()); err != nil {
		return err
	}
	ap, created, err := s.Appeals.SubmitAppeal(r.Context(), a.User, a.TokenID, in)
	if errors.Is(err, moderation.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: fmt.Sprintf("no flagged post %q is known to Vigil", in.PostID)}
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"appeal": receiptOf(ap)})
	return nil
}

// appealReceipt is what the platform's intake is told of an appeal: not
// who decided or resolved it, nor their notes (the platform learns an
// actor only as --actions-actor discloses it, and moderators of terrorist
// content are targets), nor the post it holds itself.
type appealReceipt struct {
	ID              int64                    `json:"id"`
	ItemID          int64                    `json:"item_id"`
	AppealID        string                   `json:"appeal_id"`
	PostID          string                   `json:"post_id"`
	Statement       string                   `json:"statement"`
	ReceivedAt      time.Time                `json:"received_at"`
	CreatedAt       time.Time                `json:"created_at"`
	ResolvedAt      *time.Time               `json:"resolved_at,omitempty"`
	Outcome         moderation.AppealOutcome `json:"outcome,omitempty"`
	ReasonCode      string                   `json:"reason_code,omitempty"`
	ReinstatementID *int64                   `json:"reinstatement_decision_id,omitempty"`
	Decision        appealedDecision         `json:"decision"`
}

// appealedDecision is the decision appealed against, as the platform's
// intake is told of it.
type appealedDecision struct {
	ID         int64             `json:"id"`
	Action     moderation.Action `json:"action"`
	ReasonCode string            `json:"reason_code"`
	CreatedAt  time.Time         `json:"created_at"`
}

func receiptOf(a moderation.Appeal) appealReceipt {
	return appealReceipt{ID: a.ID, ItemID: a.ItemID, AppealID: a.AppealID, PostID: a.PostID, Statement: a.Statement,
		ReceivedAt: a.ReceivedAt, CreatedAt: a.CreatedAt, ResolvedAt: a.ResolvedAt, Outcome: a.Outcome,
		ReasonCode: a.ReasonCode, ReinstatementID: a.ReinstatementID,
		Decision: appealedDecision{ID: a.Decision.ID, Action: a.Decision.Action, ReasonCode: a.Decision.ReasonCode, CreatedAt: a.Decision.CreatedAt}}
}

// utf8Body refuses a body that is not UTF-8: JSON's decoder would
// replace the bad bytes, changing a user's statement silently.
func utf8Body(w http.ResponseWriter, r *http.Request) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large", msg: fmt.Sprintf("body is over %d bytes", maxBody)}
	case err != nil:
		return invalid("reading the body failed")
	case !utf8.Valid(b):
		return invalid("the body must be UTF-8")
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return nil
}

// listAppeals lists appeals with the post and the decision appealed
// against: open ones (the default) oldest received first.
func (s *Server) listAppeals(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "status", "limit", "offset")
	f := moderation.AppealFilter{
		Status: q.oneOf("status", moderation.AppealsOpen, moderation.AppealsResolved, moderation.AppealsAll),
		Limit:  int(q.int("limit", 1, moderation.MaxAppealsListing, 50)),
		Offset: int(q.int("offset", 0, 1_000_000, 0)),
	}
	if q.err != nil {
		return q.err
	}
	if s.Appeals == nil {
		return errNoAppeals
	}
	as, err := s.Appeals.Appeals(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeals": as})
	return nil
}

// resolveAppeal is a lead's resolution: uphold, or reinstate (a reversal
// to no_violation, announced to the platform). Not by whoever made the
// decision appealed against.
func (s *Server) resolveAppeal(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in moderation.AppealResolution
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	if err := in.Validate(s.ReasonCodes); err != nil {
		return err
	}
	if s.Appeals == nil {
		return errNoAppeals
	}
	ap, err := s.Appeals.ResolveAppeal(r.Context(), a.User, id, in)
	if errors.Is(err, moderation.ErrNotFound) {
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: fmt.Sprintf("no appeal %d", id)}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"appeal": ap})
	return nil
}
