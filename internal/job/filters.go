package job

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source"
)

// unmatchedFilters refuses the run (source.ErrRefused) when a --framework
// or --account value names nothing in any tenant: the pack would be empty
// yet look complete. Each refused value is listed with what the tenants
// have and the nearest of those. A tenant whose source does not report
// its filters (Plan.Filters nil) may hold the value, so nothing is refused
// then.
func unmatchedFilters(cfg *config.Config, runs []*run) error {
	var problems []string
	check := func(flag string, wanted []string, unmatched func(*source.Filters) []string, known func(*source.Filters) []string) {
	next:
		for _, w := range wanted {
			var have []string
			planned := false
			for _, r := range runs {
				if r == nil || r.plan == nil {
					continue // not discovered: its error says why
				}
				planned = true
				f := r.plan.Filters
				if f == nil || !slices.ContainsFunc(unmatched(f), func(u string) bool { return strings.EqualFold(u, w) }) {
					continue next // matched, or the source cannot tell
				}
				have = append(have, known(f)...)
			}
			if !planned {
				continue
			}
			slices.Sort(have)
			have = slices.Compact(have)
			msg := fmt.Sprintf("--%s %q matches nothing", flag, w)
			if n := nearest(w, have); n != "" {
				msg += fmt.Sprintf(" (nearest: %q)", n)
			}
			if len(have) > 0 {
				msg += "; the tenants have: " + strings.Join(have, ", ")
			}
			problems = append(problems, msg)
		}
	}
	check("framework", cfg.Frameworks, func(f *source.Filters) []string { return f.UnmatchedFrameworks }, func(f *source.Filters) []string { return f.Frameworks })
	check("account", cfg.Accounts, func(f *source.Filters) []string { return f.UnmatchedAccounts }, func(f *source.Filters) []string { return f.Accounts })
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n%s", source.ErrRefused, strings.Join(problems, "\n"))
}

// nearest is the value of have closest to w (case-insensitive edit
// distance), when it is close enough to be a likely typo: at most a third
// of w's length away.
func nearest(w string, have []string) string {
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
