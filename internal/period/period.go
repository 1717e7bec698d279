// Package period owns the program's one time-range type: the period a
// pack covers, the audit window, and every query window a source cuts
// from them. Config parses it, the scheduler and the job pass it on, and
// each source reads it; no API client's type stands in for it.
package period

import (
	"fmt"
	"time"
)

// Window is a half-open time range [From, To).
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// String is "from/to" in RFC 3339, UTC.
func (w Window) String() string {
	return w.From.UTC().Format(time.RFC3339Nano) + "/" + w.To.UTC().Format(time.RFC3339Nano)
}

// Empty says whether the window holds no instant.
func (w Window) Empty() bool { return !w.From.Before(w.To) }

// Split cuts w into consecutive windows of at most max (all of w when max
// <= 0; none when w is empty).
func (w Window) Split(max time.Duration) []Window {
	if w.Empty() {
		return nil
	}
	if max <= 0 {
		return []Window{w}
	}
	var out []Window
	for from := w.From; from.Before(w.To); from = from.Add(max) {
		out = append(out, Window{From: from, To: earlier(from.Add(max), w.To)})
	}
	return out
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Parse reads --from/--to: dates (2026-11-21, the whole UTC day) or RFC
// 3339 times. A date as --to means the end of that day. With neither set,
// the period is the previous UTC day; with only --from, it runs to the end
// of from's day when from is a date, else to now.
func Parse(from, to string, now time.Time) (Window, error) {
	now = now.UTC()
	today := now.Truncate(24 * time.Hour)
	if from == "" && to == "" {
		return Window{From: today.Add(-24 * time.Hour), To: today}, nil
	}
	var w Window
	var fromIsDate bool
	var err error
	if from != "" {
		if w.From, fromIsDate, err = parseWhen(from); err != nil {
			return w, fmt.Errorf("--from: %w", err)
		}
	}
	switch {
	case to != "":
		t, isDate, err := parseWhen(to)
		if err != nil {
			return w, fmt.Errorf("--to: %w", err)
		}
		if isDate {
			t = t.Add(24 * time.Hour)
		}
		w.To = t
	case fromIsDate:
		w.To = w.From.Add(24 * time.Hour)
	default:
		w.To = now
	}
	if from == "" {
		w.From = w.To.Add(-24 * time.Hour)
	}
	if w.Empty() {
		return w, fmt.Errorf("period %s to %s is empty: --from must be before --to", w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	}
	return w, nil
}

func parseWhen(s string) (time.Time, bool, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is neither a date (2026-11-21) nor an RFC 3339 time (2026-11-21T00:00:00Z)", s)
}
