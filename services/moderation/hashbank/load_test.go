package hashbank

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// TestLoadJSONLErrorsNameFileAndLine: a JSON-lines bank without its header
// line is reported at the first line with the fix; it used to fail on the
// missing type with a hint about CSV's "# type:" line, and vigilctl banks
// import on every entry's external_id.
func TestLoadJSONLErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	entry := `{"id":"demo-0","hash":"a61d46b9b4557b81","external_id":"demoimage.Image(0)"}`
	cases := []struct {
		name, text string
		want       []string
	}{
		{"no header", entry + "\n" + entry + "\n",
			[]string{`bank.jsonl:1: expected the bank header line {"bank": ..., "type": ...} first; got an entry`, `{"bank":"bank","type":"pdq"}`, "phash"}},
		{"no header after blank lines", "\n\n" + entry + "\n",
			[]string{`bank.jsonl:3: expected the bank header line`}},
		{"hash list", `{"hash_type":"pdq","hash":"00"}` + "\n",
			[]string{`bank.jsonl:1: expected the bank header line`, "got a hash-list line", "vigilctl banks import"}},
		{"header without type", `{"bank":"b"}` + "\n" + entry + "\n",
			[]string{`bank.jsonl:1: bank header has no "type"`}},
		{"header with an unknown field", `{"type":"phash","colour":"red"}` + "\n",
			[]string{`bank.jsonl:1: bank header: json: unknown field "colour"`}},
		{"bad entry", `{"type":"phash"}` + "\n" + entry + "\n" + `{"id":"x","hash":"00","note":"?"}` + "\n",
			[]string{`bank.jsonl:3: json: unknown field "note"`}},
		{"empty", "\n", []string{"bank bank: empty; a JSON-lines bank starts with its header line"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bank.jsonl")
			if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path)
			if !errors.Is(err, moderation.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
	_, err := ParseJSONL(strings.NewReader(entry+"\n"), "b")
	var le *LineError
	if !errors.As(err, &le) || le.Line != 1 || !strings.HasPrefix(err.Error(), "bank b line 1: expected the bank header line") {
		t.Errorf("ParseJSONL without a header: %v, want a *LineError of line 1", err)
	}
}
