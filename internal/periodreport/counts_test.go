package periodreport

import "testing"

// A day's compliance is the daily pack's figure: none where nothing was
// assessed, and "not applicable" (never 0 %) for a platform that reports
// failing rules only.
func TestDayCompliance(t *testing.T) {
	for _, tc := range []struct {
		c    Counts
		ok   bool
		want string
	}{
		{Counts{Compliant: 3, NonCompliant: 1}, true, "75.0%"},
		{Counts{Compliant: 3, NonCompliant: 1, Partial: true}, true, "75.0% (partial)"},
		{Counts{Other: 4}, false, "n/a"},
		{Counts{NonCompliant: 7, FailingOnly: true}, false, "not applicable"},
	} {
		if _, ok := tc.c.Compliance(); ok != tc.ok {
			t.Errorf("%+v: compliance ok %v, want %v", tc.c, ok, tc.ok)
		}
		if got := pct(tc.c, true); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}
