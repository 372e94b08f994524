package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

var statusNames = map[string]moderation.Status{
	"pending": moderation.StatusPending, "claimed": moderation.StatusClaimed,
	"escalated": moderation.StatusEscalated, "decided": moderation.StatusDecided,
}

// listQueue lists items in priority order (severity, SLA deadline, age),
// each with its overdue flag.
func (s *Server) listQueue(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "status", "category", "lang", "queue", "limit")
	f := moderation.ItemFilter{
		Category: q.str("category", 64),
		Lang:     q.str("lang", 16),
		Queue:    q.oneOf("queue", moderation.QueueDefault, moderation.QueueLeads),
		Limit:    int(q.int("limit", 1, 500, 100)),
	}
	for _, name := range strings.Split(q.str("status", 64), ",") {
		if name == "" {
			continue
		}
		st, ok := statusNames[name]
		if !ok {
			q.fail("status must be a comma-separated list of pending, claimed, escalated, decided")
		}
		f.Status = append(f.Status, st)
	}
	if len(f.Status) == 0 {
		f.Status = []moderation.Status{moderation.StatusPending}
	}
	if q.err != nil {
		return q.err
	}
	items, err := s.Reviews.List(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

type claimRequest struct {
	Count    int    `json:"count"`
	Category string `json:"category"`
	Lang     string `json:"lang"`
	Queue    string `json:"queue"`
}

// claim hands the caller the next items under a lease. Only leads claim
// from the leads queue.
func (s *Server) claim(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	var req claimRequest
	if r.ContentLength != 0 {
		if err := decodeBody(w, r, &req); err != nil {
			return err
		}
	}
	f, err := claimFilter(req, a)
	if err != nil {
		return err
	}
	items, err := s.Reviews.Claim(r.Context(), a.User, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// claimFilter checks a claim request; only leads claim from the leads
// queue.
func claimFilter(req claimRequest, a *auth) (moderation.ClaimFilter, error) {
	switch {
	case req.Count < 0 || req.Count > moderation.MaxClaim:
		return moderation.ClaimFilter{}, invalid("count must be 1 to 50")
	case len(req.Category) > 64 || len(req.Lang) > 16:
		return moderation.ClaimFilter{}, invalid("category is at most 64 bytes, lang at most 16")
	case req.Queue != "" && req.Queue != moderation.QueueDefault && req.Queue != moderation.QueueLeads:
		return moderation.ClaimFilter{}, invalid("queue must be default or leads")
	case req.Queue == moderation.QueueLeads && !a.Can(moderation.PermDecideEscalated):
		return moderation.ClaimFilter{}, &apiError{status: http.StatusForbidden, code: "forbidden", msg: "only leads claim from the leads queue"}
	}
	return moderation.ClaimFilter{Category: req.Category, Lang: req.Lang, Queue: req.Queue, Count: req.Count}, nil
}

func (s *Server) claimed(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	items, err := s.Reviews.Claimed(r.Context(), a.User)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) item(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.Reviews.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) release(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Reviews.Release(r.Context(), a.User, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decisionInput reads and validates a decision body.
func (s *Server) decisionInput(w http.ResponseWriter, r *http.Request) (moderation.DecisionInput, error) {
	var in moderation.DecisionInput
	if err := params(r).err; err != nil {
		return in, err
	}
	if err := decodeBody(w, r, &in); err != nil {
		return in, err
	}
	return in, in.Validate(s.ReasonCodes)
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, a *auth) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.decisionInput(w, r)
	if err != nil {
		return err
	}
	d, err := s.Reviews.Decide(r.Context(), a.User, a.Can(moderation.PermDecideEscalated), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"decision": d})
	return nil
}

// clusterDecisionRequest is a decision for a cluster's items: all of its
// undecided ones, or only those of ItemIDs (the ones the moderator saw
// and confirmed).
type clusterDecisionRequest struct {
	moderation.DecisionInput
	ItemIDs clusterItems `json:"item_ids"`
}

// clusterItems is item_ids as sent: absent, null or a list. Null is told
// apart from absent because clients that write an empty or missing list
// as null would otherwise decide the whole cluster, unseen.
type clusterItems struct {
	ids  []int64
	null bool
}

func (c *clusterItems) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		c.null = true
		return nil
	}
	return json.Unmarshal(b, &c.ids)
}

type decisionAndClaimRequest struct {
	moderation.DecisionInput
	Next claimRequest `json:"next"`
}

// decideAndClaim is submit-and-next: the decision of decide and the claim
// of claim (with next) in one transaction; nothing is claimed unless the
// decision was recorded.
func (s *Server) decideAndClaim(w http.ResponseWriter, r *http.Request, a *auth) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := params(r).err; err != nil {
		return err
	}
	var req decisionAndClaimRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := req.DecisionInput.Validate(s.ReasonCodes); err != nil {
		return err
	}
	f, err := claimFilter(req.Next, a)
	if err != nil {
		return err
	}
	d, items, err := s.Reviews.DecideAndClaim(r.Context(), a.User, a.Can(moderation.PermDecideEscalated), id, req.DecisionInput, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"decision": d, "items": items})
	return nil
}

func (s *Server) reverse(w http.ResponseWriter, r *http.Request, a *auth) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	in, err := s.decisionInput(w, r)
	if err != nil {
		return err
	}
	d, err := s.Reviews.Reverse(r.Context(), a.User, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"decision": d})
	return nil
}

func (s *Server) decisions(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "item_id", "post_id", "actor_id", "actor", "action", "since", "until", "after_id", "before_id", "order", "limit")
	f := moderation.DecisionFilter{
		ItemID:   q.int("item_id", 1, 1<<62, 0),
		PostID:   q.str("post_id", moderation.MaxIDBytes),
		ActorID:  q.int("actor_id", 1, 1<<62, 0),
		Actor:    q.str("actor", moderation.MaxUsernameLen),
		Action:   moderation.Action(q.oneOf("action", actionNames()...)),
		Since:    q.time("since"),
		Until:    q.time("until"),
		AfterID:  q.int("after_id", 0, 1<<62, 0),
		BeforeID: q.int("before_id", 1, 1<<62, 0),
		Newest:   q.oneOf("order", "asc", "desc") == "desc",
		Limit:    int(q.int("limit", 1, 1000, 100)),
	}
	if q.err != nil {
		return q.err
	}
	ds, err := s.Reviews.Decisions(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"decisions": ds})
	return nil
}

// actionNames lists the decision actions, for filters.
func actionNames() []string {
	out := make([]string, len(moderation.Actions))
	for i, a := range moderation.Actions {
		out[i] = string(a)
	}
	return out
}

// clusterKey reads the cluster id of the path (BANK:ENTRY, escaped as a
// path segment: an entry id may hold '/').
func clusterKey(r *http.Request) (moderation.ClusterKey, error) {
	return moderation.ParseClusterKey(r.PathValue("id"))
}

func (s *Server) clusters(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "limit")
	limit := q.int("limit", 1, 500, 100)
	if q.err != nil {
		return q.err
	}
	cs, err := s.Reviews.Clusters(r.Context(), int(limit))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"clusters": cs})
	return nil
}

func (s *Server) cluster(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	k, err := clusterKey(r)
	if err != nil {
		return err
	}
	items, err := s.Reviews.ClusterItems(r.Context(), k)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return moderation.ErrNotFound
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": k.String(), "bank": k.Bank, "entry": k.Entry, "items": items})
	return nil
}

func (s *Server) decideCluster(w http.ResponseWriter, r *http.Request, a *auth) error {
	k, err := clusterKey(r)
	if err != nil {
		return err
	}
	if err := params(r).err; err != nil {
		return err
	}
	var req clusterDecisionRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.ItemIDs.null {
		return invalid("item_ids is null: leave it out to decide the whole cluster, or list the items")
	}
	if err := req.DecisionInput.Validate(s.ReasonCodes); err != nil {
		return err
	}
	res, err := s.Reviews.DecideCluster(r.Context(), a.User, a.Can(moderation.PermDecideEscalated), k, req.DecisionInput, req.ItemIDs.ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// queueStatsRow is one category and status of the open queue.
type queueStatsRow struct {
	Category      string            `json:"category"`
	Status        moderation.Status `json:"status"`
	Items         int64             `json:"items"`
	Overdue       int64             `json:"overdue"`
	OldestFlagged time.Time         `json:"oldest_flagged_at"`
	NextDeadline  time.Time         `json:"next_deadline"`
}

// queueStats serves the open queue by category and status: how many
// items, how many past their SLA deadline, the oldest flag and the next
// deadline; what a lead watches to move people to where the SLA is at
// risk. It reads every open item, so it runs on the reports' pool.
func (s *Server) queueStats(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if q := params(r); q.err != nil {
		return q.err
	}
	now := s.Clock.Now()
	st, err := s.Reports.QueueStats(r.Context(), now)
	if err != nil {
		return err
	}
	rows := make([]queueStatsRow, 0, len(st))
	var items, overdue int64
	for _, q := range st {
		rows = append(rows, queueStatsRow{Category: q.Category, Status: q.Status, Items: q.Items, Overdue: q.Overdue,
			OldestFlagged: q.OldestFlagged, NextDeadline: q.NextDeadline})
		items += q.Items
		overdue += q.Overdue
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": now, "items": items, "overdue": overdue, "rows": rows})
	return nil
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request, _ *auth) error {
	q := params(r, "since")
	since := q.time("since")
	if q.err != nil {
		return q.err
	}
	st, err := s.Reviews.Stats(r.Context(), since)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
