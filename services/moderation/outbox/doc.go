// Package outbox relays the transactional outbox to Kafka exactly once.
//
// Writers (the review service) insert an outbox row in the same transaction
// as the decision it announces, so a decision is never committed without
// its message nor a message without its decision. The Relay publishes
// unsent rows in id order and marks them sent once the broker has
// acknowledged them. Exactly once, under crashes:
//
//   - One relay runs at a time: it holds a Postgres advisory lock (Store)
//     for as long as it publishes, on the connection it reads and marks
//     with, so losing the connection loses the lock and stops the relay.
//   - Every message carries its outbox id in a header.
//   - When it takes the lock, and after any failure, the relay first reads
//     the tail of each topic with unsent rows (Broker.Published) and marks
//     sent the rows it finds there: a crash between the broker's
//     acknowledgement and the mark leaves such rows, and they are not
//     published again.
//   - The broker writer never retries by itself (a blind retry after an
//     ambiguous timeout could duplicate); the relay re-reads the tail
//     instead.
//
// What remains is a split brain: a relay whose lock connection died while a
// publish was in flight, and a second relay that took the lock and read the
// tail before that publish landed. Consumers that must never see a
// duplicate drop repeated moderation.HeaderOutboxID values.
package outbox
