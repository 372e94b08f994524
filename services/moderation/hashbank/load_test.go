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

// TestLoadWithBOM: a bank file saved with a UTF-8 byte order mark (as
// spreadsheets and some editors do) loads as without one; the CSV header
// used to lack its id column ("\ufeffid") and a JSON header was invalid.
func TestLoadWithBOM(t *testing.T) {
	t.Parallel()
	const bom = "\xef\xbb\xbf"
	for name, text := range map[string]string{
		"lf.csv":     bom + "# type: phash\nid,hash\ne1,a61d46b9b4557b81\n",
		"crlf.csv":   bom + "# type: phash\r\nid,hash\r\ne1,a61d46b9b4557b81\r\n",
		"lf.jsonl":   bom + `{"bank":"b","type":"phash"}` + "\n" + `{"id":"e1","hash":"a61d46b9b4557b81"}` + "\n",
		"crlf.jsonl": bom + `{"bank":"b","type":"phash"}` + "\r\n" + `{"id":"e1","hash":"a61d46b9b4557b81"}` + "\r\n",
	} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := LoadFile(path)
		if err != nil || len(b.Entries) != 1 || b.Entries[0].ID != "e1" || b.HashType != "phash" {
			t.Errorf("%s: bank %+v, %v; want one phash entry e1", name, b, err)
		}
	}
}

// TestSetCommentErrors: a bad number or boolean in a "# key: value" line
// says what the value should be; it used to quote strconv ("strconv.Atoi:
// parsing \"abc\": invalid syntax").
func TestSetCommentErrors(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"# threshold: abc":   `header "threshold": "abc" is not a whole number`,
		"# min_quality: 5.5": `header "min_quality": "5.5" is not a whole number`,
		"# Dihedral: maybe":  `header "Dihedral": "maybe" is not true or false`,
	} {
		var h Header
		named, err := h.SetComment(line)
		if !named || !errors.Is(err, moderation.ErrInvalid) || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "strconv") {
			t.Errorf("%q: %v %v, want %s", line, named, err, want)
		}
	}
	var h Header
	if named, err := h.SetComment("# threshold: 12"); !named || err != nil || h.Threshold != 12 {
		t.Errorf("valid line: %v %v %+v", named, err, h)
	}
}
