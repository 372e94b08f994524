package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line bar on a terminal (nothing when w is not
// one), redrawn at most every 100 ms. Total 0 means unknown: a counter.
type progress struct {
	w     io.Writer
	label string
	unit  string
	total int64
	done  int64
	last  time.Time
	now   func() time.Time
	on    bool
}

func newProgress(w io.Writer, label, unit string, total int64) *progress {
	return &progress{w: w, label: label, unit: unit, total: total, now: time.Now, on: IsTerminal(w)}
}

// Set records n units done and redraws if due.
func (p *progress) Set(n int64) {
	p.done = n
	if !p.on {
		return
	}
	if t := p.now(); t.Sub(p.last) >= 100*time.Millisecond {
		p.last = t
		p.draw()
	}
}

func (p *progress) draw() {
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s %d %s", p.label, p.done, p.unit)
		return
	}
	const width = 30
	frac := min(float64(p.done)/float64(p.total), 1)
	fill := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %d/%d %s", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		frac*100, p.done, p.total, p.unit)
}

// Done draws the final state and ends the line.
func (p *progress) Done() {
	if !p.on {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}

// Status prints a line saying what happens next, on a terminal only: a
// step that reports no progress (one database statement) would otherwise
// look like a hang after a full bar.
func (p *progress) Status(msg string) {
	if p.on {
		fmt.Fprintln(p.w, msg)
	}
}
