//go:build !race

package hashindex

const raceEnabled = false
