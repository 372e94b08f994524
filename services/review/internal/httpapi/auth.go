package httpapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// cookieName is __Host-vigil_session: the prefix makes browsers insist on
// Secure, Path=/ and no Domain, so a sibling subdomain cannot plant it.
func (s *Server) cookieName() string {
	if s.InsecureCookies {
		return "vigil_session"
	}
	return "__Host-vigil_session"
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login accepts JSON or an HTML form, rate-limited per client address.
// Wrong credentials, unknown users, disabled and locked accounts all get
// the same 401, so the answer does not reveal which usernames exist.
func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	from := clientAddr(r, s.TrustedProxies)
	if err := s.limitPasswordCheck(w, from, "too many login attempts; try again later"); err != nil {
		return err
	}
	var req loginRequest
	form := false
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if err := r.ParseForm(); err != nil {
			return invalid("malformed form body")
		}
		req.Username, req.Password, form = r.PostForm.Get("username"), r.PostForm.Get("password"), true
		// What the JSON path's decoder ensures (NUL refused, invalid
		// UTF-8 never passed on): both paths answer such input alike.
		for _, f := range [][2]string{{"username", req.Username}, {"password", req.Password}} {
			if !plainText(f[1]) {
				return invalid(f[0] + " must be UTF-8 text without NUL characters")
			}
		}
	} else if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return invalid("username and password are required")
	}
	if len(req.Username) > moderation.MaxUsernameLen || len(req.Password) > moderation.MaxPasswordLen {
		return moderation.ErrUnauthenticated
	}
	usr, err := s.Users.Authenticate(r.Context(), req.Username, req.Password, from)
	if err != nil {
		if errors.Is(err, moderation.ErrUnauthenticated) {
			return &apiError{status: http.StatusUnauthorized, code: "unauthenticated", msg: "wrong username or password, or the account is locked or disabled"}
		}
		return err
	}
	secret, ses, err := s.Sessions.Create(r.Context(), usr)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: secret, Path: "/", Expires: ses.ExpiresAt,
		Secure: !s.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	if form {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"user": usr, "permissions": moderation.PermissionsOf(usr.Roles), "csrf_token": ses.CSRFToken, "expires_at": ses.ExpiresAt,
	})
	return nil
}

// limitPasswordCheck spends one attempt of the per-address bucket shared
// by every password check (login, changing one's password), or returns
// the 429 to answer, with Retry-After, and msg.
func (s *Server) limitPasswordCheck(w http.ResponseWriter, from, msg string) error {
	wait := s.limiter.take(from)
	if wait <= 0 {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
	return &apiError{status: http.StatusTooManyRequests, code: "rate_limited", msg: msg}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	if err := s.Sessions.Delete(r.Context(), a.secret); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: !s.InsecureCookies, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	out := map[string]any{"user": a.User, "permissions": a.Permissions()}
	if a.session != nil {
		out["auth"] = "session"
		out["csrf_token"] = a.session.CSRFToken
		out["expires_at"] = a.session.ExpiresAt
	} else {
		out["auth"] = "token"
		out["token_id"] = a.TokenID
		out["scopes"] = a.Scopes
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword lets the signed-in user set their own password, proving
// the current one (a session only: a token is no proof of knowing it).
// The attempt spends a token of the login rate limit of the client's
// address, and a wrong current password counts towards the account's
// lockout as a failed login does (postgres.Users.ChangePassword). The
// user's other sessions end; this one stays.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	from := clientAddr(r, s.TrustedProxies)
	if err := s.limitPasswordCheck(w, from, "too many password attempts; try again later"); err != nil {
		return err
	}
	var req changePasswordRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.CurrentPassword == "" || req.NewPassword == "" {
		return invalid("current_password and new_password are required")
	}
	if len(req.CurrentPassword) > moderation.MaxPasswordLen {
		return invalid(fmt.Sprintf("current_password is longer than %d bytes", moderation.MaxPasswordLen))
	}
	ended, err := s.Users.ChangePassword(r.Context(), a.User.ID, a.session.ID, req.CurrentPassword, req.NewPassword, from)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"other_sessions_ended": ended})
	return nil
}

func (s *Server) reasonCodes(w http.ResponseWriter, r *http.Request, _ *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"reason_codes": s.ReasonCodes})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	toks, err := s.Users.Tokens(r.Context(), a.User.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": toks})
	return nil
}

type tokenRequest struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// createToken mints an API token for the signed-in user, with scopes the
// user's roles grant. The secret is in the response only.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	var req tokenRequest
	if err := decodeBody(w, r, &req); err != nil {
		return err
	}
	if len(req.Scopes) > len(moderation.AllPermissions) {
		return invalid("too many scopes")
	}
	secret, tok, err := s.Users.CreateToken(r.Context(), a.User.Username, a.User, req.Name, req.Scopes, req.ExpiresAt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "secret": secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := params(r).err; err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Users.RevokeToken(r.Context(), a.User.Username, a.User, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// limiter is a token bucket per client address, in memory: login attempts
// beyond the burst wait for the refill. Accounts are also locked after
// repeated failures (in Postgres), so spreading attempts over many
// addresses does not help an attacker against one account.
type limiter struct {
	clock Clock
	burst int
	every time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket
	nextSweep time.Time // no sweep for stale buckets before
}

// maxLoginBuckets bounds the limiter's memory under a spray of client
// addresses (an IPv6 prefix holds any number of them).
const maxLoginBuckets = 100000

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(c Clock, burst int, every time.Duration) *limiter {
	return &limiter{clock: c, burst: burst, every: every, buckets: map[string]*bucket{}}
}

// take spends one token of key's bucket and returns 0, or returns how long
// until a token is available.
func (l *limiter) take(key string) time.Duration {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok && len(l.buckets) >= maxLoginBuckets {
		// Full: drop the buckets that have refilled (they hold nothing),
		// at most once per refill period: sweeping on every new address
		// cost each login a pass over the map under the lock, so a spray
		// of 200,000 addresses within a minute took 10 minutes. If none
		// is stale, an arbitrary bucket makes room; the account lockout,
		// not this limiter, is what stops guessing one password from many
		// addresses.
		if !now.Before(l.nextSweep) {
			l.nextSweep = now.Add(l.every)
			for k, b := range l.buckets {
				if now.Sub(b.at) > time.Duration(l.burst)*l.every {
					delete(l.buckets, k)
				}
			}
		}
		for k := range l.buckets {
			if len(l.buckets) < maxLoginBuckets {
				break
			}
			delete(l.buckets, k)
		}
	}
	if !ok {
		b = &bucket{tokens: float64(l.burst), at: now}
		l.buckets[key] = b
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.every))
}
