package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/engine"
	"github.com/vigil-moderation/vigil/services/moderation/hashbank"
	"github.com/vigil-moderation/vigil/services/moderation/imagehash"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
	"github.com/vigil-moderation/vigil/services/moderation/rulestore"
)

// rulesCommand is the rule engineer's workflow: validate and test rules
// locally, backtest them on past posts, publish them to the workers, and
// read per-rule precision from moderators' decisions.
func rulesCommand() Command {
	subs := []Command{
		{Name: "validate", Summary: "check rule and hash-bank files: file:line:col: message per problem", Run: runRulesValidate},
		{Name: "test", Summary: "match posts (JSON lines) against local rules, one JSON line per post", Run: runRulesTest},
		{Name: "backtest", Summary: "compare a candidate rule set with the published one over past posts", Run: runRulesBacktest},
		{Name: "publish", Summary: "validate and publish a rules directory as a new version", Run: runRulesPublish},
		{Name: "history", Summary: "list published rule versions", Run: runRulesHistory},
		{Name: "rollback", Summary: "republish an old version's rules as a new version", Run: runRulesRollback},
		{Name: "precision", Summary: "per-rule precision from moderators' decisions", Run: runRulesPrecision},
	}
	return Command{
		Name:    "rules",
		Summary: "validate, test, backtest, publish, history, rollback, precision",
		Run: func(ctx context.Context, env Env, args []string) error {
			return subcommand(ctx, env, "rules", args, subs)
		},
	}
}

// problem is one validation finding, printed as file:line:col: message.
type problem struct {
	File      string
	Line, Col int
	Msg       string
}

func (p problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
}

var posRE = regexp.MustCompile(`^(.+?):(\d+):(\d+): ?(.*)$`)

// splitErrors lists the problems inside a compile error. ruleset reports a
// list of positioned errors; each becomes one problem. Anything without a
// position is attributed to file (line 1, column 1) when given.
func splitErrors(err error, file string) []problem {
	var parts []string
	var multi interface{ Unwrap() []error }
	if errors.As(err, &multi) && len(multi.Unwrap()) > 1 {
		for _, e := range multi.Unwrap() {
			parts = append(parts, strings.Split(e.Error(), "\n")...)
		}
	} else {
		parts = strings.Split(err.Error(), "\n")
	}
	var out []problem
	for _, s := range parts {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if m := posRE.FindStringSubmatch(s); m != nil {
			line, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			out = append(out, problem{File: m[1], Line: line, Col: col, Msg: m[4]})
			continue
		}
		p := problem{File: file, Line: 1, Col: 1, Msg: s}
		if file == "" {
			p.File = "?"
		}
		// "name: yaml: line 3: …" and similar carry a line without a column.
		if f, rest, ok := strings.Cut(s, ": "); ok && file == "" && !strings.Contains(f, " ") {
			p.File, p.Msg = f, rest
		}
		if m := lineRE.FindStringSubmatch(p.Msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
		}
		out = append(out, p)
	}
	return out
}

var (
	lineRE  = regexp.MustCompile(`\bline (\d+)\b`)
	entryRE = regexp.MustCompile(`\bentry (\S+): `)
	// repeatedRE is hashbank's repeated entry id: placed at the repeat.
	repeatedRE = regexp.MustCompile(`\bentry id ("(?:[^"\\]|\\.)*") repeated`)
)

// entryLine finds the line of a bank file that defines entry id for the
// nth time (1 if none does): bank errors name the entry, not the line.
func entryLine(path, id string, nth int) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 1
	}
	q, _ := json.Marshal(id)
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, id+",") || strings.Contains(l, `"id":`+string(q)) || strings.Contains(l, `"id": `+string(q)) {
			if nth--; nth == 0 {
				return i + 1
			}
		}
	}
	return 1
}

// validateDir checks every rule file under dir (or the rule file dir) and every hash-bank file in
// dir/banks (or banksDir), returning the compiled rules (nil if invalid),
// the bank set (nil if none or invalid) and the problems.
func validateDir(dir, banksDir string) (*ruleset.Set, *hashbank.Set, []problem, error) {
	files, err := rulestore.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	var probs []problem
	if len(files) == 0 {
		probs = append(probs, problem{File: dir, Line: 1, Col: 1, Msg: "no rule files (*.yaml, *.yml)"})
	}
	prefix := dir
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		prefix = filepath.Dir(dir) // one rule file, named by its base name
	}
	probs = append(probs, nameProblems(files, prefix)...)
	set, err := rulestore.Compile(files, 0, prefix)
	if err != nil {
		probs = append(probs, splitErrors(err, "")...)
	}
	if len(probs) > 0 {
		set = nil
	}
	banks, bprobs := loadBanks(banksDir)
	probs = append(probs, bprobs...)
	return set, banks, dedupe(probs), nil
}

// nameProblems reports rule file names a version cannot hold: they are
// stored as text, and Postgres refused invalid UTF-8 only at publish.
func nameProblems(files []moderation.RuleFile, prefix string) []problem {
	var out []problem
	for _, f := range files {
		if !utf8.ValidString(f.Name) {
			out = append(out, problem{File: filepath.Join(prefix, filepath.FromSlash(f.Name)), Line: 1, Col: 1,
				Msg: fmt.Sprintf("file name %q is not valid UTF-8: rename the file", f.Name)})
		}
	}
	return out
}

// dedupe drops repeats of a problem: a YAML alias used n times reports
// the same error at its anchor n times.
func dedupe(probs []problem) []problem {
	seen := map[problem]bool{}
	out := probs[:0]
	for _, p := range probs {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// loadBanks reads every bank file of dir ("" or missing: none).
func loadBanks(dir string) (*hashbank.Set, []problem) {
	if dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []problem{{File: dir, Line: 1, Col: 1, Msg: err.Error()}}
	}
	var banks []hashbank.Bank
	var probs []problem
	defined := map[string]string{} // bank name → file
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".csv" && ext != ".jsonl") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := hashbank.LoadFile(path)
		if err != nil {
			// The sentinel's text ("invalid input") says nothing more here.
			msg := strings.TrimSuffix(strings.TrimPrefix(err.Error(), "loading "+path+": "), ": "+moderation.ErrInvalid.Error())
			p := problem{File: path, Line: 1, Col: 1, Msg: msg}
			if le := (*hashbank.LineError)(nil); errors.As(err, &le) {
				p.Line, p.Msg = le.Line, strings.TrimSuffix(le.Err.Error(), ": "+moderation.ErrInvalid.Error())
			} else if m := lineRE.FindStringSubmatch(msg); m != nil {
				p.Line, _ = strconv.Atoi(m[1])
			} else if m := repeatedRE.FindStringSubmatch(msg); m != nil {
				if id, err := strconv.Unquote(m[1]); err == nil {
					p.Line = entryLine(path, id, 2)
				}
			} else if m := entryRE.FindStringSubmatch(msg); m != nil {
				p.Line = entryLine(path, m[1], 1)
			}
			probs = append(probs, p)
			continue
		}
		// hashbank.NewSet would name neither file of a bank defined twice
		// (a.csv, and a.jsonl whose header says bank "a").
		if first, ok := defined[b.Name]; ok {
			probs = append(probs, problem{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf("bank %q is defined twice: also by %s", b.Name, first)})
			continue
		}
		defined[b.Name] = path
		banks = append(banks, b)
	}
	if len(probs) > 0 || len(banks) == 0 {
		return nil, probs
	}
	set, err := hashbank.NewSet(banks)
	if err != nil {
		return nil, []problem{{File: dir, Line: 1, Col: 1, Msg: err.Error()}}
	}
	return set, nil
}

// unreadRuleFiles lists the files under dir that look like rule files
// but are not read as such (a.YAML, rules.json), and symbolic links to
// directories (not walked): their rules would be missing from the set
// without a word.
func unreadRuleFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // ReadDir reports it
		case d.IsDir() && path != dir && (d.Name() == "banks" || d.Name() == "testdata"):
			return filepath.SkipDir
		case d.IsDir() || rulestore.IsRuleFile(path):
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				out = append(out, path+" is not read: a symbolic link to a directory is not followed")
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			out = append(out, path+" is not read: rule files end in .yaml or .yml (lower case)")
		}
		return nil
	})
	return out
}

// checkBanksFlag refuses a --banks directory that does not exist: the
// default DIR/banks may be missing (no banks), but a named one missing is
// a typo, and testing without the banks meant would pass silently.
func checkBanksFlag(dir string) error {
	if dir == "" {
		return nil
	}
	st, err := os.Stat(dir)
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		err = pe.Err // the path is named once
	}
	if err != nil {
		return fmt.Errorf("--banks %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--banks %s: not a directory (banks are the *.csv and *.jsonl files in one)", dir)
	}
	return nil
}

// defaultBanks is DIR/banks, the layout of rules/; a single rule file
// has no banks unless the flag names them.
func defaultBanks(rulesDir, banksFlag string) string {
	if banksFlag != "" {
		return banksFlag
	}
	if fi, err := os.Stat(rulesDir); err == nil && !fi.IsDir() {
		return ""
	}
	return filepath.Join(rulesDir, "banks")
}

func runRulesValidate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "rules validate", "Usage: vigilctl rules validate [--banks DIR] DIR|FILE\n\n"+
		"Parses every rule file under DIR and every hash-bank file in DIR/banks (or one rule\n"+
		"FILE, with banks only if --banks names them), and prints each problem as\n"+
		"file:line:col: message. Exits 1 if there is any.")
	banksDir := fs.String("banks", "", "hash-bank directory (default DIR/banks)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := checkBanksFlag(*banksDir); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("rules validate: want one rules directory or file, got %d arguments", fs.NArg())
	}
	dir := fs.Arg(0)
	set, banks, probs, err := validateDir(dir, defaultBanks(dir, *banksDir))
	if err != nil {
		return err
	}
	for _, name := range unreadRuleFiles(dir) { // warnings, not problems
		fmt.Fprintf(env.Stderr, "warning: %s\n", name)
	}
	for _, p := range probs {
		fmt.Fprintln(env.Stdout, p)
	}
	if len(probs) > 0 {
		fmt.Fprintf(env.Stderr, "%d problem(s)\n", len(probs))
		return ErrFailed
	}
	nb := 0
	if banks != nil {
		nb = len(banks.Banks())
	}
	fmt.Fprintf(env.Stderr, "ok: %d rules, %d hash banks\n", set.Len(), nb)
	return nil
}

// testMatch is one match as `rules test` prints it: byte offsets into the
// original text for keyword rules; bank, entry, hash type and distance for
// hash matches (whose rule is "bank:<name>", as in the worker's metrics).
type testMatch struct {
	Rule     string            `json:"rule"`
	Version  *int64            `json:"version,omitempty"`
	Category string            `json:"category"`
	Severity string            `json:"severity"`
	Spans    []moderation.Span `json:"spans,omitempty"`
	Bank     string            `json:"bank,omitempty"`
	Entry    string            `json:"entry,omitempty"`
	HashType string            `json:"hash_type,omitempty"`
	Distance *int              `json:"distance,omitempty"`
	MediaID  string            `json:"media_id,omitempty"`
}

type testResult struct {
	PostID  string      `json:"post_id"`
	Matches []testMatch `json:"matches"`
}

func toTestMatches(ms []moderation.Match) []testMatch {
	out := make([]testMatch, 0, len(ms))
	for _, m := range ms {
		tm := testMatch{Category: m.Category, Severity: m.Severity.String()}
		if m.RuleID != "" {
			v := m.RuleVersion
			tm.Rule, tm.Version, tm.Spans = m.RuleID, &v, m.Spans
		} else {
			d := m.Distance
			tm.Rule, tm.Bank, tm.Entry, tm.HashType, tm.Distance, tm.MediaID = "bank:"+m.Bank, m.Bank, m.EntryID, m.HashType, &d, m.MediaID
		}
		out = append(out, tm)
	}
	return out
}

// decodeImages decodes a post's inline media with the worker's limits.
// Media given by URL is not fetched; it is reported on warn.
func decodeImages(p moderation.Post, warn func(string)) []engine.Image {
	var imgs []engine.Image
	for _, m := range p.Media {
		if len(m.Data) == 0 {
			warn(fmt.Sprintf("post %s: media %s is a URL, not fetched (inline it as data to test it)", p.ID, m.ID))
			continue
		}
		d, err := imagehash.DecodeReduced(m.Data, imagehash.Limits{})
		if err != nil {
			warn(fmt.Sprintf("post %s: media %s: %v", p.ID, m.ID, err))
			continue
		}
		imgs = append(imgs, engine.Image{MediaID: m.ID, Decoded: d})
	}
	return imgs
}

// loadEngine validates a rules directory (and its banks) and builds the
// engine the workers would build from it.
func loadEngine(env Env, dir, banksDir string) (*engine.Engine, error) {
	set, banks, probs, err := validateDir(dir, banksDir)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintln(env.Stderr, p)
		}
		return nil, ErrFailed
	}
	var opts []engine.Option
	if banks != nil {
		opts = append(opts, engine.WithBanks(banks))
	}
	return engine.New(set, opts...), nil
}

func runRulesTest(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "rules test", "Usage: vigilctl rules test --rules DIR [--banks DIR] [FILE…|-]\n\n"+
		"Reads posts as JSON lines (the posts topic's format) from the files or standard input,\n"+
		"matches each with the engine the workers use, and prints one JSON line per post:\n"+
		`{"post_id":…,"matches":[{"rule":…,"version":…,"category":…,"severity":…,"spans":[[start,end]]}, …]}`+"\n"+
		"Spans are byte offsets into the original text. Inline media is hashed against the banks.\n"+
		"A malformed line is reported on standard error as FILE:LINE: error, the other posts are\n"+
		"still matched, and the exit status is 1.")
	rulesDir := fs.String("rules", "rules", "rules directory")
	banksDir := fs.String("banks", "", "hash-bank directory (default RULES/banks)")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if err := checkBanksFlag(*banksDir); err != nil {
		return err
	}
	eng, err := loadEngine(env, *rulesDir, defaultBanks(*rulesDir, *banksDir))
	if err != nil {
		return err
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	out := bufio.NewWriter(env.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	failed := false
	for _, in := range inputs {
		err := eachPostLine(env, in, func(name string, line int, raw []byte) error {
			if raw == nil {
				fmt.Fprintf(env.Stderr, "%s:%d: skipped: line longer than a post may be (%d bytes)\n", name, line, moderation.MaxPostBytes)
				failed = true
				return nil
			}
			p, err := moderation.DecodePost(raw)
			if err != nil {
				fmt.Fprintf(env.Stderr, "%s:%d: %v\n", name, line, err)
				failed = true
				return nil
			}
			imgs := decodeImages(p, func(s string) { fmt.Fprintf(env.Stderr, "%s:%d: %s\n", name, line, s) })
			v, err := eng.Evaluate(ctx, p, imgs...)
			if err != nil {
				return err
			}
			return enc.Encode(testResult{PostID: p.ID, Matches: toTestMatches(v.Matches)})
		})
		if err != nil {
			return err
		}
	}
	if failed {
		out.Flush()
		return ErrFailed
	}
	return nil
}

// eachPostLine calls fn with each non-blank line of a JSON-lines file ("-"
// is standard input), and with raw nil for a line longer than a post may
// be.
func eachPostLine(env Env, name string, fn func(name string, line int, raw []byte) error) error {
	var r io.Reader
	if name == "-" {
		r, name = env.Stdin, "<stdin>"
		if r == nil {
			r = strings.NewReader("")
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 1<<20)
	skipBOM(br)
	var buf []byte
	for n := 1; ; n++ {
		// A line longer than any post is consumed unbuffered and reported
		// like a post the decoder rejects; it used to stop the whole
		// input ("token too long", no line) and drop the posts after it.
		line, size, err := readCappedLine(br, buf[:0], moderation.MaxPostBytes)
		buf = line
		if size > int64(len(line)) {
			if ferr := fn(name, n, nil); ferr != nil {
				return ferr
			}
		} else if b := bytes.TrimSpace(line); len(b) > 0 {
			if ferr := fn(name, n, b); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
	}
}

// skipBOM drops a UTF-8 byte order mark at the start of br (files saved
// by spreadsheets and some editors): JSON and the CSV header would
// otherwise begin with an invisible "\ufeff".
func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
}
