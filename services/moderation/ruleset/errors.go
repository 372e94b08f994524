package ruleset

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Error is one problem in a rule file, at a 1-based line and column.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

// Error prints "file:line:col: message", the form editors jump to.
func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// Unwrap makes every validation error an moderation.ErrInvalid.
func (e *Error) Unwrap() error { return moderation.ErrInvalid }

// ErrorList is every problem found in a set of rule files, sorted by file
// and position. Compile returns all of them rather than stopping at the
// first, so one `vigilctl rules validate` run shows everything to fix.
type ErrorList []*Error

// Error prints one problem per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the individual errors (each wraps moderation.ErrInvalid),
// so errors.Is(err, moderation.ErrInvalid) and errors.As(err, **Error) work.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
