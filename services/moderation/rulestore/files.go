package rulestore

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/ruleset"
)

// IsRuleFile reports whether a file name is a rule file: *.yaml or *.yml,
// as ruleset.LoadDir reads them.
func IsRuleFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// ReadDir reads every rule file under dir (recursively, sorted by path),
// skipping subdirectories named banks and testdata, exactly the files
// ruleset.LoadDir compiles. Names are slash-separated paths relative to
// dir, as they are published (dir may be one rule file: its base name).
func ReadDir(dir string) ([]moderation.RuleFile, error) {
	var files []moderation.RuleFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// As ruleset.LoadDir: hash banks and test data are not rules.
			if path != dir && (d.Name() == "banks" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !IsRuleFile(path) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if path == dir { // dir is one rule file
			rel = filepath.Base(path)
		}
		files = append(files, moderation.RuleFile{Name: filepath.ToSlash(rel), Data: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading rules from %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// Compile compiles files into a rule set labelled with version (0 for an
// unpublished directory). prefix is prepended to each file name in error
// messages (the directory the user named, so editors can jump to
// file:line:col); errors are ruleset's, unchanged otherwise.
func Compile(files []moderation.RuleFile, version int64, prefix string) (*ruleset.Set, error) {
	return compile(files, version, prefix, ruleset.Options{})
}

func compile(files []moderation.RuleFile, version int64, prefix string, opts ruleset.Options) (*ruleset.Set, error) {
	in := make([]ruleset.File, len(files))
	for i, f := range files {
		name := f.Name
		if prefix != "" {
			name = filepath.Join(prefix, filepath.FromSlash(f.Name))
		}
		in[i] = ruleset.File{Name: name, Data: f.Data}
	}
	s, err := ruleset.CompileWith(in, opts)
	if err != nil {
		return nil, err
	}
	return s.WithVersion(version), nil
}

// CompileVersion compiles a published version; error messages name the
// files as published. Checks added to the rule language after a version
// was published (terms written as regular expressions) are not applied:
// workers and rollbacks must not lose a version that was accepted.
func CompileVersion(v moderation.RuleVersion) (*ruleset.Set, error) {
	s, err := compile(v.Files, v.Version, "", ruleset.Options{AllowRegexLikeTerms: true})
	if err != nil {
		return nil, fmt.Errorf("compiling rules version %d: %w", v.Version, err)
	}
	return s, nil
}
