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
