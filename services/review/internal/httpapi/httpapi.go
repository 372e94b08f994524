// Package httpapi is vigil-review's JSON API under /api/v1. It sees the
// domain only through interfaces; one function maps domain errors to HTTP
// status codes and the JSON error body {"error": {"code", "message"}}.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// QueueReader lists review items.
type QueueReader interface {
	List(ctx context.Context, f moderation.ItemFilter) ([]moderation.Item, error)
}

// Server holds the API's dependencies.
type Server struct {
	Log   *slog.Logger
	Queue QueueReader
}

// Register adds the API routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/queue", s.listQueue)
}

func (s *Server) listQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := moderation.ItemFilter{
		Status:   []moderation.Status{moderation.StatusPending},
		Category: q.Get("category"),
		Lang:     q.Get("lang"),
		Queue:    q.Get("queue"),
		Limit:    100,
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			s.error(w, r, invalid("limit must be an integer from 1 to 500"))
			return
		}
		f.Limit = n
	}
	for _, p := range []string{"category", "lang", "queue"} {
		if len(q.Get(p)) > 64 {
			s.error(w, r, invalid(p+" is longer than 64 bytes"))
			return
		}
	}
	items, err := s.Queue.List(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func invalid(msg string) error {
	return &apiError{status: http.StatusBadRequest, code: "invalid", msg: msg}
}

// errorStatus maps an error to an HTTP status and a stable error code.
func errorStatus(err error) (int, string, string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.code, ae.msg
	case errors.Is(err, moderation.ErrInvalid):
		return http.StatusBadRequest, "invalid", err.Error()
	case errors.Is(err, moderation.ErrNotFound):
		return http.StatusNotFound, "not_found", "not found"
	case errors.Is(err, moderation.ErrConflict):
		return http.StatusConflict, "conflict", err.Error()
	case errors.Is(err, moderation.ErrUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated", "authentication required"
	case errors.Is(err, moderation.ErrForbidden):
		return http.StatusForbidden, "forbidden", "your role does not allow this"
	}
	return http.StatusInternalServerError, "internal", "internal error"
}

func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := errorStatus(err)
	if status >= 500 {
		s.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
