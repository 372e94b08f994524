package app_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/review/internal/app"
)

// TestConfigRefused: settings that make no sense stop vigil-review at
// start with the flag's name, before it connects to anything.
func TestConfigRefused(t *testing.T) {
	t.Parallel()
	for flag, cfg := range map[string]app.Config{
		"--actions-actor":         {ActionsActor: "email"},
		"--precision-threshold":   {PrecisionThreshold: 2},
		"--trusted-proxies":       {TrustedProxies: "not-a-network"},
		"--retention":             {Retention: "forever"},
		"--precision-min-decided": {PrecisionMinDecided: -1},
	} {
		cfg.DatabaseURL = "postgres://nobody@127.0.0.1:1/none"
		cfg.LogLevel, cfg.LogFormat = "warn", "text"
		err := app.RunConfig(context.Background(), cfg, io.Discard)
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s: %v, want an error naming it", flag, err)
		} else if flag != "--trusted-proxies" && !errors.Is(err, moderation.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", flag, err)
		}
	}
}
