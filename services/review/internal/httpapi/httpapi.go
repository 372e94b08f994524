// Package httpapi is vigil-review's JSON API under /api/v1. It sees the
// domain only through interfaces; one function maps domain errors to HTTP
// status codes and the JSON error body {"error": {"code", "message"}}.
//
// Every route is declared once in routes(), with the permission it needs;
// the middleware authenticates (session cookie or bearer API token),
// enforces CSRF on state-changing requests made with a session cookie, and
// checks the permission before any handler runs. Handlers only add checks
// that depend on the request (claiming from the leads queue, unblurred
// media).
package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Reviews is the review queue as the API needs it.
type Reviews interface {
	List(ctx context.Context, f moderation.ItemFilter) ([]moderation.ItemDetail, error)
	Claim(ctx context.Context, actor moderation.User, f moderation.ClaimFilter) ([]moderation.Item, error)
	Claimed(ctx context.Context, actor moderation.User) ([]moderation.Item, error)
	Release(ctx context.Context, actor moderation.User, itemID int64) error
	Get(ctx context.Context, id int64) (moderation.ItemDetail, error)
	Decide(ctx context.Context, actor moderation.User, canEscalated bool, itemID int64, in moderation.DecisionInput) (moderation.Decision, error)
	DecideAndClaim(ctx context.Context, actor moderation.User, canEscalated bool, itemID int64, in moderation.DecisionInput, next moderation.ClaimFilter) (moderation.Decision, []moderation.Item, error)
	Reverse(ctx context.Context, actor moderation.User, id int64, in moderation.DecisionInput) (moderation.Decision, error)
	Decisions(ctx context.Context, f moderation.DecisionFilter) ([]moderation.Decision, error)
	Clusters(ctx context.Context, limit int) ([]moderation.Cluster, error)
	ClusterItems(ctx context.Context, k moderation.ClusterKey) ([]moderation.Item, error)
	DecideCluster(ctx context.Context, actor moderation.User, canEscalated bool, k moderation.ClusterKey, in moderation.DecisionInput, only []int64) (moderation.BulkResult, error)
	Stats(ctx context.Context, since time.Time) (moderation.Stats, error)
	Media(ctx context.Context, itemID int64, mediaID string) (moderation.MediaBlob, error)
	RecordMediaView(ctx context.Context, actor moderation.User, itemID int64, mediaID, sha string) error
	PlaceHold(ctx context.Context, actor moderation.User, itemID int64, reason string) (moderation.LegalHold, error)
	LiftHold(ctx context.Context, actor moderation.User, itemID int64) error
	Holds(ctx context.Context, all bool) ([]moderation.LegalHold, error)
	Purge(ctx context.Context, actor string, cutoff time.Time) (moderation.PurgeResult, error)
}

// Users are the people who sign in, and their API tokens.
type Users interface {
	Authenticate(ctx context.Context, username, password, from string) (moderation.User, error)
	Create(ctx context.Context, actor, username, password string, roles []moderation.Role) (moderation.User, error)
	Get(ctx context.Context, id int64) (moderation.User, error)
	List(ctx context.Context) ([]moderation.User, error)
	SetRoles(ctx context.Context, actor string, id int64, roles []moderation.Role) (moderation.User, error)
	Disable(ctx context.Context, actor string, id int64) (moderation.User, error)
	Enable(ctx context.Context, actor string, id int64) (moderation.User, error)
	ResetPassword(ctx context.Context, actor string, id int64, password string) (moderation.User, error)
	ChangePassword(ctx context.Context, id, keepSession int64, current, next, from string) (int64, error)
	CreateToken(ctx context.Context, actor string, owner moderation.User, name string, scopes []string, expires *time.Time) (string, moderation.APIToken, error)
	Tokens(ctx context.Context, ownerID int64) ([]moderation.APIToken, error)
	RevokeToken(ctx context.Context, actor string, owner moderation.User, id int64) error
	TokenPrincipal(ctx context.Context, secret string) (moderation.Principal, error)
}

// Sessions are server-side browser sessions.
type Sessions interface {
	Create(ctx context.Context, usr moderation.User) (string, moderation.Session, error)
	Lookup(ctx context.Context, secret string) (moderation.Session, error)
	Delete(ctx context.Context, secret string) error
}

// AuditLog reads and verifies the audit log.
type AuditLog interface {
	Read(ctx context.Context, f moderation.AuditFilter) ([]moderation.AuditEvent, error)
	Verify(ctx context.Context) (moderation.AuditVerification, error)
}

// Clock tells the time.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Server holds the API's dependencies. Zero values of the options are
// usable: secure cookies, default reason codes and retention, a login rate
// of 10 attempts per client address in a burst, refilled one per 6 s.
type Server struct {
	Log         *slog.Logger
	Reviews     Reviews
	Users       Users
	Sessions    Sessions
	Audit       AuditLog
	ReasonCodes moderation.ReasonCodes
	Retention   moderation.Retention
	Clock       Clock
	// Precision computes per-rule precision from moderators' decisions
	// since a time, for one rule or (rule == "") all of them.
	Precision func(ctx context.Context, since time.Time, rule string) ([]moderation.RulePrecision, error)
	// PrecisionThreshold and PrecisionMinDecided mark rule versions low
	// as the vigil_rules_low_precision metric does
	// (moderation.PrecisionPolicy; its defaults when zero).
	PrecisionThreshold  float64
	PrecisionMinDecided int64
	// BankPrecision computes per-entry precision of the hash banks since
	// a time, for one bank or (bank == "") all, keeping entries with at
	// least minDecided decided items, the worst limit of them.
	BankPrecision func(ctx context.Context, since time.Time, bank string, minDecided int64, limit int) ([]moderation.BankEntryPrecision, error)
	// Reports computes transparency reports and decision exports.
	Reports Reports
	// Evidence prepares items' evidence packages (package evidence).
	Evidence Evidence
	// Appeals takes in and resolves users' complaints against removals.
	Appeals Appeals
	// InsecureCookies drops the Secure attribute (and the __Host- prefix)
	// from the session cookie, for plain-HTTP development only.
	InsecureCookies bool
	// LoginBurst and LoginEvery bound login attempts per client address.
	LoginBurst int
	LoginEvery time.Duration
	// TrustedProxies are the reverse proxies (an ingress, a load
	// balancer) whose X-Forwarded-For is believed: behind one, every
	// peer address is the proxy's, and all users would share one login
	// bucket. Empty: the peer address is the client's, headers ignored.
	TrustedProxies []netip.Prefix

	limiter *limiter
}

func (s *Server) init() {
	if s.Clock == nil {
		s.Clock = systemClock{}
	}
	if s.ReasonCodes == nil {
		s.ReasonCodes = moderation.DefaultReasonCodes
	}
	if s.Retention == (moderation.Retention{}) {
		s.Retention = moderation.DefaultRetention
	}
	if s.LoginBurst <= 0 {
		s.LoginBurst = 10
	}
	if s.LoginEvery <= 0 {
		s.LoginEvery = 6 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	s.limiter = newLimiter(s.Clock, s.LoginBurst, s.LoginEvery)
}

// Register adds the API routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	s.init()
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	// Everything else under /api/v1/: 405 with Allow for a path served
	// under other methods, 404 otherwise; with the API's headers.
	mux.Handle("/api/v1/", s.wrap(Route{Public: true, handle: func(w http.ResponseWriter, r *http.Request, _ *auth) error {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
				msg: "method not allowed on this endpoint (allowed: " + strings.Join(allow, ", ") + ")"}
		}
		return &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such endpoint (see /api/v1/openapi.json)"}
	}}))
}

// allowedMethods lists the methods for which mux has a route of r's path
// other than the /api/v1/ catch-all.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/api/v1/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// Route is one endpoint of the API.
type Route struct {
	Method string
	Path   string
	// Perm is the permission the principal needs; "" means any signed-in
	// principal.
	Perm moderation.Permission
	// Also is a second permission the principal needs, or "" (an endpoint
	// doing what two others do needs both of theirs).
	Also moderation.Permission
	// Public routes need no authentication (login, the OpenAPI document).
	Public bool
	// SessionOnly routes refuse API tokens (a token cannot mint tokens,
	// sign out a browser or change its owner's password).
	SessionOnly bool
	handle      handler
}

// Routes lists every route of the API, for tests and documentation.
func (s *Server) Routes() []Route { return s.routes() }

type handler func(w http.ResponseWriter, r *http.Request, a *auth) error

func (s *Server) routes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/openapi.json", Public: true, handle: s.openAPI},
		{Method: "POST", Path: "/api/v1/login", Public: true, handle: s.login},
		{Method: "POST", Path: "/api/v1/logout", SessionOnly: true, handle: s.logout},
		{Method: "GET", Path: "/api/v1/me", handle: s.me},
		{Method: "POST", Path: "/api/v1/me/password", SessionOnly: true, handle: s.changePassword},
		{Method: "GET", Path: "/api/v1/reason-codes", handle: s.reasonCodes},

		{Method: "GET", Path: "/api/v1/queue", Perm: moderation.PermQueueRead, handle: s.listQueue},
		{Method: "POST", Path: "/api/v1/queue/claim", Perm: moderation.PermClaim, handle: s.claim},
		{Method: "GET", Path: "/api/v1/queue/claimed", Perm: moderation.PermClaim, handle: s.claimed},
		{Method: "GET", Path: "/api/v1/items/{id}", Perm: moderation.PermQueueRead, handle: s.item},
		{Method: "POST", Path: "/api/v1/items/{id}/release", Perm: moderation.PermClaim, handle: s.release},
		{Method: "POST", Path: "/api/v1/items/{id}/decision", Perm: moderation.PermDecide, handle: s.decide},
		{Method: "POST", Path: "/api/v1/items/{id}/decision-and-claim", Perm: moderation.PermDecide, Also: moderation.PermClaim, handle: s.decideAndClaim},
		{Method: "GET", Path: "/api/v1/items/{id}/media/{media_id}", Perm: moderation.PermQueueRead, handle: s.media},
		{Method: "POST", Path: "/api/v1/items/{id}/hold", Perm: moderation.PermHolds, handle: s.placeHold},
		{Method: "DELETE", Path: "/api/v1/items/{id}/hold", Perm: moderation.PermHolds, handle: s.liftHold},
		{Method: "GET", Path: "/api/v1/items/{id}/evidence", Perm: moderation.PermEvidence, handle: s.evidence},
		{Method: "GET", Path: "/api/v1/holds", Perm: moderation.PermHolds, handle: s.holds},
		{Method: "POST", Path: "/api/v1/appeals", Perm: moderation.PermAppealsSubmit, handle: s.submitAppeal},
		{Method: "GET", Path: "/api/v1/appeals", Perm: moderation.PermAppealsRead, handle: s.listAppeals},
		{Method: "POST", Path: "/api/v1/appeals/{id}/decision", Perm: moderation.PermReverse, handle: s.resolveAppeal},
		{Method: "GET", Path: "/api/v1/clusters", Perm: moderation.PermQueueRead, handle: s.clusters},
		{Method: "GET", Path: "/api/v1/clusters/{id}", Perm: moderation.PermQueueRead, handle: s.cluster},
		{Method: "POST", Path: "/api/v1/clusters/{id}/decision", Perm: moderation.PermDecide, handle: s.decideCluster},
		{Method: "GET", Path: "/api/v1/decisions", Perm: moderation.PermStatsRead, handle: s.decisions},
		{Method: "GET", Path: "/api/v1/decisions/export", Perm: moderation.PermStatsRead, handle: s.exportDecisions},
		{Method: "POST", Path: "/api/v1/decisions/{id}/reverse", Perm: moderation.PermReverse, handle: s.reverse},
		{Method: "GET", Path: "/api/v1/stats", Perm: moderation.PermStatsRead, handle: s.stats},
		{Method: "GET", Path: "/api/v1/queue/stats", Perm: moderation.PermStatsRead, handle: s.queueStats},
		{Method: "GET", Path: "/api/v1/reports/transparency", Perm: moderation.PermStatsRead, handle: s.transparencyReport},
		{Method: "GET", Path: "/api/v1/rules/precision", Perm: moderation.PermRulesRead, handle: s.rulePrecision},
		{Method: "GET", Path: "/api/v1/banks/precision", Perm: moderation.PermRulesRead, handle: s.bankPrecision},

		{Method: "GET", Path: "/api/v1/audit", Perm: moderation.PermAuditRead, handle: s.audit},
		{Method: "GET", Path: "/api/v1/audit/verify", Perm: moderation.PermAuditRead, handle: s.auditVerify},
		{Method: "POST", Path: "/api/v1/retention/purge", Perm: moderation.PermRetention, handle: s.purge},

		{Method: "GET", Path: "/api/v1/users", Perm: moderation.PermUsers, handle: s.listUsers},
		{Method: "POST", Path: "/api/v1/users", Perm: moderation.PermUsers, handle: s.createUser},
		{Method: "PUT", Path: "/api/v1/users/{id}/roles", Perm: moderation.PermUsers, handle: s.setRoles},
		{Method: "POST", Path: "/api/v1/users/{id}/disable", Perm: moderation.PermUsers, handle: s.disableUser},
		{Method: "POST", Path: "/api/v1/users/{id}/enable", Perm: moderation.PermUsers, handle: s.enableUser},
		{Method: "POST", Path: "/api/v1/users/{id}/password", Perm: moderation.PermUsers, handle: s.resetPassword},
		{Method: "GET", Path: "/api/v1/users/{id}/tokens", Perm: moderation.PermUsers, handle: s.userTokens},
		{Method: "DELETE", Path: "/api/v1/users/{id}/tokens/{token_id}", Perm: moderation.PermUsers, handle: s.revokeUserToken},

		{Method: "GET", Path: "/api/v1/tokens", SessionOnly: true, handle: s.listTokens},
		{Method: "POST", Path: "/api/v1/tokens", SessionOnly: true, handle: s.createToken},
		{Method: "DELETE", Path: "/api/v1/tokens/{id}", SessionOnly: true, handle: s.revokeToken},
	}
}

// auth is who is calling, and how.
type auth struct {
	moderation.Principal
	session *moderation.Session // nil for token auth and public routes
	secret  string              // the session cookie's value
}

// HeaderCSRF carries the session's CSRF token on state-changing requests.
const HeaderCSRF = "X-CSRF-Token"

func stateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

var (
	errCSRF        = &apiError{status: http.StatusForbidden, code: "csrf", msg: "missing or wrong " + HeaderCSRF + " header for a request made with a session cookie"}
	errOrigin      = &apiError{status: http.StatusForbidden, code: "csrf", msg: "cross-origin request refused"}
	errSessionOnly = &apiError{status: http.StatusForbidden, code: "forbidden", msg: "this endpoint needs a signed-in session, not an API token"}
)

func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
		a, err := s.authenticate(r, rt)
		if err == nil {
			err = rt.handle(w, r, a)
		}
		if err != nil {
			s.error(w, r, err)
		}
	})
}

// authenticate finds the principal and applies CSRF, token and permission
// rules before any handler runs.
func (s *Server) authenticate(r *http.Request, rt Route) (*auth, error) {
	a := &auth{}
	if stateChanging(r.Method) && !sameOrigin(r) {
		return nil, errOrigin
	}
	if rt.Public {
		return a, nil
	}
	ctx := r.Context()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" || len(secret) > 200 {
			return nil, moderation.ErrUnauthenticated
		}
		p, err := s.Users.TokenPrincipal(ctx, strings.TrimSpace(secret))
		if err != nil {
			return nil, err
		}
		a.Principal = p
		if rt.SessionOnly {
			return nil, errSessionOnly
		}
	} else {
		c, err := r.Cookie(s.cookieName())
		if err != nil || c.Value == "" || len(c.Value) > 200 {
			return nil, moderation.ErrUnauthenticated
		}
		ses, err := s.Sessions.Lookup(ctx, c.Value)
		if err != nil {
			return nil, err
		}
		a.Principal = moderation.Principal{User: ses.User}
		a.session, a.secret = &ses, c.Value
		if stateChanging(r.Method) {
			got := r.Header.Get(HeaderCSRF)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ses.CSRFToken)) != 1 {
				return nil, errCSRF
			}
		}
	}
	for _, p := range []moderation.Permission{rt.Perm, rt.Also} {
		if p != "" && !a.Can(p) {
			// Name the permission: with a token, the roles may grant it
			// and the token's scopes not.
			return nil, &apiError{status: http.StatusForbidden, code: "forbidden",
				msg: fmt.Sprintf("this needs the %s permission, which your roles or this token's scopes do not grant", p)}
		}
	}
	return a, nil
}

// sameOrigin refuses a browser's cross-site request: when the Origin
// header is present its host must be the request's host. Non-browser
// clients send no Origin.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// --- request parsing ------------------------------------------------------

const maxBody = 64 << 10

// decodeBody reads a JSON body of at most 64 KiB into v, refusing unknown
// fields and trailing data.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: "send the body as application/json"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large", msg: fmt.Sprintf("body is over %d bytes", maxBody)}
		}
		// A field of the wrong type is named by its JSON path, not by
		// the Go type it decodes into.
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return invalid(fmt.Sprintf("malformed JSON body: %s: got %s, want %s", ute.Field, ute.Value, jsonKind(ute.Type)))
		}
		return invalid("malformed JSON body: " + err.Error())
	}
	if dec.More() {
		return invalid("trailing data after the JSON body")
	}
	if path := nulField(reflect.ValueOf(v), ""); path != "" {
		return invalid(fmt.Sprintf("malformed JSON body: %s: a string holds a NUL character", path))
	}
	return nil
}

// plainText says whether s can reach Postgres as text: valid UTF-8 without
// NUL, which text columns refuse (a 500 otherwise, not the client's 400).
func plainText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// nulField returns the JSON path of the first string in v holding a NUL
// ("" if none). JSON's decoder already replaces invalid UTF-8, so NUL,
// written \u0000, is the one character a decoded body can carry that
// Postgres text refuses.
func nulField(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return nulField(v.Elem(), path)
	case reflect.String:
		if strings.ContainsRune(v.String(), 0) {
			return strings.TrimPrefix(path, ".")
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p := nulField(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := fmt.Sprint(iter.Key().Interface())
			if strings.ContainsRune(k, 0) {
				return strings.TrimPrefix(path, ".") + " (a key)"
			}
			if p := nulField(iter.Value(), path+"."+k); p != "" {
				return p
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			fpath := path + "." + name
			switch {
			case name == "" && f.Anonymous && embeddedStruct(f.Type):
				fpath = path // an embedded struct's fields are the outer object's
			case name == "":
				fpath = path + "." + f.Name
			}
			if p := nulField(v.Field(i), fpath); p != "" {
				return p
			}
		}
	}
	return ""
}

// embeddedStruct says whether an embedded field of type t has its fields
// promoted into the outer JSON object (a struct or a pointer to one).
func embeddedStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// jsonKind names the JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "an "), "a ") + "s"
	}
	return "an object"
}

// query validates a request's query parameters: only the listed names,
// each at most once and at most 256 bytes.
type query struct {
	v   url.Values
	err error
}

func params(r *http.Request, allowed ...string) *query {
	q := &query{v: r.URL.Query()}
	for name, vs := range q.v {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		switch {
		case !ok:
			q.fail(fmt.Sprintf("unknown query parameter %q (allowed: %s)", name, strings.Join(allowed, ", ")))
		case len(vs) > 1:
			q.fail(fmt.Sprintf("query parameter %q given more than once", name))
		case len(vs[0]) > 256:
			q.fail(fmt.Sprintf("query parameter %q is longer than 256 bytes", name))
		case !plainText(vs[0]):
			q.fail(fmt.Sprintf("query parameter %q must be UTF-8 text without NUL characters", name))
		}
	}
	return q
}

func (q *query) fail(msg string) {
	if q.err == nil {
		q.err = invalid(msg)
	}
}

func (q *query) str(name string, maxLen int) string {
	v := q.v.Get(name)
	if len(v) > maxLen {
		q.fail(fmt.Sprintf("%s is longer than %d bytes", name, maxLen))
	}
	return v
}

// oneOf reads a parameter that, when given, must be one of allowed: an
// unknown value is refused (naming the valid ones) rather than matching
// nothing.
func (q *query) oneOf(name string, allowed ...string) string {
	v := q.v.Get(name)
	if v != "" && !slices.Contains(allowed, v) {
		q.fail(fmt.Sprintf("%s must be one of %s", name, strings.Join(allowed, ", ")))
	}
	return v
}

func (q *query) int(name string, lo, hi, def int64) int64 {
	v := q.v.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		q.fail(fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi))
	}
	return n
}

func (q *query) time(name string) time.Time {
	v := q.v.Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		q.fail(name + " must be an RFC 3339 timestamp")
	}
	return t
}

func (q *query) bool(name string) bool {
	switch q.v.Get(name) {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	q.fail(name + " must be true or false")
	return false
}

// pathID reads a positive integer path parameter.
func pathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n < 1 {
		return 0, invalid(name + " must be a positive integer")
	}
	return n, nil
}

// --- errors and responses -------------------------------------------------

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
		return http.StatusBadRequest, "invalid", message(err, moderation.ErrInvalid)
	case errors.Is(err, moderation.ErrNotFound):
		return http.StatusNotFound, "not_found", "not found"
	case errors.Is(err, moderation.ErrConflict):
		return http.StatusConflict, "conflict", message(err, moderation.ErrConflict)
	// Before ErrUnauthenticated: a signed-in user's wrong current
	// password is no reason to sign them out (the page does at a 401).
	case errors.Is(err, moderation.ErrWrongPassword):
		msg := "the current password is wrong"
		if errors.Is(err, moderation.ErrLocked) {
			msg += "; after repeated wrong passwords the account is now locked for a while (ask an admin to unlock it sooner)"
		}
		return http.StatusForbidden, "wrong_password", msg
	case errors.Is(err, moderation.ErrLocked):
		return http.StatusForbidden, "locked", "the account is locked after repeated wrong passwords; try again later or ask an admin to unlock it"
	case errors.Is(err, moderation.ErrUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated", "authentication required"
	case errors.Is(err, moderation.ErrForbidden):
		return http.StatusForbidden, "forbidden", "your role does not allow this"
	case errors.Is(err, moderation.ErrBusy):
		return http.StatusServiceUnavailable, "busy", "the server is busy checking other passwords; try again in a moment"
	}
	return http.StatusInternalServerError, "internal", "internal error"
}

// message is err's text for a person, without the sentinel wrapped at its
// end (the code says it): "a report needs a note", not "…: invalid input".
func message(err, sentinel error) string {
	msg := strings.TrimSuffix(err.Error(), ": "+sentinel.Error())
	if msg == "" {
		return err.Error()
	}
	return msg
}

func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := errorStatus(err)
	if status >= 500 && status != http.StatusHTTPVersionNotSupported { // 505 is the client's protocol, not a failure
		s.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
	}
	if code == "busy" {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
