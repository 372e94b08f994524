package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

const (
	pdqA = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	pdqB = "0000000000000000000000000000000000000000000000000000000000000001"
)

func TestBanksImport(t *testing.T) {
	s := moderationtest.TestSchema(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	imp := func(args ...string) (string, string, error) {
		return runCLI(t, "", append([]string{"banks", "import", "--database-url", s.URL, "--author", "ann"}, args...)...)
	}
	csvFile := write("list.csv", "# shared by a hash-sharing programme\n"+
		"hash_type,hash,labels,source,id\n"+
		"pdq,"+pdqA+",terrorism;isis,gifct,g-1\n"+
		"pdq,nothex,,gifct,g-2\n"+
		"md5,"+pdqB+",,gifct,g-3\n"+
		"pdq,"+pdqB+",,gifct,g-4\n"+
		"pdq,"+pdqB+",,gifct,g-4\n")
	_, errOut, err := imp("--format", "csv", "--bank", "gifct", csvFile)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("malformed lines: %v", err)
	}
	for _, want := range []string{csvFile + ":4: pdq hash \"nothex\"", csvFile + ":5: hash type \"md5\"", csvFile + ":7: entry g-4 repeats line 6", "nothing imported"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Flags after the file are not parsed; the error says so.
	if _, _, err := imp(csvFile, "--format", "csv", "--bank", "gifct"); err == nil || !strings.Contains(err.Error(), "flags before it") {
		t.Errorf("flags after FILE: %v, want an error saying flags go first", err)
	}
	store := postgres.NewBankStore(s.Pool, nil)
	if _, err := store.Bank(context.Background(), "gifct"); !errors.Is(err, moderation.ErrNotFound) {
		t.Fatalf("a file with errors was imported: %v", err)
	}

	out, _, err := imp("--format", "csv", "--bank", "gifct", "--skip-invalid", csvFile)
	if err != nil || !strings.Contains(out, "imported 2 pdq hashes into bank gifct") {
		t.Fatalf("skip invalid: %q %v", out, err)
	}
	b, err := store.Bank(context.Background(), "gifct")
	if err != nil || len(b.Entries) != 2 || b.Entries[0].ID != "g-1" || b.Entries[0].Source != "gifct" || b.HashType != "pdq" {
		t.Fatalf("bank %+v %v", b, err)
	}

	// JSON lines into the same bank: the known hash is already there, a
	// pHash does not belong in a PDQ bank.
	jsonFile := write("list.jsonl", `{"hash_type":"pdq","hash":"`+pdqA+`","labels":["terrorism"],"source":"gifct","id":"g-1"}
{"hash_type":"pdq","hash":"`+strings.Repeat("ab", 32)+`","source":"tech-against-terrorism"}
{"hash_type":"phash","hash":"a61d46b9b4557b81"}
{"hash_type":"pdq","hash":
`)
	_, errOut, err = imp("--format", "json", "--bank", "gifct", jsonFile)
	if !errors.Is(err, ErrFailed) || !strings.Contains(errOut, jsonFile+":3: hash type phash, but bank gifct holds pdq") || !strings.Contains(errOut, jsonFile+":4: ") {
		t.Fatalf("json errors: %v\n%s", err, errOut)
	}
	out, _, err = imp("--format", "json", "--bank", "gifct", "--skip-invalid", jsonFile)
	if err != nil || !strings.Contains(out, "imported 1 pdq hashes into bank gifct (1 already present, 2 invalid skipped; 3 entries now)") {
		t.Fatalf("json import: %q %v", out, err)
	}
	// A new pHash bank, from a CSV without header.
	out, _, err = imp("--format", "csv", "--bank", "demo-phash", "--severity", "high", write("p.csv", "phash,a61d46b9b4557b81,,demo\n"))
	if err != nil || !strings.Contains(out, "imported 1 phash hashes into bank demo-phash") {
		t.Fatalf("phash: %q %v", out, err)
	}
	if b, err := store.Bank(context.Background(), "demo-phash"); err != nil || b.Severity != moderation.SeverityHigh || b.Entries[0].ID != "a61d46b9b4557b81" {
		t.Fatalf("phash bank %+v %v", b, err)
	}
	var audits int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'bank_import'`).Scan(&audits); err != nil || audits != 3 {
		t.Errorf("%d bank_import audit events, want 3 (%v)", audits, err)
	}
}

// TestParseHashListLongLine: a line over maxHashListLine fails the import
// with its number before it is buffered. One 64 MiB line of labels used to
// cost 4 GiB of allocations and 7 s; lines up to the cap still parse.
func TestParseHashListLongLine(t *testing.T) {
	t.Parallel()
	labels := strings.Repeat("a;", maxHashListLine/2)
	fits := strings.Repeat("a;", (maxHashListLine-200)/2)
	cases := map[string][2]string{
		"csv":  {"pdq," + pdqA + "," + fits + "\n", "pdq," + pdqB + "," + labels + "\n"},
		"json": {`{"hash_type":"pdq","hash":"` + pdqA + `","labels":["` + fits + `"]}` + "\n", `{"hash_type":"pdq","hash":"` + pdqB + `","labels":["` + labels + strings.Repeat(labels, 256) + `"]}` + "\n"},
	}
	for format, lines := range cases {
		good, bad, err := parseHashList(strings.NewReader(lines[0]), format, func(int64) {})
		if err != nil || len(good) != 1 || len(bad) != 0 {
			t.Fatalf("%s: a line under the cap: %d good, %v bad, %v", format, len(good), bad, err)
		}
		_, _, err = parseHashList(strings.NewReader(lines[0]+lines[1]), format, func(int64) {})
		if !errors.Is(err, errLongLine) || !strings.Contains(err.Error(), "line 2:") {
			t.Fatalf("%s: a line over the cap: %v, want line 2 and errLongLine", format, err)
		}
	}
}

// TestParseHashListMalformedCSV: CSV syntax errors are malformed lines
// like any other, reported with the line where the record starts. An
// unterminated quote used to panic (csv.Reader.FieldPos on a record with
// no fields).
func TestParseHashListMalformedCSV(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		in   string
		good int
		line int
		msg  string
	}{
		"unterminated quote": {"pdq," + pdqA + "\n\"unterminated\npdq," + pdqB + "\n", 1, 2, "extraneous or missing \" in quoted-field"},
		"lone quote":         {"\"\n", 0, 1, "extraneous or missing \" in quoted-field"},
		"bare quote":         {"pdq,a\"b\nphash,a61d46b9b4557b81\n", 1, 1, "bare \" in non-quoted-field"},
		"hash named once":    {"phash,xyz\n", 0, 1, "64-bit hash \"xyz\": want 16 hex digits, got 3"},
	} {
		good, bad, err := parseHashList(strings.NewReader(c.in), "csv", func(int64) {})
		if err != nil || len(good) != c.good || len(bad) != 1 || bad[0].Line != c.line || bad[0].Msg != c.msg {
			t.Errorf("%s: %d good, bad %+v, err %v; want %d good and line %d: %s", name, len(good), bad, err, c.good, c.line, c.msg)
		}
	}
}
