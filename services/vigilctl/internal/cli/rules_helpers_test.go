package cli

import (
	"regexp"
	"strconv"
	"strings"
)

func jsonNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
func itoa(n int) string        { return strconv.Itoa(n) }
func boolStr(b bool) string {
	if b {
		return "changed"
	}
	return "same"
}

// regexpLine reports whether some line of s matches re.
func regexpLine(s, re string) bool {
	r := regexp.MustCompile(re)
	for _, l := range strings.Split(s, "\n") {
		if r.MatchString(l) {
			return true
		}
	}
	return false
}
