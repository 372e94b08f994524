package textmatch

// Step names one step of the normalisation pipeline (see the package doc).
type Step uint16

// The normalisation steps, in pipeline order.
const (
	StepIgnorables Step = 1 << iota
	StepNFKC
	StepDiacritics
	StepCaseFold
	StepConfusables
	StepLeet
	StepSqueeze
	StepSeparators

	// AllSteps is every step; the zero Options enable all of them.
	AllSteps = StepIgnorables | StepNFKC | StepDiacritics | StepCaseFold | StepConfusables | StepLeet | StepSqueeze | StepSeparators
)

// Options configure normalisation. The zero value is the documented default
// pipeline with DefaultLeet.
type Options struct {
	// Disable turns pipeline steps off (zero: all on). Tests use it to check
	// one step at a time; rule sets may use it to opt out of a step.
	Disable Step
	// Leet maps ASCII digits and symbols to the ASCII letter they stand
	// for. Nil means DefaultLeet(); an empty non-nil map means none.
	// Keys and values must be ASCII; values must be letters.
	Leet map[rune]rune
	// LeetAlt gives a leet digit a second letter, read where the first
	// would double a letter (see StepLeet in the package doc). Nil means
	// DefaultLeetAlt(); an empty non-nil map means none. Keys must be
	// digits of the Leet table.
	LeetAlt map[rune]rune
	// DenseBudget caps the bytes of the dense DFA table. Over it, only the
	// shallow states (depth ≤ 3, the hot ones) keep dense rows and the rest
	// are compact sparse blocks. Zero means 64 MiB.
	DenseBudget int
}

// DefaultLeetAlt returns a new copy of the default second readings: '1'
// is 'i' ("k1ll") but also 'l' ("ki11").
func DefaultLeetAlt() map[rune]rune { return map[rune]rune{'1': 'l'} }

func (o Options) has(s Step) bool { return o.Disable&s == 0 }

// DefaultLeet returns a new copy of the default leetspeak table.
func DefaultLeet() map[rune]rune {
	return map[rune]rune{
		'4': 'a', '@': 'a', '3': 'e', '1': 'i', '!': 'i', '0': 'o',
		'5': 's', '$': 's', '7': 't', '+': 't', '8': 'b', '9': 'g', '|': 'l',
	}
}
