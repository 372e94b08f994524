// Package engine evaluates a post against the active rules and hash banks
// and returns a verdict. It performs no I/O and persists nothing: callers
// (the ingest worker, vigilctl rules test) decide what to do with the
// verdict, so both use exactly the same matching.
package engine

import (
	"context"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// Engine is immutable and safe for concurrent use; build a new one when the
// rules change.
type Engine struct {
	rules *ruleset.Set
}

// New returns an engine over a compiled rule set.
func New(rules *ruleset.Set) *Engine {
	return &Engine{rules: rules}
}

// Rules is the rule set the engine evaluates.
func (e *Engine) Rules() *ruleset.Set { return e.rules }

// Evaluate matches p's text against the keyword rules.
func (e *Engine) Evaluate(ctx context.Context, p moderation.Post) (moderation.Verdict, error) {
	v := moderation.Verdict{PostID: p.ID, RuleVersion: e.rules.Version()}
	if err := ctx.Err(); err != nil {
		return v, err
	}
	v.Matches = e.rules.Match(p.Text, p.Lang, nil)
	return v, nil
}
