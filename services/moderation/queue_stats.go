package moderation

import "time"

// QueueStat summarises the open review items (pending, claimed or
// escalated) of one category and status, for dashboards and SLA alerts.
type QueueStat struct {
	Category string
	Status   Status
	Items    int64
	// Overdue counts the items whose SLA deadline has passed.
	Overdue int64
	// OldestFlagged is when the oldest of them was flagged.
	OldestFlagged time.Time
	// NextDeadline is the earliest SLA deadline among them (in the past
	// when some are overdue).
	NextDeadline time.Time
}
