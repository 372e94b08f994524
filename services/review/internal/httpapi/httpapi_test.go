package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/evidence"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/password"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/review/internal/httpapi"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t        *testing.T
	schema   *moderationtest.Schema
	api      *httpapi.Server
	srv      *httptest.Server
	clock    *fakeClock
	users    *postgres.Users
	sessions *postgres.Sessions
	reviews  *postgres.Reviews
}

func newEnv(t *testing.T, tweak func(*httpapi.Server)) *env {
	t.Helper()
	return newEnvHasher(t, password.NewHasher(password.HasherOptions{Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1}}), tweak)
}

// newEnvHasher is newEnv with the users' password hasher given.
func newEnvHasher(t *testing.T, h *password.Hasher, tweak func(*httpapi.Server)) *env {
	t.Helper()
	s := moderationtest.TestSchema(t)
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	e := &env{t: t, schema: s, clock: clock,
		users:    postgres.NewUsers(s.Pool, postgres.UserOptions{Clock: clock, Hasher: h}),
		sessions: postgres.NewSessions(s.Pool, postgres.SessionOptions{Clock: clock}),
		reviews:  postgres.NewReviews(s.Pool, postgres.ReviewOptions{Clock: clock}),
	}
	e.api = &httpapi.Server{Reviews: e.reviews, Users: e.users, Sessions: e.sessions, Audit: postgres.NewAuditLog(s.Pool), Clock: clock,
		Precision: func(ctx context.Context, since time.Time, rule string) ([]moderation.RulePrecision, error) {
			return postgres.RulePrecision(ctx, s.Pool, postgres.PrecisionFilter{Since: since, Rule: rule})
		}, BankPrecision: func(ctx context.Context, since time.Time, bank string, minDecided int64, limit int) ([]moderation.BankEntryPrecision, error) {
			return postgres.BankEntryPrecision(ctx, s.Pool, postgres.EntryPrecisionFilter{Since: since, Bank: bank, MinDecided: minDecided, Limit: limit})
		}, PrecisionThreshold: 0.5, Reports: postgres.NewReports(s.Pool)}
	e.api.Evidence = evidence.New(e.reviews, evidence.Options{Clock: clock, Generator: "test"})
	e.api.Appeals = e.reviews
	if tweak != nil {
		tweak(e.api)
	}
	mux := http.NewServeMux()
	e.api.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) user(name string, roles ...moderation.Role) moderation.User {
	e.t.Helper()
	u, err := e.users.Create(context.Background(), "test", name, "password-of-"+name, roles)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// cred is how a request authenticates.
type cred struct {
	cookie, csrf, bearer string
}

func (e *env) session(u moderation.User) cred {
	e.t.Helper()
	secret, ses, err := e.sessions.Create(context.Background(), u)
	if err != nil {
		e.t.Fatal(err)
	}
	return cred{cookie: secret, csrf: ses.CSRFToken}
}

func (e *env) token(u moderation.User, scopes ...moderation.Permission) cred {
	e.t.Helper()
	ss := make([]string, len(scopes))
	for i, s := range scopes {
		ss[i] = string(s)
	}
	secret, _, err := e.users.CreateToken(context.Background(), "test", u, "t", ss, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return cred{bearer: secret}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) code() string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (e *env) do(c cred, method, path string, body any, hdr ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-vigil_session", Value: c.cookie})
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) must(r reply, status int) reply {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// concrete fills a route's path parameters with values that exist in no
// table, so allowed requests fail with 4xx but never change anything
// that later requests depend on.
func concrete(path string) string {
	r := strings.NewReplacer("{id}", "999999", "{token_id}", "999999", "{media_id}", "m1", "{hash}", "ffffffffffffffff")
	return r.Replace(path)
}

// Roles, for the matrix below.
const (
	mod  = moderation.RoleModerator
	lead = moderation.RoleLead
	eng  = moderation.RoleRuleEngineer
	aud  = moderation.RoleAuditor
	adm  = moderation.RoleAdmin
)

var everybody = []moderation.Role{mod, lead, eng, aud, adm}

// allowedRoles is the authorization policy written out per endpoint,
// independently of the route table, so a route with the wrong permission
// fails the matrix.
var allowedRoles = map[string][]moderation.Role{
	"POST /api/v1/logout":                         everybody,
	"GET /api/v1/me":                              everybody,
	"POST /api/v1/me/password":                    everybody,
	"GET /api/v1/reason-codes":                    everybody,
	"GET /api/v1/queue":                           everybody,
	"POST /api/v1/queue/claim":                    {mod, lead},
	"GET /api/v1/queue/claimed":                   {mod, lead},
	"GET /api/v1/items/{id}":                      everybody,
	"POST /api/v1/items/{id}/release":             {mod, lead},
	"POST /api/v1/items/{id}/decision":            {mod, lead},
	"POST /api/v1/items/{id}/decision-and-claim":  {mod, lead},
	"GET /api/v1/items/{id}/media/{media_id}":     everybody,
	"POST /api/v1/items/{id}/hold":                {lead, adm},
	"DELETE /api/v1/items/{id}/hold":              {lead, adm},
	"GET /api/v1/items/{id}/evidence":             {lead, adm},
	"GET /api/v1/holds":                           {lead, adm},
	"POST /api/v1/appeals":                        {adm},
	"GET /api/v1/appeals":                         {lead, aud, adm},
	"POST /api/v1/appeals/{id}/decision":          {lead},
	"GET /api/v1/clusters":                        everybody,
	"GET /api/v1/clusters/{id}":                   everybody,
	"POST /api/v1/clusters/{id}/decision":         {mod, lead},
	"GET /api/v1/decisions":                       {lead, eng, aud, adm},
	"GET /api/v1/decisions/export":                {lead, eng, aud, adm},
	"POST /api/v1/decisions/{id}/reverse":         {lead},
	"GET /api/v1/stats":                           {lead, eng, aud, adm},
	"GET /api/v1/queue/stats":                     {lead, eng, aud, adm},
	"GET /api/v1/reports/transparency":            {lead, eng, aud, adm},
	"GET /api/v1/rules/precision":                 {eng, aud, adm},
	"GET /api/v1/banks/precision":                 {eng, aud, adm},
	"GET /api/v1/audit":                           {aud, adm},
	"GET /api/v1/audit/verify":                    {aud, adm},
	"POST /api/v1/retention/purge":                {adm},
	"GET /api/v1/users":                           {adm},
	"POST /api/v1/users":                          {adm},
	"PUT /api/v1/users/{id}/roles":                {adm},
	"POST /api/v1/users/{id}/disable":             {adm},
	"POST /api/v1/users/{id}/enable":              {adm},
	"POST /api/v1/users/{id}/password":            {adm},
	"GET /api/v1/users/{id}/tokens":               {adm},
	"DELETE /api/v1/users/{id}/tokens/{token_id}": {adm},
	"GET /api/v1/tokens":                          everybody,
	"POST /api/v1/tokens":                         everybody,
	"DELETE /api/v1/tokens/{id}":                  everybody,
}

// TestAuthorizationMatrix: every endpoint × every role, with a session,
// and every endpoint with tokens scoped with and without its permission.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	users := map[moderation.Role]moderation.User{}
	for _, r := range moderation.AllRoles {
		users[r] = e.user("only-"+strings.ReplaceAll(string(r), "_", "-"), r)
	}
	everyone := e.user("everyone", moderation.AllRoles...)
	for _, rt := range e.api.Routes() {
		path := concrete(rt.Path)
		var body any
		if rt.Method != "GET" && rt.Method != "DELETE" {
			body = "{}"
		}
		if rt.Public {
			if r := e.do(cred{}, rt.Method, path, body); r.status == 401 || r.status == 403 {
				t.Errorf("%s %s is public but answered %d", rt.Method, rt.Path, r.status)
			}
			continue
		}
		if r := e.do(cred{}, rt.Method, path, body); r.status != 401 || r.code() != "unauthenticated" {
			t.Errorf("%s %s without credentials: %d %s, want 401", rt.Method, rt.Path, r.status, r.body)
		}
		allowed, ok := allowedRoles[rt.Method+" "+rt.Path]
		if !ok {
			t.Errorf("%s %s is missing from allowedRoles", rt.Method, rt.Path)
		}
		for _, role := range moderation.AllRoles {
			want := slices.Contains(allowed, role)
			r := e.do(e.session(users[role]), rt.Method, path, body)
			got := r.status != 401 && r.status != 403
			if got != want || (!want && r.status != 403) {
				t.Errorf("%s %s as %s: %d %s; allowed should be %v", rt.Method, rt.Path, role, r.status, r.body, want)
			}
		}
		// Tokens: only the route's own permission lets it through.
		if rt.Perm == "" {
			r := e.do(e.token(everyone, moderation.PermQueueRead), rt.Method, path, body)
			if rt.SessionOnly != (r.status == 403) {
				t.Errorf("%s %s with a token: %d (session-only %v)", rt.Method, rt.Path, r.status, rt.SessionOnly)
			}
			continue
		}
		needed := []moderation.Permission{rt.Perm}
		if rt.Also != "" {
			needed = append(needed, rt.Also)
		}
		for _, lacking := range needed {
			var others []moderation.Permission
			for _, p := range moderation.AllPermissions {
				if p != lacking {
					others = append(others, p)
				}
			}
			if r := e.do(e.token(everyone, others...), rt.Method, path, body); r.status != 403 || !strings.Contains(string(r.body), "needs the "+string(lacking)+" permission") {
				t.Errorf("%s %s with a token lacking %s: %d %s, want 403 naming the permission", rt.Method, rt.Path, lacking, r.status, r.body)
			}
		}
		if r := e.do(e.token(everyone, needed...), rt.Method, path, body); r.status == 401 || r.status == 403 {
			t.Errorf("%s %s with a token scoped %v: %d %s", rt.Method, rt.Path, needed, r.status, r.body)
		}
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mod := e.user("mod", moderation.RoleModerator)
	c := e.session(mod)
	noHeader := cred{cookie: c.cookie}
	if r := e.do(noHeader, "POST", "/api/v1/queue/claim", "{}"); r.status != 403 || r.code() != "csrf" {
		t.Fatalf("session POST without CSRF header: %d %s", r.status, r.body)
	}
	if r := e.do(cred{cookie: c.cookie, csrf: "wrong"}, "POST", "/api/v1/queue/claim", "{}"); r.status != 403 || r.code() != "csrf" {
		t.Fatalf("session POST with a wrong CSRF token: %d %s", r.status, r.body)
	}
	// Another session's token does not do either.
	if r := e.do(cred{cookie: c.cookie, csrf: e.session(mod).csrf}, "POST", "/api/v1/queue/claim", "{}"); r.status != 403 {
		t.Fatalf("session POST with another session's CSRF token: %d", r.status)
	}
	e.must(e.do(c, "POST", "/api/v1/queue/claim", "{}"), 200)
	if r := e.do(c, "POST", "/api/v1/queue/claim", "{}", "Origin", "https://evil.example"); r.status != 403 {
		t.Fatalf("cross-origin POST: %d", r.status)
	}
	// Reads need no CSRF token; bearer tokens are exempt.
	e.must(e.do(noHeader, "GET", "/api/v1/queue", nil), 200)
	e.must(e.do(e.token(mod, moderation.PermClaim), "POST", "/api/v1/queue/claim", "{}"), 200)
	// A token cannot mint tokens.
	if r := e.do(e.token(mod, moderation.PermClaim), "POST", "/api/v1/tokens", `{"name":"x","scopes":["decide"]}`); r.status != 403 {
		t.Fatalf("token minting a token: %d", r.status)
	}
}

func TestLoginCookieLockoutAndRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(s *httpapi.Server) { s.LoginBurst = 8; s.LoginEvery = time.Hour })
	e.user("erin", moderation.RoleModerator)
	login := func(pw string) reply {
		return e.do(cred{}, "POST", "/api/v1/login", map[string]string{"username": "erin", "password": pw})
	}
	r := e.must(login("password-of-erin"), 200)
	var body struct {
		CSRF        string                  `json:"csrf_token"`
		Permissions []moderation.Permission `json:"permissions"`
	}
	r.decode(t, &body)
	if body.CSRF == "" || !slices.Contains(body.Permissions, moderation.PermDecide) {
		t.Fatalf("login body %s", r.body)
	}
	sc := r.header.Get("Set-Cookie")
	for _, attr := range []string{"__Host-vigil_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(sc, attr) {
			t.Errorf("Set-Cookie %q lacks %s", sc, attr)
		}
	}
	secret := strings.TrimPrefix(strings.Split(sc, ";")[0], "__Host-vigil_session=")
	var me struct {
		User moderation.User `json:"user"`
		CSRF string          `json:"csrf_token"`
	}
	e.must(e.do(cred{cookie: secret}, "GET", "/api/v1/me", nil), 200).decode(t, &me)
	if me.User.Username != "erin" || me.CSRF != body.CSRF {
		t.Fatalf("/me = %+v", me)
	}
	e.must(e.do(cred{cookie: secret, csrf: me.CSRF}, "POST", "/api/v1/logout", nil), 204)
	e.must(e.do(cred{cookie: secret}, "GET", "/api/v1/me", nil), 401)

	for range 5 {
		e.must(login("not the password"), 401)
	}
	if r := login("password-of-erin"); r.status != 401 {
		t.Fatalf("login while locked out: %d", r.status)
	}
	e.clock.Advance(16 * time.Minute)
	// 8 attempts spent; the bucket refills one an hour on the fake clock.
	e.must(login("password-of-erin"), 200)
	r = login("password-of-erin")
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("attempt beyond the burst: %d %v", r.status, r.header)
	}
	if r := e.do(cred{}, "POST", "/api/v1/login", `{"username":"erin"`); r.status != 429 {
		t.Fatalf("rate limit applies before parsing: %d", r.status)
	}
}

// TestUnknownFilterValues: an enumerated query parameter with a value
// outside its set is a 400 naming the valid values, not a 200 with an
// empty list (GET /api/v1/audit?action=bogus used to be).
func TestUnknownFilterValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin := e.session(e.user("root", moderation.RoleAdmin, moderation.RoleModerator))
	for path, want := range map[string]string{
		"/api/v1/audit?action=bogus":         "action must be one of login, login_failed, claim, view_media, decision",
		"/api/v1/audit?action=LOGIN":         "action must be one of",
		"/api/v1/queue?queue=vip":            "queue must be one of default, leads",
		"/api/v1/queue?status=pending,bogus": "status must be a comma-separated list of pending, claimed, escalated, decided",
		"/api/v1/items/1/media/m1?view=raw":  "view must be one of blurred, original",
	} {
		r := e.do(admin, "GET", path, nil)
		if r.status != 400 || r.code() != "invalid" || !strings.Contains(string(r.body), want) {
			t.Errorf("GET %s: %d %s, want 400 saying %q", path, r.status, r.body, want)
		}
	}
	for _, action := range moderation.AuditActions() {
		e.must(e.do(admin, "GET", "/api/v1/audit?action="+action, nil), 200)
	}
	for _, path := range []string{"/api/v1/audit", "/api/v1/queue?queue=leads", "/api/v1/queue?queue=default&status=pending,decided"} {
		e.must(e.do(admin, "GET", path, nil), 200)
	}
}

// TestLoginBehindProxy: behind a trusted proxy the login limiter keys on
// the client address in X-Forwarded-For, so users behind one ingress do
// not share a bucket; entries a client adds left of the proxy's do not
// buy it a fresh bucket; without trusted proxies the header is ignored.
func TestLoginBehindProxy(t *testing.T) {
	t.Parallel()
	proxies, err := httpapi.ParseProxies("127.0.0.0/8,::1")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(s *httpapi.Server) { s.LoginBurst = 1; s.LoginEvery = time.Hour; s.TrustedProxies = proxies })
	e.user("erin", moderation.RoleModerator)
	login := func(e *env, xff string) int {
		return e.do(cred{}, "POST", "/api/v1/login", map[string]string{"username": "erin", "password": "password-of-erin"},
			"X-Forwarded-For", xff).status
	}
	if got := login(e, "203.0.113.1"); got != 200 {
		t.Fatalf("first login of 203.0.113.1: %d", got)
	}
	if got := login(e, "203.0.113.1"); got != 429 {
		t.Fatalf("second login of 203.0.113.1: %d, want 429", got)
	}
	if got := login(e, "203.0.113.2"); got != 200 {
		t.Fatalf("first login of 203.0.113.2 behind the same proxy: %d, want 200", got)
	}
	if got := login(e, "198.51.100.9, 203.0.113.1"); got != 429 {
		t.Fatalf("203.0.113.1 prepending a forged address: %d, want 429", got)
	}
	events, err := postgres.NewAuditLog(e.schema.Pool).Read(context.Background(), moderation.AuditFilter{Action: moderation.AuditLogin})
	if err != nil {
		t.Fatal(err)
	}
	var from []string
	for _, ev := range events {
		var d struct{ From string }
		_ = json.Unmarshal(ev.Details, &d)
		from = append(from, d.From)
	}
	sort.Strings(from)
	if !slices.Equal(from, []string{"203.0.113.1", "203.0.113.2"}) {
		t.Fatalf("logins audited from %v", from)
	}

	untrusted := newEnv(t, func(s *httpapi.Server) { s.LoginBurst = 1; s.LoginEvery = time.Hour })
	untrusted.user("erin", moderation.RoleModerator)
	untrusted.must(untrusted.do(cred{}, "POST", "/api/v1/login", map[string]string{"username": "erin", "password": "password-of-erin"}), 200)
	if got := login(untrusted, "203.0.113.3"); got != 429 {
		t.Fatalf("X-Forwarded-For from an untrusted peer changed the bucket: %d, want 429", got)
	}
}

// TestLoginBusy: with every password hashing slot taken, a login waits at
// most the hasher's MaxWait and then gets 503 with Retry-After, without
// computing a hash (each costs 19 MiB in production) or touching the
// account; once a slot frees up, logins work again.
func TestLoginBusy(t *testing.T) {
	t.Parallel()
	h := password.NewHasher(password.HasherOptions{Params: password.Params{MemoryKiB: 64, Time: 1, Threads: 1},
		Concurrency: 2, MaxWait: 100 * time.Millisecond})
	e := newEnvHasher(t, h, nil)
	e.user("erin", moderation.RoleModerator)
	admin := e.session(e.user("root", moderation.RoleAdmin))
	login := func() reply {
		return e.do(cred{}, "POST", "/api/v1/login", map[string]string{"username": "erin", "password": "password-of-erin"})
	}
	var releases []func()
	for range 2 {
		release, err := h.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	start := time.Now()
	r := login()
	if r.status != 503 || r.code() != "busy" || r.header.Get("Retry-After") == "" {
		t.Fatalf("login with no free slot: %d %v %s", r.status, r.header, r.body)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Fatalf("busy login answered after %v, want about the 100ms MaxWait", d)
	}
	for _, rel := range releases {
		rel()
	}
	e.must(login(), 200)
	// Creating a user hashes too, and is refused the same way.
	release, _ := h.Acquire(context.Background())
	release2, _ := h.Acquire(context.Background())
	if r := e.do(admin, "POST", "/api/v1/users", `{"username":"new","password":"a-long-password","roles":["moderator"]}`); r.status != 503 {
		t.Fatalf("creating a user with no free slot: %d %s", r.status, r.body)
	}
	release()
	release2()
	e.must(e.do(admin, "POST", "/api/v1/users", `{"username":"new","password":"a-long-password","roles":["moderator"]}`), 201)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	lead := e.session(e.user("lead", moderation.RoleLead))
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		hdr          []string
	}{
		{"GET", "/api/v1/queue?limit=0", nil, 400, nil},
		{"GET", "/api/v1/queue?limit=501", nil, 400, nil},
		{"GET", "/api/v1/queue?status=bogus", nil, 400, nil},
		{"GET", "/api/v1/queue?colour=red", nil, 400, nil},
		{"GET", "/api/v1/queue?limit=1&limit=2", nil, 400, nil},
		{"GET", "/api/v1/queue?category=" + strings.Repeat("x", 65), nil, 400, nil},
		{"GET", "/api/v1/items/abc", nil, 400, nil},
		{"GET", "/api/v1/items/0", nil, 400, nil},
		{"GET", "/api/v1/items/12", nil, 404, nil},
		{"GET", "/api/v1/clusters/XYZ", nil, 400, nil},
		{"GET", "/api/v1/clusters/Bank:e1", nil, 400, nil},
		{"GET", "/api/v1/clusters/b:", nil, 400, nil},
		{"GET", "/api/v1/clusters/b:" + strings.Repeat("x", 257), nil, 400, nil},
		{"GET", "/api/v1/clusters/b:e%0A1", nil, 400, nil},
		{"GET", "/api/v1/decisions?since=yesterday", nil, 400, nil},
		{"GET", "/api/v1/no-such-thing", nil, 404, nil},
		{"DELETE", "/api/v1/queue", nil, 405, nil},
		{"GET", "/api/v1/items/1/decision", nil, 405, nil},
		{"POST", "/api/v1/queue/claim", `{"count": 51}`, 400, nil},
		{"POST", "/api/v1/queue/claim", `{"queue": "vip"}`, 400, nil},
		{"POST", "/api/v1/queue/claim", `{"count": 1, "extra": 1}`, 400, nil},
		{"POST", "/api/v1/queue/claim", `{"count": 1} {}`, 400, nil},
		{"POST", "/api/v1/queue/claim", `{"count": "one"}`, 400, nil},
		{"POST", "/api/v1/queue/claim", `{"count": 1}`, 415, []string{"Content-Type", "text/plain"}},
		{"POST", "/api/v1/items/1/decision", `{"action":"remove","reason_code":"NOPE-1"}`, 400, nil},
		{"POST", "/api/v1/items/1/decision", `{"action":"delete","reason_code":"TC-1"}`, 400, nil},
		{"POST", "/api/v1/items/1/decision", `{"action":"report","reason_code":"TC-1"}`, 400, nil},
		{"POST", "/api/v1/items/1/decision", `{"action":"no_violation","reason_code":"TC-1"}`, 400, nil},
		{"POST", "/api/v1/items/1/decision", `{"action":"remove","reason_code":"TC-1","note":"` + strings.Repeat("n", 4001) + `"}`, 400, nil},
		{"POST", "/api/v1/items/1/decision", `{"action":"remove","reason_code":"TC-1","note":"` + strings.Repeat("n", 70000) + `"}`, 413, nil},
		{"POST", "/api/v1/items/1/decision", `{"action":"remove","reason_code":"TC-1"}`, 404, nil},
		{"POST", "/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"NOPE-1"}`, 400, nil},
		{"POST", "/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"TC-1","next":{"count":51}}`, 400, nil},
		{"POST", "/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"TC-1","next":{"queue":"vip"}}`, 400, nil},
		{"POST", "/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"TC-1","next":{"extra":1}}`, 400, nil},
		{"POST", "/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"TC-1","extra":1}`, 400, nil},
		{"POST", "/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"TC-1"}`, 404, nil},
		{"POST", "/api/v1/items/1/hold", `{"reason":""}`, 400, nil},
		{"POST", "/api/v1/tokens", `{"name":"x","scopes":["users:manage"]}`, 403, nil},
		{"POST", "/api/v1/tokens", `{"name":"x","scopes":["nonsense"]}`, 400, nil},
		{"POST", "/api/v1/tokens", `{"name":"x","scopes":[]}`, 400, nil},
	} {
		r := e.do(lead, tc.method, tc.path, tc.body, tc.hdr...)
		if r.status != tc.status || r.code() == "" {
			t.Errorf("%s %s %.60v: %d %s, want %d with an error code", tc.method, tc.path, tc.body, r.status, r.body, tc.status)
		}
	}
	// A role change needs its roles (a body without them used to strip
	// the user's roles); a repeated role is refused (it was stored twice).
	admin := e.session(e.user("admin", moderation.RoleAdmin))
	target := e.user("target", moderation.RoleModerator)
	for roles, want := range map[string]string{"": "roles is required", `"roles":["lead","lead"]`: "role lead is given more than once"} {
		r := e.do(admin, "PUT", fmt.Sprintf("/api/v1/users/%d/roles", target.ID), "{"+roles+"}")
		if r.status != 400 || !strings.Contains(string(r.body), want) {
			t.Errorf("PUT roles {%s}: %d %s, want 400 saying %q", roles, r.status, r.body, want)
		}
	}
	if r := e.do(admin, "POST", "/api/v1/users", `{"username":"new","password":"a-long-password","roles":["lead","lead"]}`); r.status != 400 ||
		!strings.Contains(string(r.body), "role lead is given more than once") {
		t.Errorf("POST user with a repeated role: %d %s, want 400", r.status, r.body)
	}
	if u, err := e.users.Get(context.Background(), target.ID); err != nil || !slices.Equal(u.Roles, []moderation.Role{moderation.RoleModerator}) {
		t.Errorf("target's roles after refused changes: %v %v", u.Roles, err)
	}
	// Messages are for people: the sentinel's text is not appended.
	if r := e.do(lead, "POST", "/api/v1/items/1/decision", `{"action":"report","reason_code":"TC-1"}`); r.status != 400 ||
		!strings.Contains(string(r.body), `"message":"a report to law enforcement needs a note"`) {
		t.Errorf("report without a note: %d %s", r.status, r.body)
	}
	// A known path with the wrong method names the methods it takes.
	for path, allow := range map[string]string{"/api/v1/queue": "GET", "/api/v1/items/1/hold": "POST, DELETE", "/api/v1/login": "POST"} {
		r := e.do(lead, "PUT", path, `{}`)
		if r.status != 405 || r.code() != "method_not_allowed" || r.header.Get("Allow") != allow || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("PUT %s: %d %s Allow %q, want 405 method_not_allowed, Allow %q and the API's headers", path, r.status, r.body, r.header.Get("Allow"), allow)
		}
	}
}

func testPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 0, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReviewFlow drives claim, media, decision, reversal, cluster
// decision, hold and audit through the API.
func TestReviewFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	pool := e.schema.Pool
	now := e.clock.Now()
	_, err := pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
SELECT 'p'||g, 'test', 'a', 'post '||g, 'en', $1, $1, 'terrorist_content', CASE WHEN g = 1 THEN 4 ELSE 2 END, $1::timestamptz + interval '1 hour'
FROM generate_series(1, 4) g`, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pic := testPNG(t)
	sum := sha256.Sum256(pic)
	sha := hex.EncodeToString(sum[:])
	if _, err := pool.Exec(ctx, `INSERT INTO media_blobs (sha256, mime, bytes, size_bytes) VALUES ($1, 'image/png', $2, $3)`, sha, pic, len(pic)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO review_media (item_id, media_id, mime, sha256) SELECT id, 'm1', 'image/png', $1 FROM review_items`, sha); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO review_matches (item_id, match_key, category, severity, bank, entry_id, hash_type, distance, media_id, hash)
SELECT id, 'bank:b:e/1:m1', 'terrorist_content', 4, 'b', 'e/1', 'pdq', id, 'm1', 'abcdefabcdefab0' || id FROM review_items WHERE id > 1`); err != nil {
		t.Fatal(err)
	}
	mod := e.session(e.user("mod", moderation.RoleModerator))
	lead := e.session(e.user("lead", moderation.RoleLead))
	auditor := e.session(e.user("aud", moderation.RoleAuditor))

	var list struct {
		Items []moderation.ItemDetail `json:"items"`
	}
	e.must(e.do(auditor, "GET", "/api/v1/queue", nil), 200).decode(t, &list)
	if len(list.Items) != 4 || list.Items[0].ID != 1 || !list.Items[0].Overdue {
		t.Fatalf("queue: %d items, first %+v", len(list.Items), list.Items[0])
	}
	var claimed struct {
		Items []moderation.Item `json:"items"`
	}
	e.must(e.do(mod, "POST", "/api/v1/queue/claim", map[string]any{"count": 1}), 200).decode(t, &claimed)
	if len(claimed.Items) != 1 || claimed.Items[0].ID != 1 || claimed.Items[0].Severity != moderation.SeverityCritical {
		t.Fatalf("claimed %+v, want item 1 (critical)", claimed.Items)
	}
	// Media: blurred by default for everyone who may read the queue.
	r := e.must(e.do(auditor, "GET", "/api/v1/items/1/media/m1", nil), 200)
	if ct := r.header.Get("Content-Type"); ct != "image/jpeg" || bytes.Equal(r.body, pic) {
		t.Fatalf("blurred media: %s, original bytes %v", ct, bytes.Equal(r.body, pic))
	}
	if r := e.do(auditor, "GET", "/api/v1/items/1/media/m1?view=original", nil); r.status != 403 {
		t.Fatalf("auditor unblurred: %d", r.status)
	}
	r = e.must(e.do(mod, "GET", "/api/v1/items/1/media/m1?view=original", nil), 200)
	if !bytes.Equal(r.body, pic) || r.header.Get("Content-Type") != "image/png" {
		t.Fatal("original media differs")
	}
	e.must(e.do(mod, "GET", "/api/v1/items/1/media/nope", nil), 404)

	// Only leads claim from the leads queue.
	if r := e.do(mod, "POST", "/api/v1/queue/claim", map[string]any{"queue": "leads"}); r.status != 403 {
		t.Fatalf("moderator claiming from leads: %d", r.status)
	}
	var dec struct {
		Decision moderation.Decision `json:"decision"`
	}
	e.must(e.do(mod, "POST", "/api/v1/items/1/decision", map[string]string{"action": "remove", "reason_code": "TC-1"}), 201).decode(t, &dec)
	if dec.Decision.Actor != "mod" || dec.Decision.ClaimedAt == nil {
		t.Fatalf("decision %+v", dec.Decision)
	}
	// Moderators cannot reverse; leads can.
	e.must(e.do(mod, "POST", fmt.Sprintf("/api/v1/decisions/%d/reverse", dec.Decision.ID), map[string]string{"action": "no_violation", "reason_code": "NV-1"}), 403)
	e.must(e.do(lead, "POST", fmt.Sprintf("/api/v1/decisions/%d/reverse", dec.Decision.ID), map[string]string{"action": "no_violation", "reason_code": "NV-1"}), 201)

	// The other three items' media matched one bank entry (their hashes
	// differ): one decision covers them. The cluster id is BANK:ENTRY, the
	// entry id escaped as a path segment.
	var clusters struct {
		Clusters []moderation.Cluster `json:"clusters"`
	}
	e.must(e.do(mod, "GET", "/api/v1/clusters", nil), 200).decode(t, &clusters)
	if len(clusters.Clusters) != 1 || clusters.Clusters[0].Items != 3 || clusters.Clusters[0].ID != "b:e/1" {
		t.Fatalf("clusters %+v", clusters.Clusters)
	}
	var members struct {
		ID    string            `json:"id"`
		Items []moderation.Item `json:"items"`
	}
	e.must(e.do(auditor, "GET", "/api/v1/clusters/"+url.PathEscape(clusters.Clusters[0].ID), nil), 200).decode(t, &members)
	if members.ID != "b:e/1" || len(members.Items) != 3 {
		t.Fatalf("cluster b:e/1: %+v", members)
	}
	e.must(e.do(mod, "GET", "/api/v1/clusters/b:e2", nil), 404)
	// Limited to what the moderator confirmed: one member and an item of
	// no cluster (skipped); then the rest of the cluster.
	var bulk moderation.BulkResult
	first := members.Items[0].ID
	for _, bad := range []any{[]int64{}, []int64{first, first}, []int64{-1}, "2"} {
		e.must(e.do(mod, "POST", "/api/v1/clusters/b:e%2F1/decision", map[string]any{"action": "remove", "reason_code": "TC-1", "item_ids": bad}), 400)
	}
	e.must(e.do(mod, "POST", "/api/v1/clusters/b:e%2F1/decision", map[string]any{"action": "remove", "reason_code": "TC-1", "item_ids": []int64{99, first}}), 200).decode(t, &bulk)
	if len(bulk.Decisions) != 1 || bulk.Decisions[0].ItemID != first || fmt.Sprint(bulk.Skipped) != "[99]" {
		t.Fatalf("bulk limited to items 99 and %d: %+v", first, bulk)
	}
	e.must(e.do(mod, "POST", "/api/v1/clusters/b:e%2F1/decision", map[string]string{"action": "remove", "reason_code": "TC-1"}), 200).decode(t, &bulk)
	if len(bulk.Decisions) != 2 || len(bulk.Skipped) != 0 {
		t.Fatalf("bulk %+v", bulk)
	}
	e.must(e.do(lead, "POST", "/api/v1/items/2/hold", map[string]string{"reason": "court order 7"}), 201)
	e.must(e.do(lead, "POST", "/api/v1/items/2/hold", map[string]string{"reason": "again"}), 409)
	var detail moderation.ItemDetail
	e.must(e.do(auditor, "GET", "/api/v1/items/2", nil), 200).decode(t, &detail)
	if detail.Hold == nil || len(detail.Decisions) != 1 || detail.Status != moderation.StatusDecided {
		t.Fatalf("item 2: %+v", detail)
	}

	var ver moderation.AuditVerification
	e.must(e.do(auditor, "GET", "/api/v1/audit/verify", nil), 200).decode(t, &ver)
	if !ver.OK || ver.Events < 8 {
		t.Fatalf("audit verification %+v", ver)
	}
	var audit struct {
		Events []moderation.AuditEvent `json:"events"`
	}
	e.must(e.do(auditor, "GET", "/api/v1/audit?action=view_media", nil), 200).decode(t, &audit)
	if len(audit.Events) != 1 || audit.Events[0].Actor != "mod" || audit.Events[0].Subject != "item:1" {
		t.Fatalf("media view audit: %+v", audit.Events)
	}
	var st moderation.Stats
	e.must(e.do(auditor, "GET", "/api/v1/stats", nil), 200).decode(t, &st)
	if st.DecisionsBy[moderation.ActionRemove] != 4 || st.Reversals != 1 {
		t.Fatalf("stats %+v", st)
	}

	// Per-rule precision: the three bank items were removed.
	var prec struct {
		Threshold float64 `json:"threshold"`
		Rules     []struct {
			Rule      string   `json:"rule"`
			Flagged   int64    `json:"flagged"`
			Removed   int64    `json:"removed"`
			Precision *float64 `json:"precision"`
			Low       bool     `json:"low"`
		} `json:"rules"`
	}
	e.must(e.do(auditor, "GET", "/api/v1/rules/precision?since="+now.Add(-24*time.Hour).Format(time.RFC3339), nil), 200).decode(t, &prec)
	if len(prec.Rules) != 1 || prec.Rules[0].Rule != "bank:b" || prec.Rules[0].Flagged != 3 || prec.Rules[0].Removed != 3 ||
		prec.Rules[0].Precision == nil || *prec.Rules[0].Precision != 1 || prec.Rules[0].Low || prec.Threshold != 0.5 {
		t.Fatalf("precision %+v", prec)
	}
	e.must(e.do(auditor, "GET", "/api/v1/rules/precision?rule=nope", nil), 200).decode(t, &prec)
	if len(prec.Rules) != 0 {
		t.Fatalf("precision of an unknown rule: %+v", prec.Rules)
	}
	e.must(e.do(auditor, "GET", "/api/v1/rules/precision?since=yesterday", nil), 400)

	// The same bank items per entry (all three matched entry e/1).
	var entries struct {
		Entries []struct {
			Bank           string  `json:"bank"`
			Entry          string  `json:"entry"`
			HashType       string  `json:"hash_type"`
			Flagged        int64   `json:"flagged"`
			Removed        int64   `json:"removed"`
			MedianDistance float64 `json:"median_distance"`
			Low            bool    `json:"low"`
		} `json:"entries"`
	}
	e.must(e.do(auditor, "GET", "/api/v1/banks/precision?bank=b&min_decided=3", nil), 200).decode(t, &entries)
	if len(entries.Entries) != 1 || entries.Entries[0].Bank != "b" || entries.Entries[0].Entry != "e/1" || entries.Entries[0].HashType != "pdq" ||
		entries.Entries[0].Flagged != 3 || entries.Entries[0].Removed != 3 || entries.Entries[0].MedianDistance != 3 || entries.Entries[0].Low {
		t.Fatalf("bank entry precision %+v", entries)
	}
	e.must(e.do(auditor, "GET", "/api/v1/banks/precision?min_decided=4", nil), 200).decode(t, &entries)
	if len(entries.Entries) != 0 {
		t.Fatalf("entries with 4 decided items: %+v", entries.Entries)
	}
}

// TestOpenAPIMatchesRoutes: every route is documented with its permission
// and every documented operation is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]json.RawMessage{}
	for p, ops := range doc.Paths {
		for m, op := range ops {
			documented[strings.ToUpper(m)+" "+p] = op
		}
	}
	s := &httpapi.Server{}
	routed := map[string]bool{}
	for _, rt := range s.Routes() {
		key := rt.Method + " " + rt.Path
		routed[key] = true
		raw, ok := documented[key]
		if !ok {
			t.Errorf("route %s is not in openapi.json", key)
			continue
		}
		var op struct {
			Perm        string             `json:"x-permission"`
			Also        string             `json:"x-also-permission"`
			SessionOnly bool               `json:"x-session-only"`
			Security    *[]json.RawMessage `json:"security"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatal(err)
		}
		if op.Perm != string(rt.Perm) || op.Also != string(rt.Also) || op.SessionOnly != rt.SessionOnly {
			t.Errorf("%s: documented permissions %q %q session-only %v, routed %q %q %v", key, op.Perm, op.Also, op.SessionOnly, rt.Perm, rt.Also, rt.SessionOnly)
		}
		if public := op.Security != nil && len(*op.Security) == 0; public != rt.Public {
			t.Errorf("%s: documented public %v, routed %v", key, public, rt.Public)
		}
	}
	var extra []string
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("documented but not routed: %v", extra)
	}
}

// TestOpenAPIEnums: the document's lists of audit actions (the audit
// listing's action filter) and of permissions (token scopes) are the
// server's, in its order: a new action or permission must be documented.
func TestOpenAPIEnums(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				Schema struct {
					Enum []string `json:"enum"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var actions []string
	for _, p := range doc.Paths["/api/v1/audit"]["get"].Parameters {
		if p.Name == "action" {
			actions = p.Schema.Enum
		}
	}
	if want := moderation.AuditActions(); !slices.Equal(actions, want) {
		t.Errorf("GET /api/v1/audit action enum %v, want %v", actions, want)
	}
	var perms []string
	for _, p := range moderation.AllPermissions {
		perms = append(perms, string(p))
	}
	if got := doc.Components.Schemas["Permission"].Enum; !slices.Equal(got, perms) {
		t.Errorf("Permission enum %v, want %v", got, perms)
	}
}

// TestDecisionAndClaim: submit-and-next decides the held item and hands
// out the next one; a refused request decides and claims nothing.
func TestDecisionAndClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	now := e.clock.Now()
	_, err := e.schema.Pool.Exec(ctx, `
INSERT INTO review_items (post_id, platform, author_id, text, lang, post_created_at, flagged_at, category, severity, sla_deadline)
SELECT 'p'||g, 'test', 'a', 'post '||g, 'en', $1, $1, 'terrorist_content', 5 - g, $1::timestamptz + interval '1 hour'
FROM generate_series(1, 3) g`, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mod := e.session(e.user("mod", moderation.RoleModerator))
	other := e.session(e.user("other", moderation.RoleModerator))
	auditor := e.session(e.user("aud", moderation.RoleAuditor))
	var claimed struct {
		Items []moderation.Item `json:"items"`
	}
	e.must(e.do(mod, "POST", "/api/v1/queue/claim", map[string]any{"count": 1}), 200).decode(t, &claimed)
	if len(claimed.Items) != 1 || claimed.Items[0].ID != 1 {
		t.Fatalf("claimed %+v, want item 1", claimed.Items)
	}
	remove := map[string]any{"action": "remove", "reason_code": "TC-1", "next": map[string]any{"count": 1}}
	// A moderator may not take the next item from the leads queue: nothing happens.
	e.must(e.do(mod, "POST", "/api/v1/items/1/decision-and-claim",
		map[string]any{"action": "remove", "reason_code": "TC-1", "next": map[string]any{"queue": "leads"}}), 403)
	// Not held by the caller: 409, and nothing is claimed.
	e.must(e.do(other, "POST", "/api/v1/items/1/decision-and-claim", remove), 409)
	var res struct {
		Decision moderation.Decision `json:"decision"`
		Items    []moderation.Item   `json:"items"`
	}
	e.must(e.do(mod, "POST", "/api/v1/items/1/decision-and-claim", remove), 201).decode(t, &res)
	if res.Decision.ItemID != 1 || res.Decision.Actor != "mod" || res.Decision.ClaimedAt == nil ||
		len(res.Items) != 1 || res.Items[0].ID != 2 || res.Items[0].Status != moderation.StatusClaimed {
		t.Fatalf("decision and next: %+v", res)
	}
	e.must(e.do(mod, "POST", "/api/v1/items/2/decision-and-claim", map[string]any{"action": "no_violation", "reason_code": "NV-1",
		"next": map[string]any{"count": 5}}), 201).decode(t, &res)
	if res.Decision.ItemID != 2 || len(res.Items) != 1 || res.Items[0].ID != 3 {
		t.Fatalf("second decision and next: %+v", res)
	}
	e.must(e.do(mod, "POST", "/api/v1/items/3/decision-and-claim", remove), 201).decode(t, &res)
	if res.Decision.ItemID != 3 || res.Items == nil || len(res.Items) != 0 {
		t.Fatalf("last decision: %+v", res)
	}
	var audit struct {
		Events []moderation.AuditEvent `json:"events"`
	}
	e.must(e.do(auditor, "GET", "/api/v1/audit?action=claim", nil), 200).decode(t, &audit)
	if len(audit.Events) != 3 {
		t.Fatalf("%d claim events, want 3: %+v", len(audit.Events), audit.Events)
	}
	var ver moderation.AuditVerification
	e.must(e.do(auditor, "GET", "/api/v1/audit/verify", nil), 200).decode(t, &ver)
	if !ver.OK {
		t.Fatalf("audit verification %+v", ver)
	}
}

// TestAdminRevokesUserToken: an admin lists another user's tokens and
// revokes the leaked one, which then stops working while the owner and
// the owner's other tokens keep theirs; the revocation is audited, and a
// token of another user is not found through the wrong user.
func TestAdminRevokesUserToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin := e.session(e.user("ada", moderation.RoleAdmin))
	bot := e.user("bot", moderation.RoleModerator)
	other := e.user("other", moderation.RoleModerator)
	leaked, kept := e.token(bot, moderation.PermQueueRead), e.token(bot, moderation.PermQueueRead)
	e.must(e.do(leaked, "GET", "/api/v1/queue", nil), 200)

	var list struct{ Tokens []moderation.APIToken }
	e.must(e.do(admin, "GET", fmt.Sprintf("/api/v1/users/%d/tokens", bot.ID), nil), 200).decode(t, &list)
	if len(list.Tokens) != 2 || strings.Contains(fmt.Sprint(list), "vgl_") {
		t.Fatalf("bot's tokens: %+v", list.Tokens)
	}
	leakedID := list.Tokens[1].ID // newest first: kept, then leaked
	if r := e.do(admin, "DELETE", fmt.Sprintf("/api/v1/users/%d/tokens/%d", other.ID, leakedID), nil); r.status != 404 {
		t.Fatalf("revoking bot's token through another user: %d %s, want 404", r.status, r.body)
	}
	e.must(e.do(admin, "DELETE", fmt.Sprintf("/api/v1/users/%d/tokens/%d", bot.ID, leakedID), nil), 204)
	if r := e.do(leaked, "GET", "/api/v1/queue", nil); r.status != 401 {
		t.Fatalf("the revoked token still works: %d", r.status)
	}
	e.must(e.do(kept, "GET", "/api/v1/queue", nil), 200)
	if r := e.do(admin, "GET", "/api/v1/users/999999/tokens", nil); r.status != 404 {
		t.Fatalf("tokens of an unknown user: %d, want 404", r.status)
	}
	evs, err := postgres.NewAuditLog(e.schema.Pool).Read(context.Background(), moderation.AuditFilter{Subject: "user:bot"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(ev moderation.AuditEvent) bool {
		return ev.Actor == "ada" && strings.Contains(string(ev.Details), `"revoke_token"`)
	}) {
		t.Errorf("no audit event of ada revoking bot's token among %+v", evs)
	}
}

// TestWrongTypeNamesField: a body field of the wrong JSON type is a 400
// naming the field by its JSON path and the type wanted, never the Go
// type it decodes into.
func TestWrongTypeNamesField(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mod := e.session(e.user("mo", moderation.RoleModerator))
	for _, c := range []struct{ path, body, want string }{
		{"/api/v1/clusters/b:e1/decision", `{"action":"remove","reason_code":"TC-1","item_ids":"2"}`, "item_ids: got string, want an array of integers"},
		{"/api/v1/clusters/b:e1/decision", `{"action":"remove","reason_code":"TC-1","item_ids":["2"]}`, "item_ids: got string, want an integer"},
		{"/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"TC-1","next":{"count":"1"}}`, "next.count: got string, want an integer"},
		{"/api/v1/queue/claim", `{"count":true}`, "count: got bool, want an integer"},
	} {
		r := e.do(mod, "POST", c.path, c.body)
		if r.status != 400 || !strings.Contains(string(r.body), c.want) || strings.Contains(string(r.body), "Go ") ||
			strings.Contains(string(r.body), "Request") {
			t.Errorf("POST %s %s: %d %s, want 400 saying %q", c.path, c.body, r.status, r.body, c.want)
		}
	}
}

// Postgres text refuses NUL and invalid UTF-8: such input is the client's
// 400, naming the field, never a 500.
func TestNULAndInvalidUTF8(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin := e.session(e.user("admin", moderation.RoleAdmin, moderation.RoleLead, moderation.RoleModerator))
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/api/v1/queue?category=%00", "", `query parameter \"category\" must be UTF-8 text`},
		{"GET", "/api/v1/queue?category=%ff", "", `query parameter \"category\" must be UTF-8 text`},
		{"GET", "/api/v1/decisions?actor=a%00b", "", `query parameter \"actor\" must be UTF-8 text`},
		{"GET", "/api/v1/audit?actor=%c3", "", `query parameter \"actor\" must be UTF-8 text`},
		{"POST", "/api/v1/items/1/decision", `{"action":"remove","reason_code":"TC-1","note":"a\u0000b"}`, "note: a string holds a NUL character"},
		{"POST", "/api/v1/items/1/hold", `{"reason":"\u0000"}`, "reason: a string holds a NUL character"},
		{"POST", "/api/v1/users", `{"username":"new","password":"a-long-pass\u0000word","roles":["lead"]}`, "password: a string holds a NUL character"},
		{"POST", "/api/v1/tokens", `{"name":"x","scopes":["queue:read\u0000"]}`, "scopes[0]: a string holds a NUL character"},
		// A field of an embedded struct is named as JSON has it, not by
		// the Go type embedding it.
		{"POST", "/api/v1/items/1/decision-and-claim", `{"action":"remove","reason_code":"TC-1","note":"a\u0000b","next":{}}`, `"malformed JSON body: note: a string holds a NUL character"`},
		{"POST", "/api/v1/clusters/b:e/decision", `{"action":"remove","reason_code":"TC-1","note":"a\u0000b"}`, `"malformed JSON body: note: a string holds a NUL character"`},
		// Path parameters reach Postgres text too.
		{"GET", "/api/v1/items/1/media/%ff", "", "media_id must be"},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		r := e.do(admin, c.method, c.path, body)
		if r.status != 400 || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s %s %s: %d %s, want 400 saying %q", c.method, c.path, c.body, r.status, r.body, c.want)
		}
	}
	// Sign-in too: a NUL in the username is refused before any lookup.
	r := e.do(cred{}, "POST", "/api/v1/login", `{"username":"ro\u0000ot","password":"whatever-it-is"}`)
	if r.status != 400 || !strings.Contains(string(r.body), "username: a string holds a NUL character") {
		t.Errorf("login with a NUL: %d %s, want 400", r.status, r.body)
	}
	// Sign-in with an HTML form as well: the form is not JSON, whose
	// decoder replaces invalid UTF-8, and a malformed username is audited
	// (as text) before it is refused.
	for _, form := range []string{"username=%ff&password=whatever-it-is", "username=ro%00ot&password=whatever-it-is",
		"username=root&password=what%00ever-it-is"} {
		r := e.do(cred{}, "POST", "/api/v1/login", form, "Content-Type", "application/x-www-form-urlencoded")
		if r.status != 400 || !strings.Contains(string(r.body), "must be UTF-8 text without NUL characters") {
			t.Errorf("form login %s: %d %s, want 400", form, r.status, r.body)
		}
	}
}
