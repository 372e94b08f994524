package moderation

// Dead-letter reasons beyond those of error.go, kept beside the post
// schema they complete. Like those, they are a bounded set used as a
// metric label and a header value.
const (
	// ReasonMediaUnavailable: the media URL was allowed, but its server
	// had no image for us (4xx, too many redirects) or kept failing
	// (timeouts, 5xx) through every retry. Replaying the dead letter later
	// may succeed.
	ReasonMediaUnavailable = "media_unavailable"
	// ReasonStoreRejected: the review queue refused the flagged post's data
	// (a Postgres data or constraint error, e.g. a NUL character in the
	// text), so retrying it could never succeed.
	ReasonStoreRejected = "store_rejected"
)

// DeadLetterReasons lists every dead-letter reason, for dashboards and
// for tests that must cover them all.
func DeadLetterReasons() []string {
	return []string{
		ReasonNotJSON, ReasonInvalidUTF8, ReasonVersion, ReasonSchema, ReasonTooLarge,
		ReasonMediaDecode, ReasonMediaTooBig, ReasonMediaRefused, ReasonMediaUnavailable, ReasonStoreRejected,
	}
}
