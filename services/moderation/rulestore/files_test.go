package rulestore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-moderation/vigil/services/moderation"
)

func TestReadDirMatchesLoadDir(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"b.yaml":             rulesYAML("b", "beta", "low"),
		"sub/a.yml":          rulesYAML("a", "alpha", "low"),
		"banks/x.yaml":       "not rules",
		"testdata/t.yaml":    "not rules",
		"notes.txt":          "ignored",
		"sub/testdata/y.yml": "not rules",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Name != "b.yaml" || files[1].Name != "sub/a.yml" {
		t.Fatalf("files %+v", files)
	}
	set, err := Compile(files, 7, dir)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 || set.Version() != 7 {
		t.Errorf("set: %d rules, version %d", set.Len(), set.Version())
	}
}

// TestCompileVersionKeepsAcceptedTerms: a term written as a regular
// expression is refused in new files, but a version published before
// that check still compiles, so workers and rollbacks do not lose it.
func TestCompileVersionKeepsAcceptedTerms(t *testing.T) {
	files := []moderation.RuleFile{{Name: "a.yaml", Data: []byte(rulesYAML("a", "k.*ll", "low"))}}
	if _, err := Compile(files, 0, "rules"); err == nil || !strings.Contains(err.Error(), "looks like a regular expression") {
		t.Errorf("new files: %v, want the regex-like term refused", err)
	}
	set, err := CompileVersion(moderation.RuleVersion{Version: 3, Files: files})
	if err != nil || set.Version() != 3 || set.Len() != 1 {
		t.Errorf("published version: %v, want it compiled as before", err)
	}
}
