package cli

import (
	"bytes"
	"testing"
)

// TestProgressQuietOffTerminal: piped or redirected, a command's standard
// error carries its messages only, no bar or status lines.
func TestProgressQuietOffTerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newProgress(&buf, "reading f", "bytes", 10)
	p.Set(5)
	p.Status("storing 3 entries in bank b…")
	p.Set(10)
	p.Done()
	if buf.Len() != 0 {
		t.Errorf("wrote %q to a non-terminal", buf.String())
	}
}
