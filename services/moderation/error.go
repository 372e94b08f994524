package moderation

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by every adapter. Adapters translate driver errors
// into these at their boundary; callers check them with errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("conflict")
	ErrInvalid         = errors.New("invalid input")
	ErrForbidden       = errors.New("forbidden")
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrBusy says a bounded resource (such as password hashing) stayed
	// saturated: the request may succeed if retried shortly.
	ErrBusy = errors.New("busy")
	// ErrLocked says an account is locked after repeated wrong passwords
	// (LoginPolicy): no password is checked until the lockout ends.
	ErrLocked = errors.New("account locked after repeated wrong passwords")
	// ErrWrongPassword says the password given to confirm a change (the
	// current one, when setting a new one) is not the account's.
	ErrWrongPassword = errors.New("wrong password")
)

// Dead-letter reasons: a bounded set, used as a metric label and a header.
const (
	ReasonNotJSON      = "not_json"
	ReasonInvalidUTF8  = "invalid_utf8"
	ReasonVersion      = "unsupported_version"
	ReasonSchema       = "invalid_schema"
	ReasonTooLarge     = "too_large"
	ReasonMediaDecode  = "media_undecodable"
	ReasonMediaTooBig  = "media_dimensions"
	ReasonMediaRefused = "media_refused"
)

// PostError says why a post event was rejected. It wraps ErrInvalid.
type PostError struct {
	Reason string // one of the Reason* constants
	Field  string // JSON path of the offending field, if any
	Detail string
}

func (e *PostError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("invalid post (%s): %s: %s", e.Reason, e.Field, e.Detail)
	}
	return fmt.Sprintf("invalid post (%s): %s", e.Reason, e.Detail)
}

func (e *PostError) Unwrap() error { return ErrInvalid }
