package httpapi

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/vigil-moderation/vigil/services/moderation"
)

type holdRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) placeHold(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req holdRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	h, err := s.Reviews.PlaceHold(r.Context(), a.User, id, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"hold": h})
	return nil
}

func (s *Server) liftHold(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Reviews.LiftHold(r.Context(), a.User, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) holds(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "all")
	all := q.bool("all")
	if q.err != nil {
		return q.err
	}
	hs, err := s.Reviews.Holds(r.Context(), all)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": hs})
	return nil
}

// purge runs the retention purge now, with the configured period.
func (s *Server) purge(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	cutoff := s.Retention.Cutoff(s.Clock.Now())
	res, err := s.Reviews.Purge(r.Context(), a.User.Username, cutoff)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cutoff": cutoff, "retention": s.Retention.String(), "result": res})
	return nil
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "action", "actor", "subject", "after_seq", "before_seq", "order", "limit")
	f := moderation.AuditFilter{
		Action:    q.oneOf("action", moderation.AuditActions()...),
		Actor:     q.str("actor", 128),
		Subject:   q.str("subject", 128),
		AfterSeq:  q.int("after_seq", 0, 1<<62, 0),
		BeforeSeq: q.int("before_seq", 1, 1<<62, 0),
		Newest:    q.oneOf("order", "asc", "desc") == "desc",
		Limit:     int(q.int("limit", 1, 1000, 100)),
	}
	if q.err != nil {
		return q.err
	}
	evs, err := s.Audit.Read(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
	return nil
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	v, err := s.Audit.Verify(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	us, err := s.Users.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
	return nil
}

type userRequest struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Roles    []string `json:"roles"`
}

// parseRoles reads the roles of a user request, each named once;
// required ones must be present (a role change without them would strip
// the user's roles).
func parseRoles(names []string, required bool) ([]moderation.Role, error) {
	if names == nil && required {
		return nil, invalid(`roles is required: a list such as ["moderator"], [] for none`)
	}
	if len(names) > len(moderation.AllRoles) {
		return nil, invalid("too many roles")
	}
	roles := []moderation.Role{}
	for _, n := range names {
		r, err := moderation.ParseRole(n)
		if err != nil {
			return nil, err
		}
		if slices.Contains(roles, r) {
			return nil, invalid(fmt.Sprintf("role %s is given more than once", r))
		}
		roles = append(roles, r)
	}
	return roles, nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	var req userRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	roles, err := parseRoles(req.Roles, false)
	if err != nil {
		return err
	}
	u, err := s.Users.Create(r.Context(), a.User.Username, req.Username, req.Password, roles)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": u})
	return nil
}

type rolesRequest struct {
	Roles []string `json:"roles"`
}

// targetUser reads the {id} of a user-management route and refuses to let
// admins act on themselves (so nobody locks out the last admin by mistake).
func targetUser(r *http.Request, a *auth) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if id == a.User.ID {
		return 0, fmt.Errorf("change your own account through another admin: %w", moderation.ErrConflict)
	}
	return id, nil
}

func (s *Server) setRoles(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := targetUser(r, a)
	if err != nil {
		return err
	}
	var req rolesRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	roles, err := parseRoles(req.Roles, true)
	if err != nil {
		return err
	}
	u, err := s.Users.SetRoles(r.Context(), a.User.Username, id, roles)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := targetUser(r, a)
	if err != nil {
		return err
	}
	u, err := s.Users.Disable(r.Context(), a.User.Username, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

func (s *Server) enableUser(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := targetUser(r, a)
	if err != nil {
		return err
	}
	u, err := s.Users.Enable(r.Context(), a.User.Username, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := targetUser(r, a)
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	u, err := s.Users.ResetPassword(r.Context(), a.User.Username, id, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
	return nil
}

// userTokens lists a user's API tokens (names, scopes, dates; secrets are
// never stored), so an admin can find the one that leaked.
func (s *Server) userTokens(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	owner, err := s.Users.Get(r.Context(), id)
	if err != nil {
		return err
	}
	toks, err := s.Users.Tokens(r.Context(), owner.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": toks})
	return nil
}

// revokeUserToken revokes one of a user's API tokens (audited): a leaked
// token is stopped without disabling its owner.
func (s *Server) revokeUserToken(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tid, err := pathID(r, "token_id")
	if err != nil {
		return err
	}
	owner, err := s.Users.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if err := s.Users.RevokeToken(r.Context(), a.User.Username, owner, tid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
