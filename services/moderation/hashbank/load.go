package hashbank

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
)

// File formats (documented for rule engineers in docs/hashing.md).
//
// CSV (.csv): optional leading "# key: value" lines set bank fields (bank,
// type, threshold, min_quality, dihedral, category, severity, source), then
// a header row naming the columns, of which id and hash are required and
// category, source, external_id optional, then one row per entry.
//
// JSON lines (.jsonl): a first line {"bank": …, "type": …, …} with the
// same fields (required: it names the type), then one object per entry
// {"id", "hash", "category", "source", "external_id"}.
//
// In both, the bank name defaults to the file name without extension.

// Header is the bank-level part of a bank file: its "# key: value" lines
// (CSV) or its first line (JSON lines). vigilctl banks import reads it too.
type Header struct {
	Bank       string `json:"bank"`
	Type       string `json:"type"`
	Threshold  int    `json:"threshold,omitempty"`
	MinQuality int    `json:"min_quality,omitempty"`
	Dihedral   *bool  `json:"dihedral,omitempty"`
	Category   string `json:"category,omitempty"`
	Severity   string `json:"severity,omitempty"`
	Source     string `json:"source,omitempty"`
}

type jsonEntry struct {
	ID         string `json:"id"`
	Hash       string `json:"hash"`
	Category   string `json:"category,omitempty"`
	Source     string `json:"source,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
}

// Apply sets b's bank-level fields from h (the name only when h has one).
func (h Header) Apply(b *Bank) error {
	if h.Bank != "" {
		b.Name = h.Bank
	}
	b.HashType = strings.ToLower(h.Type)
	b.Threshold = h.Threshold
	b.MinQuality = h.MinQuality
	b.Dihedral = h.Dihedral
	b.Category = h.Category
	b.Source = h.Source
	if h.Severity != "" {
		sev, err := moderation.ParseSeverity(h.Severity)
		if err != nil {
			return fmt.Errorf("severity %q: %w", h.Severity, err)
		}
		b.Severity = sev
	}
	return nil
}

// SetComment sets the field of one "# key: value" line of a CSV bank file
// and reports whether it named one; any other comment changes nothing.
// Errors (a bad number or boolean) wrap moderation.ErrInvalid.
func (h *Header) SetComment(line string) (bool, error) {
	k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#")), ":")
	if !ok {
		return false, nil // a plain comment
	}
	v = strings.TrimSpace(v)
	var err error
	switch strings.TrimSpace(strings.ToLower(k)) {
	case "bank":
		h.Bank = v
	case "type":
		h.Type = v
	case "threshold":
		h.Threshold, err = strconv.Atoi(v)
	case "min_quality":
		h.MinQuality, err = strconv.Atoi(v)
	case "dihedral":
		var d bool
		d, err = strconv.ParseBool(v)
		h.Dihedral = &d
	case "category":
		h.Category = v
	case "severity":
		h.Severity = v
	case "source":
		h.Source = v
	default:
		return false, nil
	}
	if err != nil {
		// strconv's own text ("strconv.Atoi: parsing …") is Go's, not the
		// file's; say what the value should be.
		want := "a whole number"
		if strings.EqualFold(strings.TrimSpace(k), "dihedral") {
			want = "true or false"
		}
		return true, fmt.Errorf("header %q: %q is not %s: %w", strings.TrimSpace(k), v, want, moderation.ErrInvalid)
	}
	return true, nil
}

// ParseCSV reads a bank in the CSV format. name is used when the file has
// no "# bank:" line. The result is validated; errors wrap
// moderation.ErrInvalid.
func ParseCSV(r io.Reader, name string) (Bank, error) {
	b := Bank{Name: name}
	br := bufio.NewReader(r)
	skipBOM(br)
	var h Header
	h.Bank = name
	comments := 0 // lines read before the CSV reader starts
	for {
		peek, err := br.Peek(1)
		if err != nil || peek[0] != '#' {
			break
		}
		comments++
		line, err := br.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return b, fmt.Errorf("reading bank %s: %w", name, err)
		}
		if _, err := h.SetComment(line); err != nil {
			return b, fmt.Errorf("bank %s: %w", name, err)
		}
	}
	if err := h.Apply(&b); err != nil {
		return b, fmt.Errorf("bank %s: %w: %w", name, err, moderation.ErrInvalid)
	}
	cr := csv.NewReader(br)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cols, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return b.withDefaults()
	}
	if err != nil {
		return b, fmt.Errorf("bank %s: reading header row: %w: %w", name, err, moderation.ErrInvalid)
	}
	col := map[string]int{}
	for i, c := range cols {
		col[strings.ToLower(strings.TrimSpace(c))] = i
	}
	if _, ok := col["id"]; !ok {
		return b, fmt.Errorf("bank %s: header row lacks an id column: %w", name, moderation.ErrInvalid)
	}
	if _, ok := col["hash"]; !ok {
		return b, fmt.Errorf("bank %s: header row lacks a hash column: %w", name, moderation.ErrInvalid)
	}
	get := func(rec []string, k string) string {
		if i, ok := col[k]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return b, fmt.Errorf("bank %s: %w: %w", name, err, moderation.ErrInvalid)
		}
		e := Entry{
			ID: get(rec, "id"), Hash: strings.ToLower(get(rec, "hash")),
			Category: get(rec, "category"), Source: get(rec, "source"), ExternalID: get(rec, "external_id"),
		}
		if err := CheckEntryText(e); err != nil {
			line, _ := cr.FieldPos(0)
			return b, fmt.Errorf("bank %s %w", name, &LineError{Line: line + comments, Err: fmt.Errorf("%w: %w", err, moderation.ErrInvalid)})
		}
		b.Entries = append(b.Entries, e)
	}
	return b.withDefaults()
}

// utf8BOM starts files saved by some editors and spreadsheets; it is not
// part of the first line's text.
var utf8BOM = []byte("\xef\xbb\xbf")

// skipBOM drops a UTF-8 byte order mark at the start of br: it would make
// the first header field "\ufeffid", and the header lack an id column.
func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
}

// LineError is a problem on one line of a bank file (or of a file
// vigilctl banks import reads); Err says what, and wraps
// moderation.ErrInvalid when this package's parsers return it. LoadFile
// sets File, so that it reads FILE:LINE: message, the form editors jump
// to.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// HeaderHint says what to do about a JSON-lines bank file whose first
// line is not its header line but got ("an entry"): the header line
// expected, an example naming bank, the hash types. Shared by the bank
// loader and vigilctl banks import, which reads bank files too.
func HeaderHint(got, bank string) string {
	return fmt.Sprintf(`expected the bank header line {"bank": ..., "type": ...} first; got %s; `+
		`add a first line such as {"bank":%q,"type":"pdq"} (type one of %v; docs/hashing.md)`, got, bank, imagehash.Types())
}

// ParseJSONL reads a bank in the JSON-lines format; see ParseCSV. The
// first line must be the header: it alone names the hash type. Errors
// about one line are *LineError.
func ParseJSONL(r io.Reader, name string) (Bank, error) {
	b := Bank{Name: name}
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("bank %s %w", name, &LineError{Line: line, Err: fmt.Errorf(format+": %w", append(args, moderation.ErrInvalid)...)})
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if first {
			first = false
			raw = bytes.TrimPrefix(raw, utf8BOM)
			var probe map[string]json.RawMessage
			if err := json.Unmarshal(raw, &probe); err != nil {
				return b, bad(line, "%w", err)
			}
			_, hasType := probe["type"]
			_, hasBank := probe["bank"]
			if !hasType && !hasBank {
				// Without the header the entries would fail one by one on
				// fields they rightly have, or the bank on its missing type.
				got := `a line with neither "bank" nor "type"`
				_, hasID := probe["id"]
				_, hasHash := probe["hash"]
				_, hasHashType := probe["hash_type"]
				switch {
				case hasHashType:
					got = "a hash-list line (hash_type); hash lists are read by vigilctl banks import"
				case hasID || hasHash:
					got = "an entry"
				}
				return b, bad(line, "%s", HeaderHint(got, name))
			}
			var h Header
			h.Bank = name
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&h); err != nil {
				return b, bad(line, "bank header: %w", err)
			}
			if h.Type == "" {
				return b, bad(line, `bank header has no "type" (one of %v)`, imagehash.Types())
			}
			if err := h.Apply(&b); err != nil {
				return b, bad(line, "bank header: %w", err)
			}
			continue
		}
		var e jsonEntry
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return b, bad(line, "%w", err)
		}
		entry := Entry{ID: e.ID, Hash: strings.ToLower(e.Hash), Category: e.Category, Source: e.Source, ExternalID: e.ExternalID}
		if err := CheckEntryText(entry); err != nil {
			return b, bad(line, "%w", err)
		}
		b.Entries = append(b.Entries, entry)
	}
	if err := sc.Err(); err != nil {
		return b, fmt.Errorf("reading bank %s: %w", name, err)
	}
	if first {
		return b, fmt.Errorf(`bank %s: empty; a JSON-lines bank starts with its header line {"bank": ..., "type": ...}: %w`, name, moderation.ErrInvalid)
	}
	return b.withDefaults()
}

// LoadDir reads every *.csv and *.jsonl file directly in dir (not
// subdirectories) as one bank each, sorted by file name. Errors name the
// file and wrap moderation.ErrInvalid for bad content.
func LoadDir(dir string) ([]Bank, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("loading banks: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var banks []Bank
	for _, n := range names {
		ext := filepath.Ext(n)
		if ext != ".csv" && ext != ".jsonl" {
			continue
		}
		b, err := LoadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		banks = append(banks, b)
	}
	return banks, nil
}

// LoadFile reads one bank file, choosing the format by extension.
func LoadFile(path string) (Bank, error) {
	f, err := os.Open(path)
	if err != nil {
		return Bank{}, fmt.Errorf("loading bank: %w", err)
	}
	defer f.Close()
	ext := filepath.Ext(path)
	name := strings.TrimSuffix(filepath.Base(path), ext)
	var b Bank
	switch ext {
	case ".csv":
		b, err = ParseCSV(f, name)
	case ".jsonl":
		b, err = ParseJSONL(f, name)
	default:
		return Bank{}, fmt.Errorf("loading bank %s: unknown extension %q: %w", path, ext, moderation.ErrInvalid)
	}
	if le := (*LineError)(nil); errors.As(err, &le) {
		return Bank{}, &LineError{File: path, Line: le.Line, Err: le.Err}
	}
	if err != nil {
		return Bank{}, fmt.Errorf("loading %s: %w", path, err)
	}
	return b, nil
}

// WriteCSV writes a bank in the CSV format ParseCSV reads.
func WriteCSV(w io.Writer, b Bank) error {
	b, err := b.withDefaults()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "# bank: %s\n# type: %s\n# threshold: %d\n", b.Name, b.HashType, b.Threshold)
	if b.HashType == "pdq" {
		fmt.Fprintf(w, "# min_quality: %d\n# dihedral: %t\n", b.MinQuality, *b.Dihedral)
	}
	fmt.Fprintf(w, "# category: %s\n# severity: %s\n", b.Category, b.Severity)
	if b.Source != "" {
		fmt.Fprintf(w, "# source: %s\n", b.Source)
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "hash", "category", "source", "external_id"})
	for _, e := range b.Entries {
		cw.Write([]string{e.ID, e.Hash, e.Category, e.Source, e.ExternalID})
	}
	cw.Flush()
	return cw.Error()
}
