package app_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

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
		"--password-wait":         {PasswordWait: -time.Second},
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

// TestPasswordWaitFlagRefused: --password-wait (VIGIL_PASSWORD_WAIT) of
// zero or less stops vigil-review at start, naming the flag; zero would
// silently have meant the 5s default.
func TestPasswordWaitFlagRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		env  map[string]string
	}{
		{args: []string{"--password-wait=0"}},
		{args: []string{"--password-wait=-2s"}},
		{env: map[string]string{"VIGIL_PASSWORD_WAIT": "0s"}},
	} {
		args := append([]string{"vigil-review", "--database-url=postgres://nobody@127.0.0.1:1/none", "--log-level=warn"}, c.args...)
		err := app.Run(context.Background(), args, func(k string) string { return c.env[k] }, io.Discard, io.Discard)
		if !errors.Is(err, moderation.ErrInvalid) || !strings.Contains(err.Error(), "--password-wait") {
			t.Errorf("%v %v: %v, want ErrInvalid naming --password-wait", c.args, c.env, err)
		}
	}
}
