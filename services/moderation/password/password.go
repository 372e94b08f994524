// Package password hashes passwords with argon2id and verifies them in
// constant time. Hashes are stored in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash), so parameters can be raised later
// without invalidating stored hashes: Verify reads them from the string.
//
// Each hash holds its memory cost (19 MiB by default) while it runs, so a
// server uses a Hasher, which bounds how many run at once: a burst of
// logins waits for a slot, briefly, instead of exhausting memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// ErrMalformed means a stored hash is not an argon2id PHC string.
var ErrMalformed = errors.New("malformed password hash")

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// Default follows OWASP's argon2id recommendation (19 MiB, 2 passes, 1
// lane): about 30 ms on one core of a small server.
var Default = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hash returns the PHC string of password under p (Default when zero).
func Hash(password string, p Params) (string, error) {
	if p == (Params{}) {
		p = Default
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the stored PHC string. Returns
// ErrMalformed when the string cannot be parsed.
func Verify(stored, password string) (bool, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, ErrMalformed
	}
	// Bound what a stored string can make us spend.
	if p.MemoryKiB < 8 || p.MemoryKiB > 1<<18 || p.Time < 1 || p.Time > 16 || p.Threads < 1 {
		return false, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, ErrMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false, ErrMalformed
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// ErrBusy means every hashing slot stayed taken for the Hasher's MaxWait:
// the caller should answer "try again shortly" rather than queue up.
var ErrBusy = errors.New("too many password checks in progress")

// HasherOptions configures a Hasher. The zero value is usable.
type HasherOptions struct {
	Params Params // Default when zero
	// Concurrency bounds the hashes computed at once; each holds
	// Params.MemoryKiB of memory while it runs (19 MiB by default), so
	// this is what keeps a burst of logins within the process's memory
	// limit. DefaultConcurrency when zero or less.
	Concurrency int
	// MaxWait bounds how long a caller waits for a slot before ErrBusy
	// (the caller's context may end it sooner). DefaultMaxWait when zero
	// or less.
	MaxWait time.Duration
}

// DefaultConcurrency is 4 hashes at once (76 MiB at Default) and
// DefaultMaxWait 5 s: at about 30 ms a hash, 4 slots verify some 130
// passwords a second, so a caller still waiting after 5 s is behind a
// flood it should not join.
const (
	DefaultConcurrency = 4
	DefaultMaxWait     = 5 * time.Second
)

// Hasher hashes and verifies passwords with at most Concurrency
// computations at once. It is safe for concurrent use.
type Hasher struct {
	params  Params
	maxWait time.Duration
	slots   chan struct{}
}

// NewHasher returns a Hasher with its own slots.
func NewHasher(o HasherOptions) *Hasher {
	if o.Params == (Params{}) {
		o.Params = Default
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	return &Hasher{params: o.Params, maxWait: o.MaxWait, slots: make(chan struct{}, o.Concurrency)}
}

// Params are the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Acquire takes a slot for a caller that computes hashes itself with Hash
// and Verify, for instance inside a database transaction it should not
// hold while waiting; release gives the slot back. Returns ErrBusy after
// MaxWait, or ctx's error when it ends first.
func (h *Hasher) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-h.slots }
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(h.maxWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to hash a password: %w", ctx.Err())
	case <-t.C:
		return nil, ErrBusy
	}
}

// Hash is Hash under a slot, with the Hasher's parameters.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return Hash(password, h.params)
}

// Verify is Verify under a slot.
func (h *Hasher) Verify(ctx context.Context, stored, password string) (bool, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return Verify(stored, password)
}
