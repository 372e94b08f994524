package moderation

import "time"

// OutboxMessage is a message waiting in the transactional outbox: written
// in the same transaction as the change it announces (a decision), relayed
// to Kafka by the outbox relay, and marked sent once the broker has it.
type OutboxMessage struct {
	ID        int64     // assigned by the store; increasing in commit order of inserts
	Topic     string    // Kafka topic, e.g. moderation.actions
	Key       string    // Kafka key: the post id, so one post's actions stay in order
	Payload   []byte    // JSON
	CreatedAt time.Time // when the row was written
}

// HeaderOutboxID is the Kafka header carrying a relayed message's outbox id
// (decimal). Consumers may use it to drop the duplicates a crash of the
// relay can never produce but a replay of the topic can.
const HeaderOutboxID = "vigil-outbox-id"
