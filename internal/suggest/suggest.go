// Package suggest finds the likely meant value of a mistyped one: a
// command, a flag, a framework or account name.
package suggest

import (
	"strings"
	"unicode/utf8"
)

// Nearest is the value of have closest to w (case-insensitive edit
// distance), when it is close enough to be a likely typo: at most a third
// of w's length away.
func Nearest(w string, have []string) string {
	best, dist := "", -1
	for _, h := range have {
		if d := editDistance(strings.ToLower(w), strings.ToLower(h)); dist < 0 || d < dist {
			best, dist = h, d
		}
	}
	if dist < 0 || dist > max(2, utf8.RuneCountInString(w)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
