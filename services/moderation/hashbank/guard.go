package hashbank

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-moderation/vigil/services/moderation"
)

// Clock tells the time. Inject a fake in tests; production passes a type
// whose Now calls time.Now.
type Clock interface {
	Now() time.Time
}

// GuardOptions tune the bad-entry guard. The zero value gives the defaults.
type GuardOptions struct {
	// Window over which shares are measured (default 1 hour), divided into
	// Buckets slots (default 12) that expire one at a time.
	Window  time.Duration
	Buckets int
	// MaxShare is the share of observed media an entry may match within the
	// window before it is quarantined (default 0.005: a real banked image
	// is never in one post out of 200).
	MaxShare float64
	// MinMatches is how many matches in the window an entry needs before
	// the share is judged at all (default 20), so a quiet hour does not
	// quarantine an entry that matched twice in 300 posts.
	MinMatches int
	// OnQuarantine, if set, is called (without the guard's lock held) when
	// an entry is quarantined automatically: raise the alert metric there.
	OnQuarantine func(QuarantineState)
}

// QuarantineState describes one quarantined entry.
type QuarantineState struct {
	Bank    string
	EntryID string
	Since   time.Time
	// Matches and Observed are the window counts when it was quarantined;
	// Suppressed counts matches dropped since.
	Matches    int
	Observed   int
	Suppressed int
	Manual     bool // quarantined by a person, not by the share rule
}

// Guard protects against a bad bank entry (a hash of a meme, a logo, a
// blank frame) that would flood the review queue: an entry that matches an
// abnormal share of the media observed in a sliding window is quarantined,
// and its matches are dropped until a rule engineer confirms it. It is safe
// for concurrent use and outlives Set reloads (state is keyed by bank and
// entry id).
type Guard struct {
	clock Clock
	opt   GuardOptions

	mu          sync.Mutex
	start       time.Time // start of bucket 0's current slot
	cur         int       // index of the current bucket
	observed    []int     // media observed per bucket
	counts      map[string][]int
	quarantined map[string]*QuarantineState
	confirmed   map[string]bool
}

// NewGuard returns a Guard reading time from clock.
func NewGuard(clock Clock, opt GuardOptions) *Guard {
	if opt.Window <= 0 {
		opt.Window = time.Hour
	}
	if opt.Buckets <= 0 {
		opt.Buckets = 12
	}
	if opt.MaxShare <= 0 {
		opt.MaxShare = 0.005
	}
	if opt.MinMatches <= 0 {
		opt.MinMatches = 20
	}
	return &Guard{
		clock:       clock,
		opt:         opt,
		start:       clock.Now(),
		observed:    make([]int, opt.Buckets),
		counts:      map[string][]int{},
		quarantined: map[string]*QuarantineState{},
		confirmed:   map[string]bool{},
	}
}

func key(bank, entry string) string { return bank + "\x00" + entry }

// advance rotates buckets up to now. Caller holds mu.
func (g *Guard) advance(now time.Time) {
	slot := g.opt.Window / time.Duration(g.opt.Buckets)
	steps := int(now.Sub(g.start) / slot)
	if steps <= 0 {
		return
	}
	if steps > g.opt.Buckets {
		steps = g.opt.Buckets
		g.start = now
	} else {
		g.start = g.start.Add(time.Duration(steps) * slot)
	}
	for range steps {
		g.cur = (g.cur + 1) % g.opt.Buckets
		g.observed[g.cur] = 0
		for k, c := range g.counts {
			c[g.cur] = 0
			if sum(c) == 0 {
				delete(g.counts, k)
			}
		}
	}
}

func sum(c []int) int {
	s := 0
	for _, v := range c {
		s += v
	}
	return s
}

// Observe records one hashed media item and the bank matches it produced,
// and returns the matches whose entries are not quarantined (keyword
// matches pass through). Call it once per media item, with or without
// matches, so the share has a denominator.
func (g *Guard) Observe(ms []moderation.Match) []moderation.Match {
	var fired []QuarantineState
	g.mu.Lock()
	g.advance(g.clock.Now())
	g.observed[g.cur]++
	var kept []moderation.Match
	for _, m := range ms {
		if m.Bank == "" {
			kept = append(kept, m)
			continue
		}
		k := key(m.Bank, m.EntryID)
		if q := g.quarantined[k]; q != nil {
			q.Suppressed++
			continue
		}
		c := g.counts[k]
		if c == nil {
			c = make([]int, g.opt.Buckets)
			g.counts[k] = c
		}
		c[g.cur]++
		if !g.confirmed[k] {
			n, obs := sum(c), sum(g.observed)
			if n >= g.opt.MinMatches && float64(n) > g.opt.MaxShare*float64(obs) {
				q := &QuarantineState{Bank: m.Bank, EntryID: m.EntryID, Since: g.clock.Now(), Matches: n, Observed: obs, Suppressed: 1}
				g.quarantined[k] = q
				fired = append(fired, *q)
				continue
			}
		}
		kept = append(kept, m)
	}
	g.mu.Unlock()
	if g.opt.OnQuarantine != nil {
		for _, q := range fired {
			g.opt.OnQuarantine(q)
		}
	}
	return kept
}

// Quarantined lists the quarantined entries, sorted by bank and entry; its
// length is the value for an alert gauge.
func (g *Guard) Quarantined() []QuarantineState {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]QuarantineState, 0, len(g.quarantined))
	for _, q := range g.quarantined {
		out = append(out, *q)
	}
	slices.SortFunc(out, func(a, b QuarantineState) int {
		if c := strings.Compare(a.Bank, b.Bank); c != 0 {
			return c
		}
		return strings.Compare(a.EntryID, b.EntryID)
	})
	return out
}

// IsQuarantined reports whether an entry is quarantined.
func (g *Guard) IsQuarantined(bank, entry string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.quarantined[key(bank, entry)] != nil
}

// Confirm is a rule engineer's word that an entry is right: it leaves
// quarantine, its window counts are reset, and the share rule no longer
// applies to it. Reports whether it was quarantined.
func (g *Guard) Confirm(bank, entry string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := key(bank, entry)
	_, was := g.quarantined[k]
	delete(g.quarantined, k)
	delete(g.counts, k)
	g.confirmed[k] = true
	return was
}

// Quarantine takes an entry out of service by hand (a reported false
// positive) until Confirm.
func (g *Guard) Quarantine(bank, entry string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := key(bank, entry)
	delete(g.confirmed, k)
	if g.quarantined[k] == nil {
		g.quarantined[k] = &QuarantineState{Bank: bank, EntryID: entry, Since: g.clock.Now(), Manual: true}
	}
}
