package moderation

import (
	"context"
	"time"
)

// Source locates the Kafka message a post came from.
type Source struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
}

// Evidence is one media file of a flagged post, kept as evidence.
type Evidence struct {
	MediaID string
	MIME    string
	URL     string
	SHA256  string // hex; empty when the bytes could not be fetched
	Bytes   []byte // nil when only the reference is kept
	Width   int
	Height  int
}

// Flag is a post the engine flagged, ready to be queued for review.
type Flag struct {
	Post      Post
	Verdict   Verdict
	Source    Source
	FlaggedAt time.Time
	Evidence  []Evidence
}

// Status is where a review item is in its life.
type Status string

// Item statuses.
const (
	StatusPending   Status = "pending"
	StatusClaimed   Status = "claimed"
	StatusEscalated Status = "escalated"
	StatusDecided   Status = "decided"
)

// Item is one post in the review queue.
type Item struct {
	ID             int64       `json:"id"`
	PostID         string      `json:"post_id"`
	Platform       string      `json:"platform"`
	AuthorID       string      `json:"author_id"`
	AuthorHandle   string      `json:"author_handle"`
	Text           string      `json:"text"`
	Lang           string      `json:"lang"`
	URL            string      `json:"url"`
	PostCreatedAt  time.Time   `json:"post_created_at"`
	FlaggedAt      time.Time   `json:"flagged_at"`
	Category       string      `json:"category"`
	Severity       Severity    `json:"severity"`
	Queue          string      `json:"queue"`
	SLADeadline    time.Time   `json:"sla_deadline"`
	Status         Status      `json:"status"`
	ClaimedBy      *int64      `json:"claimed_by,omitempty"`
	LeaseExpiresAt *time.Time  `json:"lease_expires_at,omitempty"`
	DecidedAt      *time.Time  `json:"decided_at,omitempty"`
	Matches        []Match     `json:"matches"`
	Media          []ItemMedia `json:"media"`
}

// ItemMedia describes a media file of an item; the bytes are served
// separately, blurred unless the viewer may see them.
type ItemMedia struct {
	MediaID string `json:"media_id"`
	MIME    string `json:"mime"`
	URL     string `json:"url,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// Overdue reports whether the item missed its SLA deadline at now.
func (it Item) Overdue(now time.Time) bool {
	return it.Status != StatusDecided && now.After(it.SLADeadline)
}

// Enqueuer stores flags durably. Enqueue is idempotent: a post already in
// the queue gains only the matches it did not have, so replays after a crash
// create no duplicates. When Enqueue returns nil every flag is durable.
// A flag whose post id is already queued with another platform, author,
// text, lang or url is refused with ErrInvalid (the whole call stores
// nothing): merged, its matches would describe text nobody reviews.
type Enqueuer interface {
	Enqueue(ctx context.Context, flags []Flag) error
}

// ItemFilter narrows a listing of the queue.
type ItemFilter struct {
	Status   []Status
	Category string
	Lang     string
	Queue    string
	Limit    int
	AfterID  int64
}
