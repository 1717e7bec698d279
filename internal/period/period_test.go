package period

import (
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name, from, to string
		want           [2]time.Time
		err            bool
	}{
		{"default previous UTC day", "", "", [2]time.Time{day(21), day(22)}, false},
		{"one date", "2026-11-20", "", [2]time.Time{day(20), day(21)}, false},
		{"date range inclusive", "2026-11-01", "2026-11-07", [2]time.Time{day(1), day(8)}, false},
		{"rfc3339", "2026-11-20T06:00:00Z", "2026-11-20T12:00:00+01:00", [2]time.Time{day(20).Add(6 * time.Hour), day(20).Add(11 * time.Hour)}, false},
		{"from time to now", "2026-11-22T00:00:00Z", "", [2]time.Time{day(22), now}, false},
		{"only to", "", "2026-11-20", [2]time.Time{day(20), day(21)}, false},
		{"reversed", "2026-11-20", "2026-11-10", [2]time.Time{}, true},
		{"garbage", "yesterday", "", [2]time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Parse(tc.from, tc.to, now)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if !tc.err && (!w.From.Equal(tc.want[0]) || !w.To.Equal(tc.want[1])) {
				t.Fatalf("got %v, want %v", w, tc.want)
			}
		})
	}
}

func TestWindowSplit(t *testing.T) {
	day := 24 * time.Hour
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		w    Window
		max  time.Duration
		want int
	}{
		{"one day", Window{from, from.Add(day)}, 7 * day, 1},
		{"exactly seven", Window{from, from.Add(7 * day)}, 7 * day, 1},
		{"thirty days", Window{from, from.Add(30 * day)}, 7 * day, 5},
		{"empty", Window{from, from}, 7 * day, 0},
		{"reversed", Window{from.Add(day), from}, 7 * day, 0},
		{"no max", Window{from, from.Add(30 * day)}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.w.Split(tc.max)
			if len(got) != tc.want {
				t.Fatalf("got %d windows, want %d: %v", len(got), tc.want, got)
			}
			// Contiguous, within bounds, none longer than max.
			for i, w := range got {
				if tc.max > 0 && w.To.Sub(w.From) > tc.max {
					t.Errorf("window %d is %s long", i, w.To.Sub(w.From))
				}
				if i > 0 && !got[i-1].To.Equal(w.From) {
					t.Errorf("gap between %v and %v", got[i-1], w)
				}
			}
			if len(got) > 0 && (!got[0].From.Equal(tc.w.From) || !got[len(got)-1].To.Equal(tc.w.To)) {
				t.Errorf("windows %v do not cover %v", got, tc.w)
			}
		})
	}
}
