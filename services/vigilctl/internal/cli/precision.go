package cli

import (
	"context"
	"errors"
)

func runRulesPrecision(ctx context.Context, env Env, args []string) error {
	return errors.New("not yet")
}
