package job

import (
	"strings"
	"testing"
	"time"
)

// A report is described as in the period only when its time lies in
// [from, to); the platform's latest report may lie after it.
func TestAssessmentAgainstThePeriod(t *testing.T) {
	from := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	f := &fwSummary{Accounts: map[string]*acctSummary{}}
	if got := f.assessment(from, to); !strings.Contains(got, "gives no assessment time") {
		t.Errorf("no time: %s", got)
	}
	for _, tc := range []struct {
		times []time.Time
		want  string
	}{
		{[]time.Time{from.Add(2 * time.Hour)}, "point-in-time assessment at 2026-12-04 02:00 UTC (the latest report in the period)"},
		{[]time.Time{from.Add(2 * time.Hour), from.Add(5 * time.Hour)}, "point-in-time assessments between 2026-12-04 02:00 UTC and 2026-12-04 05:00 UTC, one per cloud account (the latest report in the period)"},
		{[]time.Time{to}, "(the platform's latest report when the pack was made; it lies outside the period 2026-12-04 00:00 UTC to 2026-12-05 00:00 UTC)"},
		{[]time.Time{from.Add(-time.Minute), from.Add(time.Hour)}, "lies outside the period"},
	} {
		f := &fwSummary{Accounts: map[string]*acctSummary{}}
		for i, at := range tc.times {
			f.Accounts[string(rune('a'+i))] = &acctSummary{AssessedAt: at}
		}
		if got := f.assessment(from, to); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %s, want %q", tc.times, got, tc.want)
		}
	}
}
