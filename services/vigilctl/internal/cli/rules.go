package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

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
)

// entryLine finds the line of a bank file that defines entry id (1 if
// none does): bank errors name the entry, not the line.
func entryLine(path, id string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 1
	}
	q, _ := json.Marshal(id)
	for i, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, id+",") || strings.Contains(l, `"id":`+string(q)) || strings.Contains(l, `"id": `+string(q)) {
			return i + 1
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
	set, err := rulestore.Compile(files, 0, prefix)
	if err != nil {
		probs = append(probs, splitErrors(err, "")...)
		set = nil
	}
	banks, bprobs := loadBanks(banksDir)
	probs = append(probs, bprobs...)
	return set, banks, probs, nil
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
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".csv" && ext != ".jsonl") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := hashbank.LoadFile(path)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "loading "+path+": ")
			p := problem{File: path, Line: 1, Col: 1, Msg: msg}
			if le := (*hashbank.LineError)(nil); errors.As(err, &le) {
				p.Line, p.Msg = le.Line, le.Err.Error()
			} else if m := lineRE.FindStringSubmatch(msg); m != nil {
				p.Line, _ = strconv.Atoi(m[1])
			} else if m := entryRE.FindStringSubmatch(msg); m != nil {
				p.Line = entryLine(path, m[1])
			}
			probs = append(probs, p)
			continue
		}
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
	if fs.NArg() != 1 {
		return fmt.Errorf("rules validate: want one rules directory or file, got %d arguments", fs.NArg())
	}
	dir := fs.Arg(0)
	set, banks, probs, err := validateDir(dir, defaultBanks(dir, *banksDir))
	if err != nil {
		return err
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
		"Spans are byte offsets into the original text. Inline media is hashed against the banks.")
	rulesDir := fs.String("rules", "rules", "rules directory")
	banksDir := fs.String("banks", "", "hash-bank directory (default RULES/banks)")
	if err := parse(fs, env, args); err != nil {
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
// is standard input).
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
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), moderation.MaxPostBytes+1)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		if err := fn(name, n, b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}
