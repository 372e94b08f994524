package textmatch

import (
	"reflect"
	"testing"
)

// TestWordEndShortcutExact checks that rejecting candidates which end
// inside a word early (when no term is a substring term) changes no hit:
// every tweet is matched with the shortcut and with it disabled, at sizes
// from a few terms per post to nearly every word a term.
func TestWordEndShortcutExact(t *testing.T) {
	c := corpus(t)
	for _, n := range []int{100, 2000, 20000} {
		m := noPrefilter(mustCompile(t, termsOf(benchTerms(t, c.posts, n)), Options{})) // scan every tweet
		if m.anySubstring {
			t.Fatal("anySubstring set without substring terms")
		}
		plain := *m
		plain.anySubstring = true // takes the general path, checks every pattern
		var a, b []Hit
		total := 0
		for _, p := range c.posts {
			a = m.FindAll(p, a[:0])
			b = plain.FindAll(p, b[:0])
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%d terms, post %q:\nwith shortcut    %v\nwithout shortcut %v", n, p, a, b)
			}
			total += len(a)
		}
		t.Logf("%d terms: %d hits, identical with and without the shortcut", n, total)
	}
}
