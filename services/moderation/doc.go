// Package moderation holds Vigil's domain: posts, matches, verdicts, review
// items and decisions, and the interfaces the adapters implement. It imports
// only the standard library so every other package can depend on it.
package moderation
