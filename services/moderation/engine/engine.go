// Package engine evaluates a post against the active rules and hash banks
// and returns a verdict. It performs no I/O and persists nothing: callers
// (the ingest worker, vigilctl rules test) fetch and decode media, and
// decide what to do with the verdict, so both use exactly the same
// matching.
package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// Engine is immutable and safe for concurrent use; build a new one when the
// rules or banks change.
type Engine struct {
	rules   *ruleset.Set
	banks   *hashbank.Set
	guard   *hashbank.Guard
	hashers sync.Pool // *imagehash.Hasher: reusable buffers, one per goroutine at a time
}

// Option configures an Engine.
type Option func(*Engine)

// WithBanks makes the engine match images against the hash banks of s.
func WithBanks(s *hashbank.Set) Option { return func(e *Engine) { e.banks = s } }

// WithGuard passes every image's bank matches through g, which drops the
// matches of quarantined entries. The guard outlives engines: give the same
// one to each engine built on a reload.
func WithGuard(g *hashbank.Guard) Option { return func(e *Engine) { e.guard = g } }

// New returns an engine over a compiled rule set and the given options.
// A nil rule set matches no text: an engine of hash banks alone.
func New(rules *ruleset.Set, opts ...Option) *Engine {
	e := &Engine{rules: rules}
	for _, o := range opts {
		o(e)
	}
	e.hashers.New = func() any { return imagehash.NewHasher() }
	return e
}

// Rules is the rule set the engine evaluates.
func (e *Engine) Rules() *ruleset.Set { return e.rules }

// Banks is the hash-bank set the engine matches images against, or nil.
func (e *Engine) Banks() *hashbank.Set { return e.banks }

// Image is one media item of a post, already fetched and decoded by the
// caller (imagehash.DecodeBytes, which enforces the size limits).
type Image struct {
	MediaID string
	Decoded imagehash.Decoded
}

// Evaluate matches p's text against the keyword rules and each image
// against the hash banks: keyword matches first, in rule order, then each
// image's bank matches in image order. It returns an error only when ctx is done or hashing
// fails on a decoded image, which is a bug rather than bad input.
func (e *Engine) Evaluate(ctx context.Context, p moderation.Post, images ...Image) (moderation.Verdict, error) {
	v := moderation.Verdict{PostID: p.ID}
	if err := ctx.Err(); err != nil {
		return v, err
	}
	if e.rules != nil {
		v.RuleVersion = e.rules.Version()
		v.Matches = e.rules.Match(p.Text, p.Lang, nil)
	}
	if e.banks == nil || len(images) == 0 {
		return v, nil
	}
	h := e.hashers.Get().(*imagehash.Hasher)
	defer e.hashers.Put(h)
	for _, img := range images {
		if err := ctx.Err(); err != nil {
			return v, err
		}
		ms, _, err := e.banks.MatchImage(h, img.Decoded, img.MediaID)
		if err != nil {
			return v, fmt.Errorf("matching media %s: %w", img.MediaID, err)
		}
		if e.guard != nil {
			ms = e.guard.Observe(ms)
		}
		v.Matches = append(v.Matches, ms...)
	}
	return v, nil
}
