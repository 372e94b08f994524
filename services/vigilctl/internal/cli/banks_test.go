package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

const (
	pdqA = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	pdqB = "0000000000000000000000000000000000000000000000000000000000000001"
)

// importHarness returns write, which puts a file in a temporary directory
// and returns its path, and imp, which runs banks import against url with
// args.
func importHarness(t *testing.T, url string) (write func(name, content string) string, imp func(args ...string) (string, string, error)) {
	dir := t.TempDir()
	write = func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	imp = func(args ...string) (string, string, error) {
		return runCLI(t, "", append([]string{"banks", "import", "--database-url", url, "--author", "ann"}, args...)...)
	}
	return write, imp
}

func TestBanksImport(t *testing.T) {
	s := moderationtest.TestSchema(t)
	write, imp := importHarness(t, s.URL)
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
		f, err := parseHashList(strings.NewReader(lines[0]), format, func(int64) {})
		if err != nil || len(f.good) != 1 || len(f.bad) != 0 {
			t.Fatalf("%s: a line under the cap: %d good, %v bad, %v", format, len(f.good), f.bad, err)
		}
		_, err = parseHashList(strings.NewReader(lines[0]+lines[1]), format, func(int64) {})
		if ll := (*longLineError)(nil); !errors.As(err, &ll) || ll.line != 2 {
			t.Fatalf("%s: a line over the cap: %v, want a longLineError of line 2", format, err)
		}
	}
	// The command reports it as FILE:LINE: message, like any bad line.
	s := moderationtest.TestSchema(t)
	write, imp := importHarness(t, s.URL)
	path := write("long.csv", "hash_type,hash,labels\n"+cases["csv"][0]+cases["csv"][1])
	_, errOut, err := imp("--format", "csv", "--bank", "long", path)
	if !errors.Is(err, ErrFailed) || !strings.Contains(errOut, path+":3: longer than") {
		t.Fatalf("import of a long line: %v, stderr %q; want %s:3: longer than …", err, errOut, path)
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
		// Postgres text refuses NUL and invalid UTF-8: a line, not a
		// failed import at the end.
		"NUL in an id":     {"pdq," + pdqA + ",,gifct,a\x00b\n", 0, 1, "id \"a\\x00b\": want at most 256 bytes of printable UTF-8"},
		"bad UTF-8 source": {"pdq," + pdqA + ",,\xff\n", 0, 1, "source \"\\xff\": want at most 256 bytes of printable UTF-8"},
	} {
		f, err := parseHashList(strings.NewReader(c.in), "csv", func(int64) {})
		good, bad := f.good, f.bad
		if err != nil || len(good) != c.good || len(bad) != 1 || bad[0].Line != c.line || bad[0].Err.Error() != c.msg {
			t.Errorf("%s: %d good, bad %+v, err %v; want %d good and line %d: %s", name, len(good), bad, err, c.good, c.line, c.msg)
		}
	}
}

// TestBanksImportBankFiles: import reads the repository's own bank files
// (rules/banks, the format of --banks-dir), told apart from hash lists by
// their first lines, keeping entry ids, external ids and the file's bank
// settings. They used to fail on their first line (hash type "id",
// unknown field "bank"). Errors are FILE:LINE: message.
func TestBanksImportBankFiles(t *testing.T) {
	s := moderationtest.TestSchema(t)
	ctx := context.Background()
	write, imp := importHarness(t, s.URL)
	store := postgres.NewBankStore(s.Pool, nil)
	for _, c := range []struct{ format, file, bank, hashType string }{
		{"csv", "../../../../rules/banks/demo.csv", "x", "pdq"},
		{"json", "../../../../rules/banks/demo-phash.jsonl", "y", "phash"},
	} {
		want, err := hashbank.LoadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		out, errOut, err := imp("--format", c.format, "--bank", c.bank, c.file)
		if err != nil || !strings.Contains(out, fmt.Sprintf("imported %d %s hashes into bank %s", len(want.Entries), c.hashType, c.bank)) {
			t.Fatalf("importing %s: %v\n%s%s", c.file, err, out, errOut)
		}
		got, err := store.Bank(ctx, c.bank)
		if err != nil {
			t.Fatal(err)
		}
		want.Name = c.bank
		if got.HashType != want.HashType || got.Threshold != want.Threshold || got.MinQuality != want.MinQuality ||
			*got.Dihedral != *want.Dihedral || got.Category != want.Category || got.Severity != want.Severity || got.Source != want.Source {
			t.Errorf("%s: bank settings %+v, want the file's %+v", c.file, got, want)
		}
		if !slices.Equal(got.Entries, want.Entries) {
			t.Errorf("%s: entries\n%+v\nwant\n%+v", c.file, got.Entries, want.Entries)
		}
		// Again: everything is already there.
		if out, _, err := imp("--format", c.format, "--bank", c.bank, c.file); err != nil || !strings.Contains(out, fmt.Sprintf("(%d already present)", len(want.Entries))) {
			t.Errorf("importing %s again: %q %v", c.file, out, err)
		}
	}
	var format string
	if err := s.Pool.QueryRow(ctx, `SELECT details->>'format' FROM audit_events WHERE action = 'bank_import' AND subject = 'bank:y'`).Scan(&format); err != nil || format != "bank-jsonl" {
		t.Errorf("audited format %q %v, want bank-jsonl", format, err)
	}

	// Into an existing bank, the file's category and source, where they
	// differ from the bank's, stay with its entries; flags override a new
	// bank's settings.
	labelled := write("labelled.csv", "# type: pdq\n# category: hate\n# source: partner\n# threshold: 20\nid,hash,external_id\nl-1,"+pdqB+",p-9\n")
	if _, errOut, err := imp("--format", "csv", "--bank", "x", labelled); err != nil {
		t.Fatalf("into an existing bank: %v %s", err, errOut)
	}
	if b, _ := store.Bank(ctx, "x"); b.Threshold != 31 || b.Entries[len(b.Entries)-1] != (hashbank.Entry{ID: "l-1", Hash: pdqB, Category: "hate", Source: "partner", ExternalID: "p-9"}) {
		t.Errorf("bank x after a labelled file: threshold %d, last entry %+v", b.Threshold, b.Entries[len(b.Entries)-1])
	}
	if _, errOut, err := imp("--format", "csv", "--bank", "z", "--severity", "medium", labelled); err != nil {
		t.Fatalf("a new bank with --severity: %v %s", err, errOut)
	}
	if b, _ := store.Bank(ctx, "z"); b.Threshold != 20 || b.Category != "hate" || b.Source != "partner" || b.Severity != moderation.SeverityMedium || b.Entries[0].Category != "" {
		t.Errorf("bank z: %+v", b)
	}

	for _, c := range []struct {
		name, format, content string
		want                  []string
	}{
		{"wrong type for the bank", "json", "", []string{":2: hash type phash, but bank x holds pdq hashes"}},
		{"no type", "csv", "# bank: b\n# comment\nid,hash\nb-1," + pdqA + "\n", []string{":3: bank file (header row names id and hash) has no \"# type: pdq|phash|dhash|ahash\" line"}},
		{"unknown type", "csv", "# type: md5\nid,hash\n", []string{":1: bank type \"md5\""}},
		{"bad severity", "csv", "# type: pdq\n# severity: extreme\nid,hash\n", []string{":2: severity \"extreme\": want low, medium, high or critical"}},
		{"threshold too large", "csv", "# type: phash\n# threshold: 40\nid,hash\n", []string{":3: bank settings: threshold 40 would match random images"}},
		{"json bad severity", "json", `{"type":"pdq","severity":"extreme"}` + "\n", []string{":1: severity \"extreme\": want low"}},
		{"bad threshold", "csv", "# type: pdq\n# threshold: many\nid,hash\n", []string{":2: header \"threshold\""}},
		{"bad entries", "csv", "# type: pdq\nid,hash\n\n# a comment\nb-1,zz\nb-2," + pdqA + "\n\"b-3\n", []string{":5: pdq hash \"zz\"", ":7: extraneous or missing \" in quoted-field", "2 malformed line(s)"}},
		{"json header without type", "json", `{"bank":"b","threshold":3}` + "\n", []string{":1: bank file header has no \"type\""}},
		{"json header unknown field", "json", `{"type":"pdq","colour":"red"}` + "\n", []string{":1: bank file header: unknown field \"colour\" (want bank, type, threshold"}},
		{"json bank file without header", "json", `{"id":"e","hash":"a61d46b9b4557b81","external_id":"x-1"}` + "\n" + `{"id":"f","hash":"a61d46b9b4557b82"}` + "\n",
			[]string{`:1: expected the bank header line {"bank": ..., "type": ...} first; got an entry`}},
		{"json bad entries", "json", `{"type":"phash"}` + "\n" + `{"id":"e","hash":"a61d46b9b4557b81","colour":1}` + "\n" + `{"id":"f","hash":"123"}` + "\n", []string{":2: unknown field \"colour\" (want id, hash, category, source, external_id)", ":3: 64-bit hash \"123\""}},
	} {
		file := "../../../../rules/banks/demo-phash.jsonl"
		if c.content != "" {
			file = write(strings.ReplaceAll(c.name, " ", "-")+map[string]string{"csv": ".csv", "json": ".jsonl"}[c.format], c.content)
		}
		_, errOut, err := imp("--format", c.format, "--bank", "x", file)
		if !errors.Is(err, ErrFailed) {
			t.Errorf("%s: %v, want ErrFailed", c.name, err)
		}
		for _, w := range c.want {
			if strings.HasPrefix(w, ":") {
				w = file + w // FILE:LINE: message
			}
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, errOut)
			}
		}
	}
}

// TestParseHashListMalformedLines: a JSON line with text after its object
// and a CSV line with more fields than named columns were imported with
// the extra silently dropped; JSON decoding errors named Go types. Each is
// now a malformed line with a message for the person fixing the file.
func TestParseHashListMalformedLines(t *testing.T) {
	t.Parallel()
	const ph = "a61d46b9b4557b81"
	for name, c := range map[string]struct {
		format, in string
		good       int
		msg        string // "" = no malformed line
	}{
		"json trailing text":  {"json", `{"hash_type":"phash","hash":"` + ph + `"} junk` + "\n", 0, "unexpected text after the JSON object (one object per line)"},
		"json two objects":    {"json", `{"hash_type":"phash","hash":"` + ph + `"}{"hash_type":"phash","hash":"` + ph + `"}` + "\n", 0, "unexpected text after the JSON object (one object per line)"},
		"json array":          {"json", `["phash","` + ph + `"]` + "\n", 0, "want a JSON object {…} with fields hash_type, hash, labels, category, source, id, got a JSON array"},
		"json labels string":  {"json", `{"hash_type":"phash","hash":"` + ph + `","labels":"x"}` + "\n", 0, `field "labels": want a list of strings, got a JSON string`},
		"json hash number":    {"json", `{"hash_type":"phash","hash":12}` + "\n", 0, `field "hash": want a string, got a JSON number`},
		"json unclosed":       {"json", `{"hash_type":"phash","hash":"` + ph + `"` + "\n", 0, `invalid JSON: the line ends inside the object (a missing '}' or '"'?)`},
		"json unknown field":  {"json", `{"hash_type":"phash","hash":"` + ph + `","colour":"red"}` + "\n", 0, `unknown field "colour" (want hash_type, hash, labels, category, source, id)`},
		"json syntax":         {"json", "not json\n", 0, "invalid JSON at character 2: invalid character 'o' in literal null (expecting 'u')"},
		"json trailing space": {"json", `{"hash_type":"phash","hash":"` + ph + `"}   ` + "\n", 1, ""},
		"bank entry trailing": {"json", `{"bank":"b","type":"phash"}` + "\n" + `{"id":"e","hash":"` + ph + `"} x` + "\n", 0, "unexpected text after the JSON object (one object per line)"},
		"csv extra field":     {"csv", "phash," + ph + ",label,src,id1,surplus\n", 0, "6 field(s), but only 5 column(s) are named (hash_type,hash,labels,source,id): quote a value that holds a comma"},
		"csv header extra":    {"csv", "hash,hash_type\n" + ph + ",phash,a label\n", 0, "3 field(s), but only 2 column(s) are named (hash,hash_type): quote a value that holds a comma"},
		"csv trailing comma":  {"csv", "phash," + ph + ",,,,\n", 1, ""},
		"csv quoted comma":    {"csv", "phash," + ph + ",\"a,b\"\n", 1, ""},
		"bank csv extra":      {"csv", "# type: phash\nid,hash\ne1," + ph + ",oops\n", 0, "3 field(s), but only 2 column(s) are named (id,hash): quote a value that holds a comma"},
		"json hash_type bool": {"json", `{"hash_type":true,"hash":"` + ph + `"}` + "\n", 0, `field "hash_type": want a string, got a JSON bool`},
	} {
		f, err := parseHashList(strings.NewReader(c.in), c.format, func(int64) {})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var msgs []string
		for _, b := range f.bad {
			msgs = append(msgs, b.Err.Error())
		}
		if len(f.good) != c.good || (c.msg == "") != (len(msgs) == 0) || (c.msg != "" && (len(msgs) != 1 || msgs[0] != c.msg)) {
			t.Errorf("%s: %d good, bad %q; want %d good and %q", name, len(f.good), msgs, c.good, c.msg)
		}
	}
}

// TestBanksImportRefusesBeforeStoring: an empty file and an unknown
// format are refused with a clear error before the database is opened
// (the URL here leads nowhere); an empty file used to "import" nothing
// and exit 0.
func TestBanksImportRefusesBeforeStoring(t *testing.T) {
	t.Parallel()
	write, _ := importHarness(t, "")
	for name, c := range map[string]struct {
		content string
		args    []string
		want    string
	}{
		"empty file":       {"", []string{"--format", "csv"}, "has no entries (empty, or only comments and a header): nothing imported"},
		"only a header":    {"# list\nhash_type,hash\n", []string{"--format", "csv"}, "has no entries"},
		"empty JSON lines": {"\n\n", []string{"--format", "json"}, "has no entries"},
		"unknown format":   {"phash,a61d46b9b4557b81\n", []string{"--format", "xml"}, `--format "xml": want csv or json (JSON lines)`},
		"bad bank name":    {"phash,a61d46b9b4557b81\n", []string{"--format", "csv", "--bank", "Bad Name!"}, `--bank "Bad Name!" is no bank name`},
	} {
		path := write(strings.ReplaceAll(name, " ", "_"), c.content)
		args := append([]string{"banks", "import", "--database-url", "postgres://nowhere.invalid:1/x", "--author", "ann", "--bank", "b"}, c.args...)
		_, _, err := runCLI(t, "", append(args, path)...)
		if err == nil || errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", name, err, c.want)
		}
	}
}

// TestByteOrderMark: files saved with a UTF-8 BOM (spreadsheets, some
// editors) read as without one. The BOM used to make a hash list's header
// "\ufeffhash_type" (so it was taken for a bank file without "# type:"),
// the first JSON line invalid, and the first post of rules test malformed.
func TestByteOrderMark(t *testing.T) {
	t.Parallel()
	const bom = "\xef\xbb\xbf"
	for name, c := range map[string]struct{ format, in string }{
		"hash list CSV":   {"csv", bom + "hash_type,hash,labels,source,id\r\nphash,a61d46b9b4557b81,,,e1\r\n"},
		"bank file CSV":   {"csv", bom + "# type: phash\nid,hash\ne1,a61d46b9b4557b81\n"},
		"hash list JSON":  {"json", bom + `{"hash_type":"phash","hash":"a61d46b9b4557b81","id":"e1"}` + "\n"},
		"bank file JSONL": {"json", bom + `{"bank":"b","type":"phash"}` + "\n" + `{"id":"e1","hash":"a61d46b9b4557b81"}` + "\n"},
	} {
		f, err := parseHashList(strings.NewReader(c.in), c.format, func(int64) {})
		if err != nil || len(f.good) != 1 || len(f.bad) != 0 || f.good[0].ID != "e1" {
			t.Errorf("%s: %d good, bad %v, err %v; want entry e1", name, len(f.good), f.bad, err)
		}
	}
	posts := readFile(t, "testdata/posts.jsonl")
	out, errOut, err := runCLI(t, bom+posts, "rules", "test", "--rules", "testdata/rules/valid")
	if err != nil || errOut != "" || !strings.HasPrefix(out, `{"post_id":"p1",`) {
		t.Errorf("rules test with a BOM: %v, stderr %q, output %q", err, errOut, out)
	}
}

// TestFormatHint: when no line of an import file reads, the wrong
// --format or a file that is not text is named, not only each line's
// error ("bare \" in non-quoted-field" for JSON lines read as CSV).
func TestFormatHint(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ format, head, want string }{
		{"csv", `{"hash_type":"phash","hash":"a61d46b9b4557b81"}` + "\n", "its lines are JSON objects: use --format json"},
		{"csv", "\xef\xbb\xbf\n{\"hash_type\":\"phash\"}\n", "its lines are JSON objects: use --format json"},
		{"json", "# list\nhash_type,hash\n", "its lines are not JSON objects: use --format csv for CSV"},
		{"csv", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "does not look like text (an image or an archive?): want a CSV or JSON-lines hash list"},
		{"csv", "caf\xe9,x\n", "does not look like text"},
		{"csv", "md5,abc\n", ""},
		{"csv", "x," + strings.Repeat("€", 2000), ""}, // a rune cut by the 4 KiB read is still text
		{"json", `{"hash_type":"md5"}`, ""},
		{"json", "", ""},
	} {
		if got := formatHint(strings.NewReader(c.head), c.format); !strings.HasPrefix(got, c.want) || (c.want == "") != (got == "") {
			t.Errorf("%s %q: %q, want %q", c.format, c.head, got, c.want)
		}
	}
}

// TestBanksImportSkipInvalidNothingValid: --skip-invalid skips the bad
// lines of a list; a file of which no line is valid (JSON lines read as
// CSV) used to "import" nothing and exit 0. It fails now, and says why.
func TestBanksImportSkipInvalidNothingValid(t *testing.T) {
	s := moderationtest.TestSchema(t)
	write, imp := importHarness(t, s.URL)
	path := write("list.jsonl", `{"hash_type":"phash","hash":"a61d46b9b4557b81","id":"e1"}`+"\n")
	_, errOut, err := imp("--format", "csv", "--bank", "b", "--skip-invalid", path)
	if !errors.Is(err, ErrFailed) || !strings.Contains(errOut, path+": its lines are JSON objects: use --format json") ||
		!strings.Contains(errOut, "1 malformed line(s) and no valid one; nothing imported") {
		t.Errorf("err %v, stderr %q; want a failure naming the format", err, errOut)
	}
	// Lines already present are valid: re-importing a list is no failure.
	if out, errOut, err := imp("--format", "json", "--bank", "b", path); err != nil || !strings.Contains(out, "imported 1 phash") {
		t.Fatalf("import: %v %s", err, errOut)
	}
	bad := write("again.jsonl", `{"hash_type":"phash","hash":"a61d46b9b4557b81","id":"e1"}`+"\n"+`{"hash_type":"phash","hash":"xyz"}`+"\n")
	if out, errOut, err := imp("--format", "json", "--bank", "b", "--skip-invalid", bad); err != nil || !strings.Contains(out, "nothing to import into b (1 already present)") {
		t.Errorf("re-import with a bad line: %v, out %q, stderr %q", err, out, errOut)
	}
}

// TestBankJSONHeaderMessages: a bad value in a JSON bank header named a
// Go struct ("cannot unmarshal string into Go struct field
// Header.threshold of type int"); it now says what the field wants.
func TestBankJSONHeaderMessages(t *testing.T) {
	t.Parallel()
	for head, want := range map[string]string{
		`{"bank":"b","type":"phash","threshold":"ten"}`: `bank file header: field "threshold": want a whole number, got a JSON string`,
		`{"bank":"b","type":"phash","dihedral":"yes"}`:  `bank file header: field "dihedral": want true or false, got a JSON string`,
		`{"bank":"b","type":"phash","threshold":1.5}`:   `bank file header: field "threshold": want a whole number, got a JSON number 1.5`,
		`{"bank":"b","type":"phash","colour":"red"}`:    `bank file header: unknown field "colour" (want bank, type, threshold, min_quality, dihedral, category, severity, source)`,
	} {
		_, err := parseHashList(strings.NewReader(head+"\n"), "json", func(int64) {})
		var le *hashbank.LineError
		if !errors.As(err, &le) || le.Line != 1 || le.Err.Error() != want {
			t.Errorf("%s: %v, want line 1: %s", head, err, want)
		}
	}
}
