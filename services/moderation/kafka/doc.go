// Package kafka adapts Vigil to Apache Kafka through segmentio/kafka-go:
// topic set-up, the post consumer, and the dead-letter and actions
// producers.
package kafka
