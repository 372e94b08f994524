package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/demoimage"
	"github.com/vigil-moderation/vigil/services/moderation/moderationtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	moderationtest.Golden(t, *update, name, got)
}

func runCLI(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	err := Run(context.Background(), append([]string{"vigilctl"}, args...), env)
	return out.String(), errb.String(), err
}

func TestRulesValidateGolden(t *testing.T) {
	out, errOut, err := runCLI(t, "", "rules", "validate", "testdata/rules/invalid")
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("invalid rules: err %v, want ErrFailed; stderr %s", err, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if m := posRE.FindStringSubmatch(line); m == nil || !strings.HasPrefix(m[1], "testdata/rules/invalid/") {
			t.Errorf("problem %q is not file:line:col: message under the directory", line)
		}
	}
	golden(t, "validate_invalid.golden", []byte(out))

	out, errOut, err = runCLI(t, "", "rules", "validate", "testdata/rules/valid")
	if err != nil || out != "" {
		t.Fatalf("valid rules: err %v, out %q, stderr %q", err, out, errOut)
	}
	if !strings.HasPrefix(errOut, "ok: ") {
		t.Errorf("valid rules: stderr %q, want an ok summary", errOut)
	}
	if _, _, err := runCLI(t, "", "rules", "validate"); err == nil || errors.Is(err, ErrFailed) {
		t.Errorf("no directory: %v, want a usage error", err)
	}
}

// TestRulesValidateSyntaxGolden: files a rule engineer gets wrong (an
// unclosed bracket, JSON with a missing comma, Latin-1, a BOM with CRLF
// line ends, a tab, regex-like, empty and runaway terms) are each named at
// the line to fix (once, though a YAML alias repeats it: alias.yaml), a
// runaway term is shortened, and files that look like
// rule files but are not read (upper.YAML, notes.json) are warned about.
// In banks/: a repeated entry id is placed at the repeat (it was 1:1), a
// bank defined by two files names both (it named the directory), and a
// file with a BOM and CRLF line ends loads.
func TestRulesValidateSyntaxGolden(t *testing.T) {
	out, errOut, err := runCLI(t, "", "rules", "validate", "testdata/rules/syntax")
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err %v, want ErrFailed; stderr %s", err, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		// Every problem of these rule files lies past 1:1, where a message
		// without a position would be put.
		if m := posRE.FindStringSubmatch(line); m == nil || strings.HasSuffix(m[1], ".yaml") && m[2] == "1" && m[3] == "1" || len(line) > 300 {
			t.Errorf("problem %q: want file:line:col: message, placed past 1:1, short", line)
		}
	}
	golden(t, "validate_syntax.golden", []byte(out))
	for _, f := range []string{"upper.YAML", "notes.json"} {
		if !strings.Contains(errOut, "warning: testdata/rules/syntax/"+f+" is not read") {
			t.Errorf("stderr %q: want a warning that %s is not read", errOut, f)
		}
	}
}

// One rule file validates alone, its problems named by its own path and
// no banks looked for beside it unless --banks names them.
func TestRulesValidateFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - id: x\n    pattern: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "", "rules", "validate", bad)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("bad file: err %v, want ErrFailed; stderr %s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], bad+":3:") {
		t.Errorf("bad file: problems %q, want one at %s:3", lines, bad)
	}

	files, err := filepath.Glob("testdata/rules/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("valid rule files: %v %v", files, err)
	}
	out, errOut, err = runCLI(t, "", "rules", "validate", files[0])
	if err != nil || out != "" || !strings.Contains(errOut, ", 0 hash banks") {
		t.Errorf("valid file: err %v, out %q, stderr %q, want ok without banks", err, out, errOut)
	}
	out, errOut, err = runCLI(t, "", "rules", "validate", "--banks", "testdata/rules/valid/banks", files[0])
	if err != nil || out != "" || strings.Contains(errOut, ", 0 hash banks") {
		t.Errorf("valid file with --banks: err %v, out %q, stderr %q, want its banks", err, out, errOut)
	}
	// A version replaces every rule, so publishing one file is refused.
	if _, _, err := runCLI(t, "", "rules", "publish", "-m", "one file", "--author", "ann", files[0]); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("publish one file: %v, want a refusal", err)
	}
}

// imagePost is a post whose inline image is demoimage.Image(0), banked in
// testdata/rules/valid/banks/demo-phash.jsonl as demo-0.
func imagePost(t *testing.T) string {
	t.Helper()
	var png0 bytes.Buffer
	if err := png.Encode(&png0, demoimage.Image(0)); err != nil {
		t.Fatal(err)
	}
	p := moderation.Post{
		V: 1, ID: "p-img", Platform: "test", Author: moderation.Author{ID: "a9"},
		Text: "see attached", CreatedAt: time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC),
		Media: []moderation.Media{{ID: "m1", MIME: "image/png", Data: png0.Bytes()}},
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestRulesTestGolden(t *testing.T) {
	out, errOut, err := runCLI(t, imagePost(t), "rules", "test", "--rules", "testdata/rules/valid", "testdata/posts.jsonl", "-")
	if err != nil {
		t.Fatalf("rules test: %v; stderr %s", err, errOut)
	}
	golden(t, "test_output.golden", []byte(out))

	// Every span is a byte range of the original text, as the UI highlights it.
	posts := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, "testdata/posts.jsonl")), "\n") {
		if p, err := moderation.DecodePost([]byte(line)); err == nil {
			posts[p.ID] = p.Text
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r testResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("output line %q: %v", line, err)
		}
		for _, m := range r.Matches {
			for _, s := range m.Spans {
				if text := posts[r.PostID]; s.End > len(text) || s.Start >= s.End {
					t.Errorf("%s: span %v outside %q", r.PostID, s, text)
				}
			}
		}
	}

	// A malformed line is reported with its line number; the others are
	// still matched and the exit status is a failure.
	out, errOut, err = runCLI(t, "not json\n"+readFile(t, "testdata/posts.jsonl"), "rules", "test", "--rules", "testdata/rules/valid")
	if !errors.Is(err, ErrFailed) || !strings.Contains(errOut, "<stdin>:1:") || strings.Count(out, "\n") != 5 {
		t.Errorf("bad line: err %v, stderr %q, %d lines out", err, errOut, strings.Count(out, "\n"))
	}
	// Invalid rules: nothing is matched.
	if _, _, err := runCLI(t, "", "rules", "test", "--rules", "testdata/rules/invalid", "testdata/posts.jsonl"); !errors.Is(err, ErrFailed) {
		t.Errorf("invalid rules: %v, want ErrFailed", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNegativeFlagsRefused: a negative --since or --limit used to mean
// "all" without a word (--since -1h, a typo for 1h, counted every item
// ever flagged); they are refused before the database is opened.
func TestNegativeFlagsRefused(t *testing.T) {
	t.Parallel()
	const db = "postgres://nowhere.invalid:1/x"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rules", "history", "--database-url", db, "--limit", "-1"}, "rules history: --limit -1: want 0 (all) or more"},
		{[]string{"rules", "precision", "--database-url", db, "--since", "-1h"}, "rules precision: --since -1h0m0s: want a duration of 0 (all) or more"},
		{[]string{"banks", "precision", "--database-url", db, "--since", "-1h"}, "banks precision: --since -1h0m0s: want a duration of 0 (all) or more"},
	} {
		_, _, err := runCLI(t, "", c.args...)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestBanksFlagMustExist: --banks naming a missing directory or a file
// used to run without any bank, so a test of image posts "passed"; the
// default RULES/banks may still be absent.
func TestBanksFlagMustExist(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"rules", "validate", "--banks", missing, "testdata/rules/valid"},
		{"rules", "test", "--rules", "testdata/rules/valid", "--banks", missing, "testdata/posts.jsonl"},
		{"rules", "backtest", "--rules", "testdata/rules/valid", "--against", "testdata/rules/valid", "--banks", missing, "testdata/posts.jsonl"},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil || err.Error() != "--banks "+missing+": no such file or directory" {
			t.Errorf("%q: %v, want --banks %s: no such file or directory", args[:2], err, missing)
		}
	}
	if _, _, err := runCLI(t, "", "rules", "validate", "--banks", "testdata/posts.jsonl", "testdata/rules/valid"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("--banks FILE: %v, want not a directory", err)
	}
	dir := t.TempDir() // rules without a banks directory
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(readFile(t, "testdata/rules/valid/threats.yaml")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := runCLI(t, "", "rules", "validate", dir); err != nil {
		t.Errorf("no DIR/banks: %v %s", err, errOut)
	}
}

// TestRulesValidateWarnsUnread: rules in a file named X.YML or x.json, or
// under a symbolic link to a directory, were left out without a word; a
// warning names each, and the set still validates (exit 0).
func TestRulesValidateWarnsUnread(t *testing.T) {
	t.Parallel()
	dir, shared := t.TempDir(), t.TempDir()
	rules := readFile(t, "testdata/rules/valid/threats.yaml")
	for _, p := range []string{filepath.Join(dir, "r.yaml"), filepath.Join(dir, "X.YML"), filepath.Join(dir, "x.json"), filepath.Join(shared, "s.yaml")} {
		if err := os.WriteFile(p, []byte(rules), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(shared, filepath.Join(dir, "shared")); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runCLI(t, "", "rules", "validate", dir)
	if err != nil {
		t.Fatalf("err %v, stderr %s", err, errOut)
	}
	for _, want := range []string{
		"warning: " + filepath.Join(dir, "X.YML") + " is not read: rule files end in .yaml or .yml (lower case)\n",
		"warning: " + filepath.Join(dir, "x.json") + " is not read",
		"warning: " + filepath.Join(dir, "shared") + " is not read: a symbolic link to a directory is not followed\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
}

// TestBlankAuthorOrMessageRefused: a blank --author (no $USER, or spaces)
// or a message of spaces was stored in immutable rule versions and the
// audit log (banks import did not check --author at all); they are
// refused before the database is opened.
func TestBlankAuthorOrMessageRefused(t *testing.T) {
	t.Parallel()
	db := []string{"--database-url", "postgres://nowhere.invalid:1/x"}
	list := filepath.Join(t.TempDir(), "l.csv")
	if err := os.WriteFile(list, []byte("phash,a61d46b9b4557b81\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rules", "publish", "-m", "why", "--author", "  ", "testdata/rules/valid"}, "rules publish: --author is required"},
		{[]string{"rules", "publish", "-m", "  ", "--author", "ann", "testdata/rules/valid"}, "rules publish: -m MESSAGE is required"},
		{[]string{"rules", "publish", "-m", "why", "testdata/rules/valid"}, "rules publish: --author is required"}, // $USER unset
		{[]string{"rules", "rollback", "--author", " ", "3"}, "rules rollback: --author is required"},
		{[]string{"banks", "import", "--format", "csv", "--bank", "b", list}, "banks import: --author is required"},
		{[]string{"banks", "quarantine", "-m", "meme", "--author", "\t", "b", "e"}, "banks quarantine: --author is required"},
		{[]string{"banks", "confirm", "b", "e"}, "banks confirm: --author is required"},
	} {
		args := append(append(c.args[:2:2], db...), c.args[2:]...)
		_, _, err := runCLI(t, "", args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: %v, want %s", c.args, err, c.want)
		}
	}
}

// TestRuleFileNameNotUTF8: a rule file whose name is not UTF-8 validated
// fine and then failed at publish with a Postgres encoding error; both
// now name the file as a problem, before the database is opened.
func TestRuleFileNameNotUTF8(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad\xff.yaml"), []byte(readFile(t, "testdata/rules/valid/threats.yaml")), 0o600); err != nil {
		t.Skipf("this file system refuses the name: %v", err)
	}
	want := filepath.Join(dir, "bad\xff.yaml") + `:1:1: file name "bad\xff.yaml" is not valid UTF-8: rename the file` + "\n"
	for _, args := range [][]string{
		{"rules", "validate", dir},
		{"rules", "publish", "--database-url", "postgres://nowhere.invalid:1/x", "--author", "ann", "-m", "why", dir},
	} {
		out, errOut, err := runCLI(t, "", args...)
		if !errors.Is(err, ErrFailed) || out != want {
			t.Errorf("%q: err %v, stdout %q, stderr %q; want %q", args[:2], err, out, errOut, want)
		}
	}
}
