package ruleset

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// pos is where something was written.
type pos struct {
	file      string
	line, col int
}

// termRef is one entry of a term list: a literal or a reference to a
// shared list ("@name" or {list: name}).
type termRef struct {
	pos
	text      string
	list      string
	substring bool
	fuzzy     int
}

type opKind uint8

// MaxWithin is the widest near window, in words: wider is not "near", and
// a window's cost grows with the hits inside it.
const MaxWithin = 1000

const (
	opAny opKind = iota + 1
	opAll
	opNone
	opTerms
	opRegex
	opNear
)

// cond is a condition node.
type cond struct {
	pos
	op     opKind
	kids   []*cond
	terms  []termRef   // opTerms
	count  int         // opTerms: minimum occurrences
	groups [][]termRef // opNear: each group must occur
	within int         // opNear: words
	regex  string      // opRegex
	rpos   pos         // position of the regex value

	// Filled by compile.
	group      int32   // opTerms: term group
	nearGroups []int32 // opNear
	re         *regexp.Regexp
	pre        int32 // opRegex: prefilter group, -1 if none
}

type ruleAST struct {
	pos
	id, description, category string
	sevText                   string
	sevPos                    pos
	catPos                    pos
	languages                 []string
	cond                      *cond
	exceptions                []termRef
	unless                    *cond
}

type listAST struct {
	pos
	name  string
	terms []termRef
}

type fileAST struct {
	categories []string
	catPos     []pos
	lists      []listAST
	rules      []ruleAST
}

// parser turns one file's YAML nodes into ASTs, collecting errors.
type parser struct {
	file string
	errs *ErrorList
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil {
		line, col = n.Line, n.Column
	}
	*p.errs = append(*p.errs, &Error{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) at(n *yaml.Node) pos { return pos{p.file, n.Line, n.Column} }

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?::(\d+))?: `)

// yamlSyntaxError places a yaml.v3 syntax error and words it for a rule
// engineer: the line and column (where the parser noticed it), the message
// without its own "line N:" prefix, and two corrections of yaml.v3's
// placement: a tab in the indentation is reported on the line before the
// tab (so the first indenting tab from there on is named instead), an
// unexpected end of the file is reported where the unclosed quote or
// bracket that swallowed the rest of it opened (said so), a parser error
// is moved to the line where its bracket or block opened (yaml.v3 names
// the line above), and invalid UTF-8 is placed at its first bad byte.
func yamlSyntaxError(data []byte, err error) (line, col int, msg string) {
	line, col, msg = 1, 1, strings.TrimPrefix(err.Error(), "yaml: ")
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m != nil {
		line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			col, _ = strconv.Atoi(m[2])
		}
		msg = err.Error()[len(m[0]):]
	}
	// yaml.v3 numbers a parser error (as opposed to a scanner error) by
	// the 0-based line where the collection being parsed opened, so it
	// names the line above that one: point at the opening line itself and
	// say what is wrong there.
	if hint, ok := parserErrorHints[msg]; ok && m != nil {
		line++
		col = 1
		// The end of the stream is counted on a line of its own.
		if n := strings.Count(strings.TrimSuffix(string(data), "\n"), "\n") + 1; line > n {
			line = n
		}
		// A collection opened on line 1 is numbered by where it broke
		// instead: look back for the opening character.
		for n := line; hint.open != 0 && n > 1 && !strings.ContainsRune(lineAt(data, n), rune(hint.open)); n-- {
			if strings.ContainsRune(lineAt(data, n-1), rune(hint.open)) {
				line = n - 1
			}
		}
		if l := lineAt(data, line); l != "" {
			col = len(l) - len(strings.TrimLeft(l, " -")) + 1
			if hint.open != 0 {
				if i := strings.IndexByte(l, hint.open); i >= 0 {
					col = i + 1
				}
			}
		}
		msg += " " + hint.text
	}
	switch {
	case strings.Contains(msg, "UTF-8"), strings.Contains(msg, "control characters are not allowed"):
		// The reader reports no position; find the first bad byte.
		for i, l := range strings.Split(string(data), "\n") {
			for j, r := range l {
				if _, size := utf8.DecodeRuneInString(l[j:]); r == utf8.RuneError && size <= 1 {
					return i + 1, j + 1, "invalid UTF-8 (rule files are UTF-8 text; was this one saved as Latin-1?)"
				}
				if unicode.IsControl(r) && r != '\t' && r != '\r' && r != 0x85 {
					return i + 1, j + 1, fmt.Sprintf("control character %U is not allowed in YAML", r)
				}
			}
		}
	case strings.Contains(msg, "found a tab character"):
		lines := strings.Split(string(data), "\n")
		for i := max(line-1, 0); i < len(lines); i++ {
			indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
			if t := strings.IndexByte(indent, '\t'); t >= 0 {
				return i + 1, t + 1, "a tab indents this line; YAML indents with spaces only"
			}
		}
	case strings.Contains(msg, "unexpected end of stream"):
		msg += " (a quote or bracket opened here is never closed?)"
	}
	return line, col, msg
}

// parserErrorHints are yaml.v3's parser errors (placed at the line where
// a collection opened, not where it went wrong), with the opening
// character to point at and what the engineer should look for.
var parserErrorHints = map[string]struct {
	open byte
	text string
}{
	"did not find expected ',' or ']'":    {'[', "(the '[' opened here is never closed, or a comma is missing between its items)"},
	"did not find expected ',' or '}'":    {'{', "(the '{' opened here is never closed, or a comma is missing between its entries)"},
	"did not find expected key":           {0, "(in the mapping that starts here, a later line is not \"key: value\" at its indentation)"},
	"did not find expected '-' indicator": {'-', "(in the list that starts here, a later line is not an item \"- …\" at its indentation)"},
	"did not find expected node content":  {0, "(a value is missing, or a bracket on this line is never closed)"},
}

// lineAt is line n (1-based) of data, "" when there is none.
func lineAt(data []byte, n int) string {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

func (p *parser) parse(data []byte) fileAST {
	var f fileAST
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, col, msg := yamlSyntaxError(data, err)
		*p.errs = append(*p.errs, &Error{File: p.file, Line: line, Col: col, Msg: "invalid YAML: " + msg})
		return f
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f // empty file: no rules
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "a rule file is a mapping with keys rules, lists, categories")
		return f
	}
	p.fields(root, func(key string, k, v *yaml.Node) {
		switch key {
		case "rules":
			for _, rn := range p.seq(v, "rules") {
				if r, ok := p.rule(rn); ok {
					f.rules = append(f.rules, r)
				}
			}
		case "lists":
			if v.Kind != yaml.MappingNode {
				p.errorf(v, "lists must be a mapping of list name to terms")
				return
			}
			p.fields(v, func(name string, k, lv *yaml.Node) {
				if !validName(name) {
					p.errorf(k, "invalid list name %q: use letters, digits, '_', '-' and '.'", name)
				}
				terms := p.terms(lv, "list "+name)
				for _, t := range terms {
					if t.list != "" {
						p.errorfPos(t.pos, "list %q references list %q: lists cannot nest", name, t.list)
					}
				}
				if len(terms) == 0 {
					p.errorf(lv, "list %q is empty", name)
				}
				f.lists = append(f.lists, listAST{pos: p.at(k), name: name, terms: terms})
			})
		case "categories":
			for _, c := range p.seq(v, "categories") {
				if s, ok := p.str(c, "category"); ok {
					f.categories = append(f.categories, s)
					f.catPos = append(f.catPos, p.at(c))
				}
			}
		default:
			p.errorf(k, "unknown field %q (want rules, lists, categories)", key)
		}
	})
	return f
}

func (p *parser) errorfPos(at pos, format string, args ...any) {
	*p.errs = append(*p.errs, &Error{File: at.file, Line: at.line, Col: at.col, Msg: fmt.Sprintf(format, args...)})
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// fields calls fn for each key of a mapping, reporting duplicate keys.
func (p *parser) fields(n *yaml.Node, fn func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errorf(k, "duplicate field %q", k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k.Value, k, resolve(v))
	}
}

// resolve follows YAML aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func (p *parser) seq(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list", what)
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a string", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) integer(n *yaml.Node, what string) (int, bool) {
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a whole number", what)
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errorf(n, "%s must be a whole number, not %q", what, n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		p.errorf(n, "%s must be true or false", what)
	}
	return b
}

// strOrSeq accepts a string or a list of strings.
func (p *parser) strOrSeq(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	return p.seq(n, what)
}

var langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

func (p *parser) rule(n *yaml.Node) (ruleAST, bool) {
	r := ruleAST{pos: p.at(n)}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "a rule must be a mapping")
		return r, false
	}
	var alts []*cond // keywords, phrases, regex, match: any of them
	p.fields(n, func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			if s, ok := p.str(v, "id"); ok {
				r.id = s
				if !validName(s) {
					p.errorf(v, "invalid rule id %q: use letters, digits, '_', '-' and '.'", s)
				}
			}
		case "description":
			r.description, _ = p.str(v, "description")
		case "category":
			r.category, _ = p.str(v, "category")
			r.catPos = p.at(v)
		case "severity":
			r.sevText, _ = p.str(v, "severity")
			r.sevPos = p.at(v)
		case "languages":
			for _, l := range p.strOrSeq(v, "languages") {
				if s, ok := p.str(l, "language"); ok {
					if !langRE.MatchString(s) {
						p.errorf(l, "invalid language tag %q (want a BCP 47 tag such as en, ar, pt-BR)", s)
					}
					r.languages = append(r.languages, strings.ToLower(s))
				}
			}
		case "keywords", "phrases":
			terms := p.terms(v, key)
			if len(terms) == 0 {
				p.errorf(v, "%s is empty", key)
			}
			alts = append(alts, &cond{pos: p.at(v), op: opTerms, terms: terms, count: 1})
		case "regex":
			for _, rn := range p.strOrSeq(v, "regex") {
				if s, ok := p.str(rn, "regex"); ok {
					alts = append(alts, &cond{pos: p.at(rn), op: opRegex, regex: s, rpos: p.at(rn)})
				}
			}
		case "match":
			if c := p.cond(v); c != nil {
				alts = append(alts, c)
			}
		case "exceptions":
			r.exceptions = p.terms(v, "exceptions")
		case "unless":
			r.unless = p.cond(v)
		default:
			p.errorf(k, "unknown field %q in rule (want id, description, category, severity, languages, keywords, phrases, regex, match, exceptions, unless)", key)
		}
	})
	switch {
	case r.id == "":
		p.errorf(n, "rule has no id")
	case r.category == "":
		p.errorf(n, "rule %s has no category", r.id)
	case r.sevText == "":
		p.errorf(n, "rule %s has no severity", r.id)
	}
	switch len(alts) {
	case 0:
		p.errorf(n, "rule %s has no condition (keywords, phrases, regex or match)", r.id)
		return r, false
	case 1:
		r.cond = alts[0]
	default:
		r.cond = &cond{pos: r.pos, op: opAny, kids: alts}
	}
	return r, r.id != ""
}

// terms reads a list of term entries.
func (p *parser) terms(n *yaml.Node, what string) []termRef {
	var out []termRef
	for _, e := range p.strOrSeq(n, what) {
		if t, ok := p.term(e); ok {
			out = append(out, t)
		}
	}
	return out
}

func (p *parser) term(n *yaml.Node) (termRef, bool) {
	t := termRef{pos: p.at(n)}
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Value, "@") {
			t.list = n.Value[1:]
			return t, true
		}
		t.text = n.Value
		return t, true
	case yaml.MappingNode:
		p.fields(n, func(key string, k, v *yaml.Node) {
			switch key {
			case "term":
				t.text, _ = p.str(v, "term")
			case "list":
				t.list, _ = p.str(v, "list")
			case "substring":
				t.substring = p.boolean(v, "substring")
			case "fuzzy":
				t.fuzzy, _ = p.integer(v, "fuzzy")
				if t.fuzzy < 0 || t.fuzzy > 1 {
					p.errorf(v, "fuzzy must be 0 or 1 (edit distance)")
					t.fuzzy = 0
				}
			default:
				p.errorf(k, "unknown field %q in term (want term, list, substring, fuzzy)", key)
			}
		})
		if (t.text == "") == (t.list == "") {
			p.errorf(n, "a term entry needs exactly one of term and list")
			return t, false
		}
		return t, true
	}
	p.errorf(n, "a term must be a string or a mapping {term: ..., substring: true}")
	return t, false
}

// cond reads a condition node: a string (one term) or a mapping with one
// operator.
func (p *parser) cond(n *yaml.Node) *cond {
	c := &cond{pos: p.at(n), count: 1}
	if n.Kind == yaml.ScalarNode || n.Kind == yaml.MappingNode && hasKey(n, "term", "list") {
		t, ok := p.term(n)
		if !ok {
			return nil
		}
		c.op, c.terms = opTerms, []termRef{t}
		return c
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "a condition must be a term or a mapping with one of any, all, none, terms, regex, near")
		return nil
	}
	var countNode, withinNode *yaml.Node
	p.fields(n, func(key string, k, v *yaml.Node) {
		op := opKind(0)
		switch key {
		case "any":
			op = opAny
		case "all":
			op = opAll
		case "none":
			op = opNone
		case "terms":
			op = opTerms
		case "regex":
			op = opRegex
		case "near":
			op = opNear
		case "count":
			countNode = v
			return
		case "within":
			withinNode = v
			return
		default:
			p.errorf(k, "unknown field %q in condition (want any, all, none, terms, count, regex, near, within)", key)
			return
		}
		if c.op != 0 {
			p.errorf(k, "a condition has one operator; wrap several in all or any")
			return
		}
		c.op = op
		switch op {
		case opAny, opAll, opNone:
			for _, kn := range p.seq(v, key) {
				if kc := p.cond(kn); kc != nil {
					c.kids = append(c.kids, kc)
				}
			}
			if len(c.kids) == 0 {
				p.errorf(v, "%s needs at least one condition", key)
			}
		case opTerms:
			c.terms = p.terms(v, "terms")
			if len(c.terms) == 0 {
				p.errorf(v, "terms is empty")
			}
		case opRegex:
			c.regex, _ = p.str(v, "regex")
			c.rpos = p.at(v)
		case opNear:
			for _, e := range p.seq(v, "near") {
				var g []termRef
				if e.Kind == yaml.SequenceNode {
					g = p.terms(e, "near group")
				} else if t, ok := p.term(e); ok {
					g = []termRef{t}
				}
				if len(g) > 0 {
					c.groups = append(c.groups, g)
				}
			}
			if len(c.groups) < 2 {
				p.errorf(v, "near needs at least two terms (or groups of terms)")
			}
		}
	})
	if c.op == 0 {
		p.errorf(n, "condition has no operator (any, all, none, terms, regex, near)")
		return nil
	}
	if countNode != nil {
		if c.op != opTerms {
			p.errorf(countNode, "count applies to terms only")
		} else if v, ok := p.integer(countNode, "count"); ok {
			if v < 1 {
				p.errorf(countNode, "count must be at least 1")
			} else {
				c.count = v
			}
		}
	}
	c.within = 5
	if withinNode != nil {
		if c.op != opNear {
			p.errorf(withinNode, "within applies to near only")
		} else if v, ok := p.integer(withinNode, "within"); ok {
			if v < 1 || v > MaxWithin {
				p.errorf(withinNode, "within must be between 1 and %d words", MaxWithin)
			} else {
				c.within = v
			}
		}
	}
	return c
}

// hasKey reports whether mapping n has one of keys.
func hasKey(n *yaml.Node, keys ...string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		for _, k := range keys {
			if n.Content[i].Value == k {
				return true
			}
		}
	}
	return false
}
