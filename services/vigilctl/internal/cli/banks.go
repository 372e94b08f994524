package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// banksCommand manages the hash banks stored in Postgres.
func banksCommand() Command {
	subs := []Command{
		{Name: "import", Summary: "import a shared hash list or a bank file (CSV or JSON lines) into a bank", Run: runBanksImport},
		{Name: "quarantined", Summary: "list the entries the bad-entry guard took out of service", Run: runBanksQuarantined},
		{Name: "confirm", Summary: "release a quarantined entry (BANK ENTRY): it matches again on every worker", Run: runBanksConfirm},
		{Name: "quarantine", Summary: "take a wrong entry (BANK ENTRY) out of service by hand on every worker", Run: runBanksQuarantine},
		{Name: "precision", Summary: "per-entry precision from moderators' decisions: entries that flag harmless posts", Run: runBanksPrecision},
	}
	return Command{
		Name:    "banks",
		Summary: "import hash lists into hash banks, review quarantined and low-precision entries",
		Run: func(ctx context.Context, env Env, args []string) error {
			return subcommand(ctx, env, "banks", args, subs)
		},
	}
}

// sharedHash is one entry of an import file: a line of a shared hash
// list, or an entry of a bank file.
type sharedHash struct {
	Line       int
	HashType   string
	Hash       string
	Labels     []string
	Category   string
	Source     string
	ID         string
	ExternalID string // the hash list's id; a bank file's external_id
}

// badLine is a problem on line n of an import file: a malformed line,
// skipped with --skip-invalid, or (returned as an error) one that makes
// the rest of the file unreadable. Shown as FILE:LINE: message, as
// hashbank reports the lines of bank files.
func badLine(n int, msg string) *hashbank.LineError {
	return &hashbank.LineError{Line: n, Err: errors.New(msg)}
}

// importFile is what banks import read from a file.
type importFile struct {
	// format is csv or json for a hash list, bank-csv or bank-jsonl for a
	// bank file (docs/hashing.md), as detected.
	format string
	// header is a bank file's bank-level settings; nil for a hash list.
	header *hashbank.Header
	good   []sharedHash
	bad    []*hashbank.LineError
}

// hashListColumns are the CSV columns, in order when there is no header.
var hashListColumns = []string{"hash_type", "hash", "labels", "source", "id"}

// parseHashList reads an import file: a shared hash list or a bank file,
// told apart by their first lines.
//
// Hash list, CSV: columns hash_type, hash and optionally labels
// (separated by ;), source and id, in that order or as named by a header
// row; # starts a comment. JSON lines: one object per line {"hash_type",
// "hash", "labels": [...], "source", "id"}.
//
// Bank file (the format of rules/banks, hashbank.ParseCSV and ParseJSONL),
// CSV: "# key: value" lines, then a header row naming id and hash and no
// hash_type; JSON lines: a first line with "type" or "bank". Its type
// comes from the "# type:" line or the first line's "type".
//
// Every malformed line is reported with its number; good lines are
// returned. An error is returned only when the file cannot be read, a
// line is over maxHashListLine, or a header makes the rest unreadable
// (a *hashbank.LineError).
func parseHashList(r io.Reader, format string, onBytes func(int64)) (importFile, error) {
	f := importFile{format: format}
	var read int64
	check := func(h sharedHash) {
		h.HashType = strings.ToLower(strings.TrimSpace(h.HashType))
		h.Hash = strings.ToLower(strings.TrimSpace(h.Hash))
		h.Category = strings.ToLower(strings.TrimSpace(h.Category))
		if err := checkSharedHash(h); err != nil {
			f.bad = append(f.bad, badLine(h.Line, err.Error()))
			return
		}
		f.good = append(f.good, h)
	}
	br := bufio.NewReaderSize(&lineCap{r: r, line: 1}, 1<<16)
	skipBOM(br)
	switch format {
	case "json":
		first := true
		for n := 1; ; n++ {
			raw, err := br.ReadBytes('\n')
			read += int64(len(raw))
			onBytes(read)
			if t := bytes.TrimSpace(raw); len(t) > 0 {
				isHeader := false
				if first {
					first = false
					h, ok, herr := bankJSONHeader(t, n)
					if herr != nil {
						return f, herr
					}
					if ok {
						isHeader, f.header, f.format = true, h, "bank-jsonl"
					}
				}
				if !isHeader {
					f.jsonLine(t, n, check)
				}
			}
			if errors.Is(err, io.EOF) {
				return f, nil
			}
			if err != nil {
				return importFile{}, err
			}
		}
	case "csv":
		// Leading "# key: value" lines are a bank file's header; the CSV
		// reader would skip them as comments.
		var comments []string
		for {
			peek, err := br.Peek(1)
			if err != nil || peek[0] != '#' {
				break
			}
			line, err := br.ReadString('\n')
			read += int64(len(line))
			comments = append(comments, line)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return importFile{}, err
				}
				break
			}
		}
		offset := len(comments) // lines before the CSV reader's first
		cr := csv.NewReader(&countingReader{r: br, n: &read, on: onBytes})
		cr.Comment = '#'
		cr.FieldsPerRecord = -1
		cr.TrimLeadingSpace = true
		cols := map[string]int{}
		for i, c := range hashListColumns {
			cols[c] = i
		}
		first := true
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return f, nil
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					f.bad = append(f.bad, badLine(offset+pe.StartLine, pe.Err.Error()))
					continue
				}
				return importFile{}, err
			}
			// Only after a successful Read: FieldPos panics when the
			// record that failed has no fields (an unterminated quote).
			line, _ := cr.FieldPos(0)
			line += offset
			if first {
				first = false
				named := map[string]int{}
				for i, c := range rec {
					named[strings.ToLower(strings.TrimSpace(c))] = i
				}
				_, hasID := named["id"]
				_, hasHash := named["hash"]
				_, hasType := named["hash_type"]
				_, hasType2 := named["type"]
				if hasID && hasHash && !hasType && !hasType2 {
					h, err := bankCSVHeader(comments, line)
					if err != nil {
						return f, err
					}
					f.header, f.format, cols = h, "bank-csv", named
					continue
				}
				if h := strings.ToLower(strings.TrimSpace(rec[0])); h == "hash_type" || h == "type" || h == "hash" {
					cols = map[string]int{}
					for i, c := range rec {
						c = strings.ToLower(strings.TrimSpace(c))
						if c == "type" {
							c = "hash_type"
						}
						if c == "label" {
							c = "labels"
						}
						cols[c] = i
					}
					if _, ok := cols["hash"]; !ok {
						return f, badLine(line, "header has no hash column")
					}
					if _, ok := cols["hash_type"]; !ok {
						return f, badLine(line, "header has no hash_type column (a bank file's header names id and hash)")
					}
					continue
				}
			}
			get := func(c string) string {
				if i, ok := cols[c]; ok && i < len(rec) {
					return strings.TrimSpace(rec[i])
				}
				return ""
			}
			// A field beyond the named columns is data put nowhere: a
			// comma inside an unquoted label or id shifts the columns.
			if extra := extraFields(rec, cols); extra > 0 {
				f.bad = append(f.bad, badLine(line, fmt.Sprintf("%d field(s), but only %d column(s) are named (%s): quote a value that holds a comma",
					len(rec), len(rec)-extra, columnNames(cols))))
				continue
			}
			if f.header != nil {
				check(sharedHash{Line: line, HashType: f.header.Type, Hash: get("hash"), Category: get("category"),
					Source: get("source"), ID: get("id"), ExternalID: get("external_id")})
				continue
			}
			if len(rec) < 2 {
				f.bad = append(f.bad, badLine(line, fmt.Sprintf("%d field(s), want at least hash_type and hash", len(rec))))
				continue
			}
			var labels []string
			for _, l := range strings.Split(get("labels"), ";") {
				if l = strings.TrimSpace(l); l != "" {
					labels = append(labels, l)
				}
			}
			check(sharedHash{Line: line, HashType: get("hash_type"), Hash: get("hash"), Labels: labels, Category: get("category"),
				Source: get("source"), ID: get("id"), ExternalID: get("id")})
		}
	}
	return importFile{}, fmt.Errorf("--format %q: want csv or json", format)
}

// jsonLine reads line n of a JSON-lines file, an entry of a bank file
// (f.header set) or a line of a hash list, and passes it to check.
func (f *importFile) jsonLine(t []byte, n int, check func(sharedHash)) {
	if f.header != nil {
		var e struct {
			ID         string `json:"id"`
			Hash       string `json:"hash"`
			Category   string `json:"category"`
			Source     string `json:"source"`
			ExternalID string `json:"external_id"`
		}
		if err := decodeJSONLine(t, &e); err != nil {
			f.bad = append(f.bad, badLine(n, jsonLineMessage(err, "id, hash, category, source, external_id")))
			return
		}
		check(sharedHash{Line: n, HashType: f.header.Type, Hash: e.Hash, Category: e.Category, Source: e.Source, ID: e.ID, ExternalID: e.ExternalID})
		return
	}
	var e struct {
		HashType string   `json:"hash_type"`
		Hash     string   `json:"hash"`
		Labels   []string `json:"labels"`
		Category string   `json:"category"`
		Source   string   `json:"source"`
		ID       string   `json:"id"`
	}
	if err := decodeJSONLine(t, &e); err != nil {
		f.bad = append(f.bad, badLine(n, jsonLineMessage(err, "hash_type, hash, labels, category, source, id")))
		return
	}
	check(sharedHash{Line: n, HashType: e.HashType, Hash: e.Hash, Labels: e.Labels, Category: e.Category, Source: e.Source, ID: e.ID, ExternalID: e.ID})
}

// extraFields counts the non-empty fields of rec after the last named
// column (empty ones are a trailing comma, harmless).
func extraFields(rec []string, cols map[string]int) int {
	n := 0
	for _, i := range cols {
		n = max(n, i+1)
	}
	for _, v := range rec[min(n, len(rec)):] {
		if strings.TrimSpace(v) != "" {
			return len(rec) - n
		}
	}
	return 0
}

// columnNames lists cols in column order.
func columnNames(cols map[string]int) string {
	names := make([]string, 0, len(cols))
	for c := range cols {
		names = append(names, c)
	}
	sort.Slice(names, func(i, j int) bool { return cols[names[i]] < cols[names[j]] })
	return strings.Join(names, ",")
}

// errTrailingJSON is a line with more after its JSON object.
var errTrailingJSON = errors.New("unexpected text after the JSON object (one object per line)")

// decodeJSONLine decodes one line holding exactly one JSON object with
// only known fields: json.Decoder alone would ignore what follows the
// object ({…} trailing, or two objects on one line).
func decodeJSONLine(line []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailingJSON
	}
	return nil
}

// jsonLineMessage words a decoding error of a JSON line for the person
// fixing the file: no Go types, the fields a line may have.
func jsonLineMessage(err error, fields string) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("want a JSON object {…} with fields %s, got a JSON %s", fields, te.Value)
	case errors.As(err, &te):
		want := "a string"
		switch k := te.Type.Kind(); {
		case k == reflect.Slice:
			want = "a list of strings"
		case k == reflect.Int:
			want = "a whole number"
		case k == reflect.Bool || k == reflect.Pointer && te.Type.Elem().Kind() == reflect.Bool:
			want = "true or false"
		}
		return fmt.Sprintf("field %q: want %s, got a JSON %s", te.Field, want, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at character %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: the line ends inside the object (a missing '}' or '\"'?)"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Sprintf("%s (want %s)", strings.TrimPrefix(err.Error(), "json: "), fields)
	}
	return err.Error()
}

// bankCSVHeader reads the "# key: value" lines (comments, from line 1) of
// a bank file whose header row is at headerLine. Errors are *hashbank.LineError.
func bankCSVHeader(comments []string, headerLine int) (*hashbank.Header, error) {
	h := &hashbank.Header{}
	typeLine := 0
	for i, c := range comments {
		before := *h
		if _, err := h.SetComment(c); err != nil {
			return nil, badLine(i+1, strings.TrimSuffix(err.Error(), ": "+moderation.ErrInvalid.Error()))
		}
		if h.Type != before.Type {
			typeLine = i + 1
		}
		if h.Severity != before.Severity {
			if err := checkSeverity(h.Severity, i+1); err != nil {
				return nil, err
			}
		}
	}
	if h.Type == "" {
		return nil, badLine(headerLine, `bank file (header row names id and hash) has no "# type: pdq|phash|dhash|ahash" line before it`)
	}
	return h, checkHeader(h, typeLine, headerLine)
}

// bankJSONHeader reports whether raw, line n of a JSON-lines file, is a
// bank file's first line (it has "type" or "bank") and reads it. Errors
// are *hashbank.LineError, also for a bank entry where the header should be.
func bankJSONHeader(raw []byte, n int) (*hashbank.Header, bool, error) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) != nil {
		return nil, false, nil // reported as a malformed line
	}
	_, hasType := probe["type"]
	_, hasBank := probe["bank"]
	if !hasType && !hasBank {
		// A bank file without its header: every entry would fail on its
		// own, as a hash-list line lacking hash_type or with an unknown
		// external_id, and not say why.
		_, hasID := probe["id"]
		_, hasHash := probe["hash"]
		_, hasHashType := probe["hash_type"]
		if hasID && hasHash && !hasHashType {
			return nil, false, badLine(n, hashbank.HeaderHint("an entry", "NAME")+`; a hash list names "hash_type" on every line`)
		}
		return nil, false, nil
	}
	h := &hashbank.Header{}
	if err := decodeJSONLine(raw, h); err != nil {
		return nil, true, badLine(n, "bank file header: "+jsonLineMessage(err, "bank, type, threshold, min_quality, dihedral, category, severity, source"))
	}
	if h.Type == "" {
		return nil, true, badLine(n, `bank file header has no "type" (pdq, phash, dhash or ahash)`)
	}
	if err := checkSeverity(h.Severity, n); err != nil {
		return nil, true, err
	}
	return h, true, checkHeader(h, n, n)
}

func checkSeverity(sev string, line int) error {
	if sev == "" {
		return nil
	}
	if _, err := moderation.ParseSeverity(sev); err != nil {
		return badLine(line, fmt.Sprintf("severity %q: want low, medium, high or critical", sev))
	}
	return nil
}

// checkHeader checks a bank file's type (given at typeLine) and, with it,
// its other settings (reported at line): a threshold too large for the
// type, for instance.
func checkHeader(h *hashbank.Header, typeLine, line int) error {
	h.Type = strings.ToLower(strings.TrimSpace(h.Type))
	if imagehash.Bits(h.Type) == 0 {
		return badLine(typeLine, fmt.Sprintf("bank type %q: want one of %s", h.Type, strings.Join(imagehash.Types(), ", ")))
	}
	b := hashbank.Bank{}
	err := h.Apply(&b)
	if err == nil {
		b.Name = "file" // the name is --bank's
		err = b.Validate()
	}
	if err != nil {
		msg := strings.TrimSuffix(err.Error(), ": "+moderation.ErrInvalid.Error())
		return badLine(line, "bank settings: "+strings.TrimPrefix(msg, "bank file: "))
	}
	return nil
}

// maxHashListLine bounds a line of a hash list: a hash, its type, a few
// labels, a source and an id fit in far less. A list is a partner's file,
// and one line of 64 MiB (of labels) cost 4 GiB of allocations and 7 s
// before any check.
const maxHashListLine = 64 << 10

// longLineError is lineCap's error: a line too long to read, by number.
type longLineError struct{ line int }

func (e *longLineError) Error() string {
	return fmt.Sprintf("line %d: longer than %d bytes", e.line, maxHashListLine)
}

// lineCap reads r, failing with a *longLineError on a
// line longer than maxHashListLine, before the parsers buffer it.
type lineCap struct {
	r    io.Reader
	line int // number of the line being read
	run  int // its bytes so far
}

func (c *lineCap) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.line++
			c.run = 0
			continue
		}
		if c.run++; c.run > maxHashListLine {
			return i, &longLineError{c.line}
		}
	}
	return n, err
}

type countingReader struct {
	r  io.Reader
	n  *int64
	on func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	c.on(*c.n)
	return n, err
}

func checkSharedHash(h sharedHash) error {
	if imagehash.Bits(h.HashType) == 0 {
		return fmt.Errorf("hash type %q: want one of %s", h.HashType, strings.Join(imagehash.Types(), ", "))
	}
	if err := hashbank.CheckEntryText(hashbank.Entry{ID: h.ID, Category: h.Category, Source: h.Source, ExternalID: h.ExternalID}); err != nil {
		return err
	}
	// The parsers' errors name the hash and the length wanted.
	if h.HashType == imagehash.TypePDQ {
		_, err := imagehash.ParseHash256(h.Hash)
		return err
	}
	_, err := imagehash.ParseHash64(h.Hash)
	return err
}

func runBanksImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "banks import", "Usage: vigilctl banks import --format csv|json --bank NAME [--skip-invalid] FILE\n\n"+
		"Imports a hash list as shared between platforms into a bank: each line has a hash type\n"+
		"(pdq, phash, dhash, ahash), the hash in hex, and optionally labels, a source and an id.\n"+
		"CSV: hash_type,hash[,labels[,source[,id]]] (labels separated by ;), or columns named by a\n"+
		"header row (which may add a category column). JSON lines: {\"hash_type\":…,\"hash\":…,\n"+
		"\"labels\":[…],\"category\":…,\"source\":…,\"id\":…}. An entry's category is its category, else\n"+
		"its first label naming a built-in category, else the bank's.\n"+
		"A bank file as in rules/banks (docs/hashing.md) is imported too, told apart by its first\n"+
		"lines: CSV with \"# type: …\" lines and a header row naming id and hash (no hash_type),\n"+
		"JSON lines whose first line has \"type\" or \"bank\". Its entries keep their ids, categories,\n"+
		"sources and external ids; a new bank takes the file's settings (threshold, category,\n"+
		"severity, …) unless --category or --severity is given; --bank names the bank.\n"+
		"Malformed lines are reported as FILE:LINE: message and nothing is imported, unless\n"+
		"--skip-invalid is given. Entries are added to an existing bank (same hash type); a new\n"+
		"bank is created with --category and --severity. The bank, its audit event and the\n"+
		"notification that makes the workers reload commit in one transaction.")
	dbURL := databaseFlag(fs)
	format := fs.String("format", "", "csv or json (JSON lines)")
	bank := fs.String("bank", "", "bank to import into")
	skip := fs.Bool("skip-invalid", false, "import the valid lines of a file that has malformed ones (a file with no valid line still fails)")
	category := fs.String("category", hashbank.DefaultCategory, "category of a new bank")
	severity := fs.String("severity", hashbank.DefaultSeverity.String(), "severity of a new bank")
	author := authorFlag(env, fs)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("banks import: want --format csv|json --bank NAME FILE, one FILE, flags before it; got arguments %q", fs.Args())
	}
	if fs.NArg() != 1 || *bank == "" || *format == "" {
		return fmt.Errorf("banks import: want --format csv|json --bank NAME FILE")
	}
	if *format != "csv" && *format != "json" {
		return fmt.Errorf("banks import: --format %q: want csv or json (JSON lines)", *format)
	}
	who, err := requireAuthor("banks import", *author)
	if err != nil {
		return err
	}
	if !moderation.ValidBankName(*bank) {
		// Checked before a large file is read, not when it is stored.
		return fmt.Errorf("banks import: --bank %q is no bank name (1 to 64 of a-z, 0-9, _, . and -, starting with a letter or digit)", *bank)
	}
	sev, err := moderation.ParseSeverity(*severity)
	if err != nil {
		return fmt.Errorf("banks import: --severity %q: want low, medium, high or critical", *severity)
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	bar := newProgress(env.Stderr, "reading "+path, "bytes", size)
	file, err := parseHashList(f, *format, bar.Set)
	bar.Done()
	if le := (*hashbank.LineError)(nil); errors.As(err, &le) {
		le.File = path
		fmt.Fprintln(env.Stderr, le)
		return ErrFailed
	}
	if ll := (*longLineError)(nil); errors.As(err, &ll) {
		fmt.Fprintf(env.Stderr, "%s:%d: longer than %d bytes\n", path, ll.line, maxHashListLine)
		return ErrFailed
	}
	if err != nil {
		return fmt.Errorf("banks import: %s: %w", path, err)
	}
	good, bad := file.good, file.bad
	if len(good) == 0 && len(bad) == 0 {
		// An empty file is a wrong path or a failed download, not a list.
		return fmt.Errorf("banks import: %s has no entries (empty, or only comments and a header): nothing imported", path)
	}
	// Flags given explicitly win over a bank file's settings.
	explicit := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { explicit[fl.Name] = true })

	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewBankStore(pool, nil)
	// One statement stores the bank; a terminal is told why it waits.
	if len(good) > 0 && (len(bad) == 0 || *skip) {
		bar.Status(fmt.Sprintf("storing %d entries in bank %s…", len(good), *bank))
	}
	var res importResult
	// One transaction: the bank (locked against a concurrent import), its
	// audit event and the workers' notification commit together.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		b, err := store.BankTx(ctx, tx, *bank)
		res = importResult{isNew: errors.Is(err, moderation.ErrNotFound)}
		switch {
		case res.isNew:
			b = hashbank.Bank{Name: *bank, Category: *category, Severity: sev}
			if file.header != nil {
				b = newBankFromFile(*file.header, *bank, *category, sev, explicit)
			}
			if len(good) > 0 {
				b.HashType = good[0].HashType
			}
		case err != nil:
			return err
		}
		if file.header != nil && !res.isNew {
			good = inherit(good, *file.header, b)
		}
		res.bad = mergeEntries(&b, good, bad, &res)
		sort.Slice(res.bad, func(i, j int) bool { return res.bad[i].Line < res.bad[j].Line })
		if (len(res.bad) > 0 && !*skip) || len(res.entries) == 0 {
			return errNothingToImport
		}
		b.Entries = append(b.Entries, res.entries...)
		res.bank = b
		if err := store.PutBankTx(ctx, tx, b); err != nil {
			return err
		}
		details := map[string]any{"file": path, "format": file.format, "imported": len(res.entries), "already_present": res.dup,
			"skipped_invalid": len(res.bad), "entries": len(b.Entries), "new_bank": res.isNew, "labels": res.labels}
		if _, err := postgres.AppendAudit(ctx, tx, time.Now(), who, moderation.AuditBankImport, "bank:"+b.Name, details); err != nil {
			return fmt.Errorf("auditing the import: %w", err)
		}
		return nil
	})
	for _, e := range res.bad {
		e.File = path
		fmt.Fprintln(env.Stderr, e)
	}
	// No line of the file was usable (not even one already present): a
	// failure also with --skip-invalid, which skips bad lines of a list,
	// not a wrong file.
	noneValid := errors.Is(err, errNothingToImport) && len(res.bad) > 0 && res.dup == 0
	if noneValid {
		if hint := formatHint(f, *format); hint != "" {
			fmt.Fprintf(env.Stderr, "%s: %s\n", path, hint)
		}
	}
	switch {
	case noneValid && *skip:
		fmt.Fprintf(env.Stderr, "%d malformed line(s) and no valid one; nothing imported\n", len(res.bad))
		return ErrFailed
	case errors.Is(err, errNothingToImport) && len(res.bad) > 0 && !*skip:
		fmt.Fprintf(env.Stderr, "%d malformed line(s); nothing imported (--skip-invalid imports the others)\n", len(res.bad))
		return ErrFailed
	case errors.Is(err, errNothingToImport):
		fmt.Fprintf(env.Stdout, "nothing to import into %s (%d already present)\n", *bank, res.dup)
		return nil
	case err != nil:
		return fmt.Errorf("banks import: %w", err)
	}
	b := res.bank
	fmt.Fprintf(env.Stdout, "imported %d %s hashes into bank %s (%d already present, %d invalid skipped; %d entries now)\n",
		len(res.entries), b.HashType, b.Name, res.dup, len(res.bad), len(b.Entries))
	return nil
}

var errNothingToImport = errors.New("nothing to import")

// formatHint says why no line of an import file read, when its start
// tells: not text (an image, an archive), or the other --format. Every
// line's own error ("bare \" in non-quoted-field" for JSON read as CSV)
// does not say it.
func formatHint(r io.ReaderAt, format string) string {
	buf := make([]byte, 4096)
	n, _ := r.ReadAt(buf, 0)
	head := bytes.TrimPrefix(buf[:n], []byte("\xef\xbb\xbf"))
	for i := 0; n == len(buf) && i < utf8.UTFMax-1 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1] // the last rune may be cut
	}
	if bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(head) {
		return "does not look like text (an image or an archive?): want a CSV or JSON-lines hash list"
	}
	first := ""
	for _, l := range strings.Split(string(head), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			first = l
			break
		}
	}
	switch {
	case first == "":
		return ""
	case format == "csv" && strings.HasPrefix(first, "{"):
		return "its lines are JSON objects: use --format json"
	case format == "json" && !strings.HasPrefix(first, "{"):
		return "its lines are not JSON objects: use --format csv for CSV"
	}
	return ""
}

type importResult struct {
	isNew   bool
	bank    hashbank.Bank
	entries []hashbank.Entry // new entries
	bad     []*hashbank.LineError
	dup     int
	labels  map[string]int
}

// mergeEntries turns the good lines into new entries of b, with their
// labels: the category (the line's category, else its first label that is
// a built-in category, else the bank's), the source and the source's id.
// Lines of another hash type than the bank's, and repeated ids, are
// malformed for this bank and returned with bad.
func mergeEntries(b *hashbank.Bank, good []sharedHash, bad []*hashbank.LineError, res *importResult) []*hashbank.LineError {
	existing := map[string]bool{}
	for _, e := range b.Entries {
		existing[e.ID] = true
	}
	seen := map[string]int{}
	res.labels = map[string]int{}
	for _, h := range good {
		if h.HashType != b.HashType {
			bad = append(bad, badLine(h.Line, fmt.Sprintf("hash type %s, but bank %s holds %s hashes", h.HashType, b.Name, b.HashType)))
			continue
		}
		id := h.ID
		if id == "" {
			id = h.Hash
		}
		if l, ok := seen[id]; ok {
			bad = append(bad, badLine(h.Line, fmt.Sprintf("entry %s repeats line %d", id, l)))
			continue
		}
		seen[id] = h.Line
		if existing[id] {
			res.dup++
			continue
		}
		for _, l := range h.Labels {
			res.labels[l]++
		}
		res.entries = append(res.entries, hashbank.Entry{ID: id, Hash: h.Hash, Category: entryCategory(h), Source: h.Source, ExternalID: h.ExternalID})
	}
	return bad
}

// newBankFromFile is the bank a bank file creates: named name (the
// file's "bank" is ignored), with the file's settings, except for the
// category and severity given explicitly as flags, and the flags' values
// for those the file leaves out.
func newBankFromFile(h hashbank.Header, name, category string, sev moderation.Severity, explicit map[string]bool) hashbank.Bank {
	var b hashbank.Bank
	_ = h.Apply(&b) // checked when the file was read
	b.Name = name
	if b.Category == "" || explicit["category"] {
		b.Category = category
	}
	if b.Severity == 0 || explicit["severity"] {
		b.Severity = sev
	}
	return b
}

// inherit gives the entries of a bank file imported into an existing
// bank b the file's category and source where they leave them to the
// file's bank and b's differ, so that they keep the labels the file gave
// them.
func inherit(good []sharedHash, h hashbank.Header, b hashbank.Bank) []sharedHash {
	cat := strings.ToLower(strings.TrimSpace(h.Category))
	for i := range good {
		if good[i].Category == "" && cat != "" && cat != b.Category {
			good[i].Category = cat
		}
		if good[i].Source == "" && h.Source != "" && h.Source != b.Source {
			good[i].Source = h.Source
		}
	}
	return good
}

// entryCategory is a line's category: its category field, else its first
// label naming a built-in category ("" = the bank's).
func entryCategory(h sharedHash) string {
	if h.Category != "" {
		return h.Category
	}
	for _, l := range h.Labels {
		if slices.Contains(ruleset.BuiltinCategories, strings.ToLower(l)) {
			return strings.ToLower(l)
		}
	}
	return ""
}

func runBanksQuarantined(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "banks quarantined", "Usage: vigilctl banks quarantined [--confirmed] [--json]\n\n"+
		"Lists the hash-bank entries that are out of service: the workers' bad-entry guard\n"+
		"quarantined them because they matched an abnormal share of media (a banked meme,\n"+
		"logo or blank frame), or a person did. Check the entry, then remove it from its\n"+
		"bank or release it with 'vigilctl banks confirm BANK ENTRY'.")
	dbURL := databaseFlag(fs)
	confirmed := fs.Bool("confirmed", false, "also list the entries a rule engineer confirmed")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("banks quarantined: no arguments expected")
	}
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	list, err := postgres.NewBankStore(pool, nil).QuarantinedEntries(ctx, *confirmed)
	if err != nil {
		return err
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		for _, st := range list {
			err := enc.Encode(map[string]string{"bank": st.Bank, "entry": st.Entry.ID, "hash": st.Entry.Hash,
				"category": st.Entry.Category, "source": st.Entry.Source, "external_id": st.Entry.ExternalID,
				"quarantined_at": ts(st.QuarantinedAt), "confirmed_at": ts(st.ConfirmedAt)})
			if err != nil {
				return err
			}
		}
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "no quarantined entries")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BANK\tENTRY\tSTATE\tSINCE\tSOURCE\tEXTERNAL ID\tHASH")
	for _, st := range list {
		state, since := "quarantined", st.QuarantinedAt
		if since.IsZero() {
			state, since = "confirmed", st.ConfirmedAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Bank, st.Entry.ID, state, ts(since), st.Entry.Source, st.Entry.ExternalID, st.Entry.Hash)
	}
	return tw.Flush()
}

func runBanksConfirm(ctx context.Context, env Env, args []string) error {
	return runEntryAction(ctx, env, args, entryAction{
		name: "confirm",
		usage: "Usage: vigilctl banks confirm [-m REASON] BANK ENTRY\n\n" +
			"Confirms that a hash-bank entry is right: it leaves quarantine and matches again on\n" +
			"every worker within seconds, and the bad-entry guard no longer quarantines it.\n" +
			"Confirming an entry that is not quarantined exempts it in advance. Audited.",
		reasonHelp: "why the entry is right (recorded in the audit log)",
		do:         (*postgres.BankStore).Confirm,
		was:        "confirmed %s/%s: released from quarantine on every worker\n",
		wasNot:     "confirmed %s/%s (it was not quarantined): the guard will not quarantine it\n",
	})
}

func runBanksQuarantine(ctx context.Context, env Env, args []string) error {
	return runEntryAction(ctx, env, args, entryAction{
		name: "quarantine",
		usage: "Usage: vigilctl banks quarantine -m REASON BANK ENTRY\n\n" +
			"Takes a wrong hash-bank entry (one that flags harmless posts: see vigilctl banks\n" +
			"precision) out of service: it stops matching on every worker within seconds and\n" +
			"stays out, whatever the bad-entry guard counts, until vigilctl banks confirm.\n" +
			"Import only adds entries, so this is how one leaves a stored bank. Audited.",
		reasonHelp:  "why the entry is wrong (required; recorded in the audit log)",
		needsReason: true,
		do:          (*postgres.BankStore).Quarantine,
		was:         "%s/%s was quarantined already; now by hand: the guard's counts no longer release it\n",
		wasNot:      "quarantined %s/%s: out of service on every worker until vigilctl banks confirm\n",
	})
}

// entryAction is a person's decision about one bank entry (banks confirm,
// banks quarantine): its command, the store's method, and what to print
// when the entry was quarantined before or not.
type entryAction struct {
	name, usage, reasonHelp string
	needsReason             bool
	do                      func(s *postgres.BankStore, ctx context.Context, actor, bank, entry, reason string) (wasQuarantined bool, err error)
	was, wasNot             string // formats of bank and entry
}

func runEntryAction(ctx context.Context, env Env, args []string, a entryAction) error {
	fs := newFlags(env, "banks "+a.name, a.usage)
	dbURL := databaseFlag(fs)
	author := authorFlag(env, fs)
	reason := fs.String("m", "", a.reasonHelp)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("banks %s: want BANK ENTRY", a.name)
	}
	if a.needsReason && strings.TrimSpace(*reason) == "" {
		return fmt.Errorf("banks %s: -m REASON is required", a.name)
	}
	who, err := requireAuthor("banks "+a.name, *author)
	if err != nil {
		return err
	}
	bank, entry := fs.Arg(0), fs.Arg(1)
	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	was, err := a.do(postgres.NewBankStore(pool, nil), ctx, who, bank, entry, *reason)
	if errors.Is(err, moderation.ErrNotFound) {
		return fmt.Errorf("banks %s: bank %s has no entry %s", a.name, bank, entry)
	}
	if err != nil {
		return err
	}
	if was {
		fmt.Fprintf(env.Stdout, a.was, bank, entry)
	} else {
		fmt.Fprintf(env.Stdout, a.wasNot, bank, entry)
	}
	return nil
}
