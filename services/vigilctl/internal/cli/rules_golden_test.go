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
