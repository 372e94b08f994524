package ruleset

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-moderation/vigil/services/moderation"
	"github.com/vigil-moderation/vigil/services/moderation/textmatch"
)

// File is one rule file's name (as shown in errors) and contents.
type File struct {
	Name string
	Data []byte
}

// BuiltinCategories are always valid; a rule set may declare more with a
// top-level `categories:` list in any of its files.
var BuiltinCategories = []string{"terrorist_content", "violent_threat", "hate", "spam"}

// Options tune compilation. The zero value is the documented default.
type Options struct {
	// Text configures normalisation (see textmatch.Options).
	Text textmatch.Options
	// AllowSubstringInWords skips the check that substring terms do not
	// fire inside common words: for importing third-party lists in tests
	// and backtests, never for reviewed rule packs.
	AllowSubstringInWords bool
	// AllowRegexLikeTerms skips the check that terms are not written as
	// regular expressions (k.*ll), added after rule versions had been
	// published: a stored version must compile as it did when accepted.
	// New rule files are checked.
	AllowRegexLikeTerms bool
}

// RuleInfo describes one rule for tools (listing, documentation, UIs).
type RuleInfo struct {
	ID          string
	Description string
	Category    string
	Severity    moderation.Severity
	Languages   []string // empty: every language
	File        string
	Line        int
}

// Set is a compiled, immutable rule set, safe for concurrent use.
type Set struct {
	version int64
	c       *compiled
}

type compiled struct {
	rules   []rule
	m       *textmatch.Matcher // nil when no rule has a term
	terms   []textmatch.Term
	groups  [][]int32 // term id -> sorted group ids containing it
	cands   [][]int32 // term id -> rules that may fire when it hits
	always  []int32   // rules evaluated on every post
	ngroups int
	pool    sync.Pool // *scratch
}

type rule struct {
	info    RuleInfo
	langs   []string // primary subtags
	cond    *cond
	exGroup int32 // -1: no exceptions
	unless  *cond
}

// scratch is per-call working memory, pooled so Match allocates nothing
// when nothing matches.
type scratch struct {
	hits   []textmatch.Hit
	spans  []moderation.Span
	seen   []bool // per rule
	cand   []int32
	chosen []int32 // evalNear: hits chosen for the groups of one window
	// The hits of one exception group, as intervals sorted by start with
	// the running maximum of their ends (excepted).
	exGroup int32 // group exStart and exEnd hold; -1 none
	exStart []int32
	exEnd   []int32
	exIdx   []int32 // sort scratch
	// near: the indices of the hits eligible for a near window, by word.
	near []int32
	// evalNear, per group of the condition: the positions in near of the
	// group's hits (grpPos[grpOff[k]:grpOff[k+1]]) and a segment tree of
	// their hit indices (grpTree[2*grpOff[k]:2*grpOff[k+1]]), so that a
	// window's first hit of a group is found in log time; nearPos is the
	// inverse of near (hit index → position).
	grpOff  []int32
	grpPos  []int32
	grpTree []int32
	nearPos []int32
	ranges  [][2]int32 // firstInWindow's work list
}

// LoadDir reads every *.yaml and *.yml file under dir (recursively, sorted
// by path) and compiles them. Subdirectories named banks (hash banks) and
// testdata are skipped.
func LoadDir(dir string) (*Set, error) {
	var files []File
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (d.Name() == "banks" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
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

// Compile parses, validates and compiles files with the default Options.
// Returns an ErrorList (wrapping moderation.ErrInvalid) with every problem.
func Compile(files []File) (*Set, error) { return CompileWith(files, Options{}) }

// CompileWith is Compile with options.
func CompileWith(files []File, opts Options) (*Set, error) {
	var errs ErrorList
	norm, err := textmatch.NewNormalizer(opts.Text)
	if err != nil {
		return nil, fmt.Errorf("compiling rules: %w", err)
	}
	var asts []fileAST
	for _, f := range files {
		p := parser{file: f.Name, errs: &errs}
		asts = append(asts, p.parse(f.Data))
	}
	b := builder{norm: norm, errs: &errs, allowInside: opts.AllowSubstringInWords, allowRegexLike: opts.AllowRegexLikeTerms, termIDs: map[termKey]int32{}, lists: map[string]*listAST{},
		cats: map[string]bool{}}
	for _, c := range BuiltinCategories {
		b.cats[c] = true
	}
	for _, a := range asts {
		for i, c := range a.categories {
			if !validName(c) {
				b.errAt(a.catPos[i], "invalid category name %q", c)
			}
			b.cats[c] = true
		}
		for i := range a.lists {
			l := &a.lists[i]
			if prev, ok := b.lists[l.name]; ok {
				b.errAt(l.pos, "duplicate list %q (first defined at %s:%d:%d)", l.name, prev.file, prev.line, prev.col)
				continue
			}
			b.lists[l.name] = l
		}
	}
	c := &compiled{}
	ids := map[string]pos{}
	for _, a := range asts {
		for i := range a.rules {
			ra := &a.rules[i]
			if prev, ok := ids[ra.id]; ok {
				b.errAt(ra.pos, "duplicate rule id %q (first defined at %s:%d:%d)", ra.id, prev.file, prev.line, prev.col)
				// Still check it, so its own problems are listed in the same
				// run; the set fails anyway.
				b.rule(ra)
				continue
			}
			ids[ra.id] = ra.pos
			if r, ok := b.rule(ra); ok {
				c.rules = append(c.rules, r)
			}
		}
	}
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	// Automaton over every term; candidates per term.
	c.terms = b.terms
	c.groups = make([][]int32, len(b.terms))
	for g, ts := range b.groupTerms {
		for _, t := range ts {
			c.groups[t] = appendUnique(c.groups[t], int32(g))
		}
	}
	c.ngroups = len(b.groupTerms)
	c.cands = make([][]int32, len(b.terms))
	for ri, r := range c.rules {
		if !needsTerms(r.cond) {
			c.always = append(c.always, int32(ri))
			continue
		}
		for _, t := range condTerms(r.cond, b.groupTerms, nil) {
			c.cands[t] = appendUnique(c.cands[t], int32(ri))
		}
	}
	if len(b.terms) > 0 {
		m, err := textmatch.Compile(b.terms, opts.Text)
		if err != nil {
			return nil, fmt.Errorf("compiling rules: %w", err)
		}
		c.m = m
	}
	nr := len(c.rules)
	c.pool.New = func() any { return &scratch{seen: make([]bool, nr)} }
	return &Set{c: c}, nil
}

func appendUnique(s []int32, v int32) []int32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

type termKey struct {
	text      string
	substring bool
	fuzzy     int
}

type builder struct {
	norm        *textmatch.Normalizer
	errs        *ErrorList
	terms       []textmatch.Term
	termIDs     map[termKey]int32
	groupTerms  [][]int32
	lists       map[string]*listAST
	cats        map[string]bool
	allowInside bool
	// allowRegexLike: Options.AllowRegexLikeTerms.
	allowRegexLike bool
	common         []string // normalised commonWords, built on first use
	commonRaw      []string
}

func (b *builder) errAt(p pos, format string, args ...any) {
	*b.errs = append(*b.errs, &Error{File: p.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

func (b *builder) rule(ra *ruleAST) (rule, bool) {
	n := len(*b.errs)
	r := rule{info: RuleInfo{ID: ra.id, Description: ra.description, Category: ra.category,
		Languages: ra.languages, File: ra.file, Line: ra.line}, exGroup: -1}
	if ra.category != "" && !b.cats[ra.category] {
		b.errAt(ra.catPos, "unknown category %q (built in: %s; declare others under categories:)", ra.category, strings.Join(BuiltinCategories, ", "))
	}
	if ra.sevText != "" {
		sev, err := moderation.ParseSeverity(ra.sevText)
		if err != nil {
			b.errAt(ra.sevPos, "unknown severity %q (want low, medium, high or critical)", ra.sevText)
		}
		r.info.Severity = sev
	}
	for _, l := range ra.languages {
		p, _, _ := strings.Cut(l, "-")
		r.langs = append(r.langs, p)
	}
	var exTexts []string
	if len(ra.exceptions) > 0 {
		r.exGroup = b.group(ra.exceptions)
		for _, t := range b.groupTerms[r.exGroup] {
			if s, err := b.norm.NormalizeTerm(b.terms[t].Text); err == nil {
				exTexts = append(exTexts, s)
			}
		}
	}
	b.compileCond(ra.cond, exTexts)
	r.cond = ra.cond
	if ra.unless != nil {
		b.compileCond(ra.unless, nil)
		r.unless = ra.unless
	}
	return r, len(*b.errs) == n
}

// group interns a term list (expanding @list references) as a group id.
func (b *builder) group(refs []termRef) int32 {
	var ids []int32
	for _, t := range refs {
		if t.list != "" {
			l, ok := b.lists[t.list]
			if !ok {
				b.errAt(t.pos, "unknown term list %q", t.list)
				continue
			}
			for _, lt := range l.terms {
				if lt.list == "" {
					ids = appendUnique(ids, b.term(lt))
				}
			}
			continue
		}
		ids = appendUnique(ids, b.term(t))
	}
	b.groupTerms = append(b.groupTerms, ids)
	return int32(len(b.groupTerms) - 1)
}

// term interns one literal, validating it.
func (b *builder) term(t termRef) int32 {
	key := termKey{t.text, t.substring, t.fuzzy}
	if id, ok := b.termIDs[key]; ok {
		return id
	}
	if strings.TrimSpace(t.text) == "" {
		b.errAt(t.pos, "empty term")
	} else if syn := regexSyntaxRE.FindString(t.text); syn != "" && !b.allowRegexLike {
		b.errAt(t.pos, "term %s looks like a regular expression (%q), but terms are literal words: write it under regex:", quoteTerm(t.text), syn)
	} else if _, err := b.norm.NormalizeTerm(t.text); err != nil {
		b.errAt(t.pos, "term %s: %v", quoteTerm(t.text), err)
	}
	id := int32(len(b.terms))
	b.terms = append(b.terms, textmatch.Term{Text: t.text, Substring: t.substring, Fuzzy: t.fuzzy})
	b.termIDs[key] = id
	return id
}

// regexSyntaxRE finds regular-expression syntax in a term: a wildcard, an
// escape class, a character class, a group with alternatives, a
// quantifier or a leading anchor. The normaliser would silently read such
// a term as letters ("k.*ll" as "kll"); the leet and separator symbols
// that also occur in regular expressions ($, |, *, .) alone are not it.
var regexSyntaxRE = regexp.MustCompile(`\.[*+?]|\\[bBsSwWdDpP]|\[[^\]]+\]|\([^)]*\|[^)]*\)|\(\?|\{\d+(,\d*)?\}|^\^`)

// quoteTerm quotes a term for a message, shortened when long: a runaway
// term (a pasted paragraph) would otherwise fill the screen.
func quoteTerm(s string) string {
	const keep = 40
	if utf8.RuneCountInString(s) <= keep+10 {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q… (%d characters)", string(r[:keep]), len(r))
}

// checkInside reports substring terms that would fire inside common words
// which the rule's exceptions do not cover.
func (b *builder) checkInside(t termRef, exTexts []string) {
	if !t.substring || t.text == "" || b.allowInside {
		return
	}
	if b.common == nil {
		b.commonRaw = strings.Fields(commonWords)
		for _, w := range b.commonRaw {
			b.common = append(b.common, b.norm.String(w))
		}
	}
	nt, err := b.norm.NormalizeTerm(t.text)
	if err != nil {
		return
	}
	var hits []string
	for i, w := range b.commonRaw {
		nw := b.common[i]
		if nw == nt || !strings.Contains(nw, nt) {
			continue
		}
		covered := false
		for _, e := range exTexts {
			if strings.Contains(e, nw) || e == nw {
				covered = true
				break
			}
		}
		if !covered {
			hits = append(hits, w)
		}
	}
	if len(hits) > 0 {
		if len(hits) > 5 {
			hits = append(hits[:5], "…")
		}
		b.errAt(t.pos, "substring term %s matches inside common words (%s): use word boundaries or list them under exceptions", quoteTerm(t.text), strings.Join(hits, ", "))
	}
}

func (b *builder) compileCond(c *cond, exTexts []string) {
	c.pre = -1
	switch c.op {
	case opAny, opAll, opNone:
		for _, k := range c.kids {
			b.compileCond(k, exTexts)
		}
	case opTerms:
		for _, t := range c.terms {
			b.checkInside(t, exTexts)
		}
		c.group = b.group(c.terms)
	case opNear:
		for _, g := range c.groups {
			for _, t := range g {
				b.checkInside(t, exTexts)
			}
			c.nearGroups = append(c.nearGroups, b.group(g))
		}
	case opRegex:
		if c.regex == "" {
			b.errAt(c.rpos, "empty regex")
			return
		}
		re, err := regexp.Compile(c.regex)
		if err != nil {
			b.errAt(c.rpos, "invalid regex: %v", err)
			return
		}
		c.re = re
		if lit := prefilter(c.regex); lit != "" {
			c.pre = b.group([]termRef{{pos: c.rpos, text: lit, substring: true}})
		}
	}
}

// prefilter returns a run of at least three ASCII letters that every match
// of the regular expression contains, lower-cased, or "". Contiguous ASCII
// letters of the original text stay contiguous letters after normalisation,
// so the automaton finding the literal is a necessary condition for the
// regex to match; posts without it never run the regex.
func prefilter(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	lit := requiredLiteral(re.Simplify())
	best := ""
	for _, f := range strings.FieldsFunc(lit, func(r rune) bool { return r >= 0x80 || !unicode.IsLetter(r) }) {
		if len(f) > len(best) {
			best = f
		}
	}
	if len(best) < 3 {
		return ""
	}
	return strings.ToLower(best)
}

func requiredLiteral(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCapture:
		return requiredLiteral(re.Sub[0])
	case syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		best := ""
		for _, s := range re.Sub {
			if l := requiredLiteral(s); len(l) > len(best) {
				best = l
			}
		}
		return best
	}
	return ""
}

// needsTerms reports whether c can only hold when one of its terms (or a
// regex prefilter) is found, so the rule need not run on other posts.
func needsTerms(c *cond) bool {
	switch c.op {
	case opTerms, opNear:
		return true
	case opRegex:
		return c.pre >= 0
	case opAll:
		for _, k := range c.kids {
			if needsTerms(k) {
				return true
			}
		}
		return false
	case opAny:
		for _, k := range c.kids {
			if !needsTerms(k) {
				return false
			}
		}
		return true
	}
	return false
}

// condTerms lists the term ids whose hits can make c hold.
func condTerms(c *cond, groups [][]int32, dst []int32) []int32 {
	switch c.op {
	case opTerms:
		dst = append(dst, groups[c.group]...)
	case opNear:
		for _, g := range c.nearGroups {
			dst = append(dst, groups[g]...)
		}
	case opRegex:
		if c.pre >= 0 {
			dst = append(dst, groups[c.pre]...)
		}
	case opAny, opAll:
		for _, k := range c.kids {
			dst = condTerms(k, groups, dst)
		}
	}
	return dst
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
func (s *Set) Len() int { return len(s.c.rules) }

// Rules lists the rules in file order.
func (s *Set) Rules() []RuleInfo {
	out := make([]RuleInfo, len(s.c.rules))
	for i, r := range s.c.rules {
		out[i] = r.info
		out[i].Languages = append([]string(nil), r.info.Languages...)
	}
	return out
}

// Terms is the number of distinct literal terms in the automaton.
func (s *Set) Terms() int { return len(s.c.terms) }

// Normalize shows the normalised form of text, as the rules see it.
func (s *Set) Normalize(text string) string {
	if s.c.m == nil {
		n, _ := textmatch.NewNormalizer(textmatch.Options{})
		return n.String(text)
	}
	return s.c.m.Normalizer().String(text)
}
