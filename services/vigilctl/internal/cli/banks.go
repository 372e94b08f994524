package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/postgres"
)

// banksCommand manages the hash banks stored in Postgres.
func banksCommand() Command {
	subs := []Command{
		{Name: "import", Summary: "import a shared hash list (CSV or JSON lines) into a bank", Run: runBanksImport},
	}
	return Command{
		Name:    "banks",
		Summary: "import hash lists into hash banks",
		Run: func(ctx context.Context, env Env, args []string) error {
			return subcommand(ctx, env, "banks", args, subs)
		},
	}
}

// sharedHash is one line of a shared hash list.
type sharedHash struct {
	Line     int
	HashType string
	Hash     string
	Labels   []string
	Source   string
	ID       string
}

type lineError struct {
	Line int
	Msg  string
}

// hashListColumns are the CSV columns, in order when there is no header.
var hashListColumns = []string{"hash_type", "hash", "labels", "source", "id"}

// parseHashList reads a shared hash list. CSV: columns hash_type, hash and
// optionally labels (separated by ;), source and id, in that order or as
// named by a header row; # starts a comment. JSON lines: one object per
// line {"hash_type", "hash", "labels": [...], "source", "id"}. Every
// malformed line is reported with its number; good lines are returned.
func parseHashList(r io.Reader, format string, onBytes func(int64)) ([]sharedHash, []lineError, error) {
	var good []sharedHash
	var bad []lineError
	var read int64
	check := func(h sharedHash) {
		h.HashType = strings.ToLower(strings.TrimSpace(h.HashType))
		h.Hash = strings.ToLower(strings.TrimSpace(h.Hash))
		if err := checkSharedHash(h); err != nil {
			bad = append(bad, lineError{h.Line, err.Error()})
			return
		}
		good = append(good, h)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	switch format {
	case "json":
		for n := 1; ; n++ {
			raw, err := br.ReadBytes('\n')
			read += int64(len(raw))
			onBytes(read)
			if t := bytes.TrimSpace(raw); len(t) > 0 {
				var e struct {
					HashType string   `json:"hash_type"`
					Hash     string   `json:"hash"`
					Labels   []string `json:"labels"`
					Source   string   `json:"source"`
					ID       string   `json:"id"`
				}
				dec := json.NewDecoder(bytes.NewReader(t))
				dec.DisallowUnknownFields()
				if derr := dec.Decode(&e); derr != nil {
					bad = append(bad, lineError{n, derr.Error()})
				} else {
					check(sharedHash{Line: n, HashType: e.HashType, Hash: e.Hash, Labels: e.Labels, Source: e.Source, ID: e.ID})
				}
			}
			if errors.Is(err, io.EOF) {
				return good, bad, nil
			}
			if err != nil {
				return nil, nil, err
			}
		}
	case "csv":
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
				return good, bad, nil
			}
			line, _ := cr.FieldPos(0)
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					bad = append(bad, lineError{pe.Line, pe.Err.Error()})
					continue
				}
				return nil, nil, err
			}
			if first {
				first = false
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
						return nil, nil, fmt.Errorf("line %d: header has no hash column", line)
					}
					if _, ok := cols["hash_type"]; !ok {
						return nil, nil, fmt.Errorf("line %d: header has no hash_type column", line)
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
			if len(rec) < 2 {
				bad = append(bad, lineError{line, fmt.Sprintf("%d field(s), want at least hash_type and hash", len(rec))})
				continue
			}
			var labels []string
			for _, l := range strings.Split(get("labels"), ";") {
				if l = strings.TrimSpace(l); l != "" {
					labels = append(labels, l)
				}
			}
			check(sharedHash{Line: line, HashType: get("hash_type"), Hash: get("hash"), Labels: labels, Source: get("source"), ID: get("id")})
		}
	}
	return nil, nil, fmt.Errorf("--format %q: want csv or json", format)
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
	var err error
	if h.HashType == imagehash.TypePDQ {
		_, err = imagehash.ParseHash256(h.Hash)
	} else {
		_, err = imagehash.ParseHash64(h.Hash)
	}
	if err != nil {
		return fmt.Errorf("%s hash %q: %v", h.HashType, h.Hash, err)
	}
	return nil
}

func runBanksImport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "banks import", "Usage: vigilctl banks import --format csv|json --bank NAME [--skip-invalid] FILE\n\n"+
		"Imports a hash list as shared between platforms into a bank: each line has a hash type\n"+
		"(pdq, phash, dhash, ahash), the hash in hex, and optionally labels, a source and an id.\n"+
		"CSV: hash_type,hash[,labels[,source[,id]]] (labels separated by ;), or columns named by a\n"+
		"header row. JSON lines: {\"hash_type\":…,\"hash\":…,\"labels\":[…],\"source\":…,\"id\":…}.\n"+
		"Malformed lines are reported with their line numbers and nothing is imported, unless\n"+
		"--skip-invalid is given. Entries are added to an existing bank (same hash type); a new\n"+
		"bank is created with --category and --severity. The import is audited.")
	dbURL := databaseFlag(fs)
	format := fs.String("format", "", "csv or json (JSON lines)")
	bank := fs.String("bank", "", "bank to import into")
	skip := fs.Bool("skip-invalid", false, "import the valid lines of a file that has malformed ones")
	category := fs.String("category", hashbank.DefaultCategory, "category of a new bank")
	severity := fs.String("severity", hashbank.DefaultSeverity.String(), "severity of a new bank")
	author := authorFlag(env, fs)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *bank == "" || (*format != "csv" && *format != "json") {
		return fmt.Errorf("banks import: want --format csv|json --bank NAME FILE")
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
	good, bad, err := parseHashList(f, *format, bar.Set)
	bar.Done()
	if err != nil {
		return fmt.Errorf("banks import: %s: %w", path, err)
	}

	pool, err := postgres.Connect(ctx, *dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := postgres.NewBankStore(pool, nil)
	b, err := store.Bank(ctx, *bank)
	isNew := errors.Is(err, moderation.ErrNotFound)
	switch {
	case isNew:
		b = hashbank.Bank{Name: *bank, Category: *category, Severity: sev}
		if len(good) > 0 {
			b.HashType = good[0].HashType
		}
	case err != nil:
		return err
	}
	// Lines of another hash type than the bank's, and repeated ids, are
	// malformed for this bank.
	existing := map[string]bool{}
	for _, e := range b.Entries {
		existing[e.ID] = true
	}
	seen := map[string]int{}
	var entries []hashbank.Entry
	labels := map[string]int{}
	dup := 0
	for _, h := range good {
		if h.HashType != b.HashType {
			bad = append(bad, lineError{h.Line, fmt.Sprintf("hash type %s, but bank %s holds %s hashes", h.HashType, b.Name, b.HashType)})
			continue
		}
		id := h.ID
		if id == "" {
			id = h.Hash
		}
		if l, ok := seen[id]; ok {
			bad = append(bad, lineError{h.Line, fmt.Sprintf("entry %s repeats line %d", id, l)})
			continue
		}
		seen[id] = h.Line
		if existing[id] {
			dup++
			continue
		}
		for _, l := range h.Labels {
			labels[l]++
		}
		entries = append(entries, hashbank.Entry{ID: id, Hash: h.Hash, Source: h.Source, ExternalID: h.ID})
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].Line < bad[j].Line })
	for _, e := range bad {
		fmt.Fprintf(env.Stderr, "%s:%d: %s\n", path, e.Line, e.Msg)
	}
	if len(bad) > 0 && !*skip {
		fmt.Fprintf(env.Stderr, "%d malformed line(s); nothing imported (--skip-invalid imports the others)\n", len(bad))
		return ErrFailed
	}
	if len(entries) == 0 {
		fmt.Fprintf(env.Stdout, "nothing to import into %s (%d already present)\n", b.Name, dup)
		return nil
	}
	b.Entries = append(b.Entries, entries...)
	if err := store.PutBank(ctx, b); err != nil {
		return err
	}
	details := map[string]any{"file": path, "format": *format, "imported": len(entries), "already_present": dup,
		"skipped_invalid": len(bad), "entries": len(b.Entries), "new_bank": isNew, "labels": labels}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := postgres.AppendAudit(ctx, tx, time.Now(), *author, moderation.AuditBankImport, "bank:"+b.Name, details)
		return err
	})
	if err != nil {
		return fmt.Errorf("auditing the import: %w", err)
	}
	fmt.Fprintf(env.Stdout, "imported %d %s hashes into bank %s (%d already present, %d invalid skipped; %d entries now)\n",
		len(entries), b.HashType, b.Name, dup, len(bad), len(b.Entries))
	return nil
}
