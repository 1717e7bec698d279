package job

import (
	"fmt"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/suggest"
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
			if n := suggest.Nearest(w, have); n != "" {
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
