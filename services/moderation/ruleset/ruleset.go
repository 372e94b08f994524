// Package ruleset parses, validates and compiles keyword rule files into an
// immutable Set that is safe to share across goroutines.
//
// NOTE: this is the walking-skeleton version (literal, case-folded keywords).
// The full rule language and matcher replace its internals, keeping the API.
package ruleset

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// File is one rule file's name (as shown in errors) and contents.
type File struct {
	Name string
	Data []byte
}

// Set is a compiled, immutable rule set.
type Set struct {
	version int64
	rules   []rule
}

type rule struct {
	ID       string
	Category string
	Severity moderation.Severity
	Keywords []string
}

type fileDoc struct {
	Rules []struct {
		ID          string   `yaml:"id"`
		Description string   `yaml:"description"`
		Category    string   `yaml:"category"`
		Severity    string   `yaml:"severity"`
		Keywords    []string `yaml:"keywords"`
	} `yaml:"rules"`
}

// LoadDir reads every *.yaml and *.yml file under dir and compiles them.
func LoadDir(dir string) (*Set, error) {
	var files []File
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files = append(files, File{Name: path, Data: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return Compile(files)
}

// Compile parses and validates files into a Set.
func Compile(files []File) (*Set, error) {
	s := &Set{}
	for _, f := range files {
		var doc fileDoc
		if err := yaml.Unmarshal(f.Data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		for _, r := range doc.Rules {
			sev, err := moderation.ParseSeverity(r.Severity)
			if err != nil {
				return nil, fmt.Errorf("%s: rule %q: unknown severity %q", f.Name, r.ID, r.Severity)
			}
			kw := make([]string, len(r.Keywords))
			for i, k := range r.Keywords {
				kw[i] = strings.ToLower(k)
			}
			s.rules = append(s.rules, rule{ID: r.ID, Category: r.Category, Severity: sev, Keywords: kw})
		}
	}
	return s, nil
}

// WithVersion returns a copy of s labelled with a published version number.
func (s *Set) WithVersion(v int64) *Set {
	c := *s
	c.version = v
	return &c
}

// Version is the published version this set came from (0 if unpublished).
func (s *Set) Version() int64 { return s.version }

// Len is the number of rules.
func (s *Set) Len() int { return len(s.rules) }

// Match appends to dst one match per rule that fires on text.
func (s *Set) Match(text, lang string, dst []moderation.Match) []moderation.Match {
	low := strings.ToLower(text)
	for _, r := range s.rules {
		var spans []moderation.Span
		for _, k := range r.Keywords {
			if i := strings.Index(low, k); i >= 0 {
				spans = append(spans, moderation.Span{Start: i, End: i + len(k)})
			}
		}
		if len(spans) > 0 {
			dst = append(dst, moderation.Match{RuleID: r.ID, RuleVersion: s.version, Category: r.Category, Severity: r.Severity, Spans: spans})
		}
	}
	return dst
}
