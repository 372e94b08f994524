package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

func TestReadCappedLine(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     []string // lines kept ("" for one dropped)
		sizes    []int64
	}{
		{"short lines", "ab\ncd\n", 10, []string{"ab\n", "cd\n"}, []int64{3, 3}},
		{"last line without newline", "ab\ncd", 10, []string{"ab\n", "cd"}, []int64{3, 2}},
		{"exactly max", "abcd\n", 5, []string{"abcd\n"}, []int64{5}},
		{"over max dropped, next kept", "abcdef\ngh\n", 5, []string{"", "gh\n"}, []int64{7, 3}},
		{"over the reader's buffer", strings.Repeat("x", 100) + "\nok\n", 50, []string{"", "ok\n"}, []int64{101, 3}},
		{"long but allowed, over the buffer", strings.Repeat("y", 40) + "\n", 64, []string{strings.Repeat("y", 40) + "\n"}, []int64{41}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
			for i := range tc.want {
				line, size, err := readCappedLine(br, nil, tc.max)
				if string(line) != tc.want[i] || size != tc.sizes[i] {
					t.Fatalf("line %d: got %q (size %d), want %q (size %d)", i, line, size, tc.want[i], tc.sizes[i])
				}
				if err != nil && i != len(tc.want)-1 {
					t.Fatalf("line %d: %v", i, err)
				}
			}
		})
	}
}

// A line longer than any post is skipped and reported without being
// buffered whole; the posts around it are still read.
func TestBacktestSkipsOversizedLine(t *testing.T) {
	posts, err := os.ReadFile("testdata/posts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(posts), "\n")
	var b strings.Builder
	b.WriteString(lines[0])
	b.WriteString(`{"v":1,"id":"huge","text":"` + strings.Repeat("a", moderation.MaxPostBytes) + "\"}\n")
	b.WriteString(lines[1])
	name := filepath.Join(t.TempDir(), "posts.jsonl")
	if err := os.WriteFile(name, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, "", "rules", "backtest", "--rules", "testdata/rules/valid", "--against", "testdata/rules/valid",
		"--decisions", "none", "--json", name)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(errOut, ":2: skipped: line of ") {
		t.Errorf("stderr does not name the oversized line:\n%s", errOut)
	}
	var rep struct{ Posts, Skipped int }
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Posts != 2 || rep.Skipped != 1 {
		t.Fatalf("report %+v %v\n%s", rep, err, out)
	}
}

// TestBacktestDecisionsFileChecked: a decisions line with a misspelt
// action or no post_id used to count as undecided without a word,
// skewing every precision; it is now an error naming the line.
func TestBacktestDecisionsFileChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, c := range map[string]struct{ content, want string }{
		"misspelt action": {`{"post_id":"p1","action":"remove"}` + "\n" + `{"post_id":"p2","action":"removed"}` + "\n", ":2: unknown action \"removed\""},
		"no post_id":      {`{"id":"p1","action":"remove"}` + "\n", ":1: no post_id"},
		"not JSON":        {"\nnot json\n", ":2: invalid character"},
		"valid":           {`{"post_id":"p1","action":"no_violation"}` + "\n\n" + `{"post_id":"p1","action":"escalate"}` + "\n", ""},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".jsonl")
		if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, errOut, err := runCLI(t, "", "rules", "backtest", "--rules", "testdata/rules/valid", "--against", "testdata/rules/valid",
			"--decisions", path, "--json", "testdata/posts.jsonl")
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v %s", name, err, errOut)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), path+c.want) {
			t.Errorf("%s: %v, want an error containing %s%s", name, err, path, c.want)
		}
	}
	if _, _, err := runCLI(t, "", "rules", "backtest", "--rules", "testdata/rules/valid", "--samples", "-1", "testdata/posts.jsonl"); err == nil || !strings.Contains(err.Error(), "--samples -1: want 0 or more") {
		t.Errorf("--samples -1: %v, want a refusal", err)
	}
}

// TestRulesTestSkipsOversizedLine: rules test used to stop at a line
// longer than a post may be ("token too long", no line number, exit 0
// with the posts after it unmatched); the line is now reported and
// skipped, the others matched, and the exit status is a failure.
func TestRulesTestSkipsOversizedLine(t *testing.T) {
	posts, err := os.ReadFile("testdata/posts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(posts), "\n")
	in := lines[0] + `{"v":1,"id":"huge","text":"` + strings.Repeat("a", moderation.MaxPostBytes) + "\"}\n" + lines[1]
	out, errOut, err := runCLI(t, in, "rules", "test", "--rules", "testdata/rules/valid")
	if !errors.Is(err, ErrFailed) {
		t.Errorf("err %v, want ErrFailed", err)
	}
	if !strings.Contains(errOut, "<stdin>:2: skipped: line longer than a post may be") {
		t.Errorf("stderr %q does not name line 2", errOut)
	}
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, `"post_id":"p2"`) {
		t.Errorf("output %q, want the posts before and after the long line", out)
	}
}
