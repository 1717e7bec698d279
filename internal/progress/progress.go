// Package progress shows a run on a terminal: one line per tenant, each
// fitted to the terminal's width (names shortened, fields dropped from the
// right, never wrapped), redrawn in place; warnings and errors print above
// the lines as readable sentences (Handler). It writes nothing but what a
// terminal needs: carriage return, line feed, cursor up, erase line and
// erase to the end of the screen.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rivo/uniseg"
)

// redrawEvery throttles redraws caused by counters; a tenant starting or
// finishing, and a message, redraw at once.
const redrawEvery = 100 * time.Millisecond

// Screen is the progress display. It is safe for concurrent use.
type Screen struct {
	mu      sync.Mutex
	w       io.Writer
	width   func() int
	now     func() time.Time
	tenants []*tenant
	drawn   int       // lines of the block on the screen
	last    time.Time // of the last draw
}

type tenant struct {
	name         string
	units        int
	done, failed int
	rows         int64
	current      string // the last unit done
	start, end   time.Time
	finished     bool
	stopped      string // why it finished before all its units, if it did
}

// New returns a Screen writing to w. width gives the terminal's columns
// (asked at every draw, so a resized window is followed; <= 0 means 80);
// now is the clock.
func New(w io.Writer, width func() int, now func() time.Time) *Screen {
	if now == nil {
		now = time.Now
	}
	if width == nil {
		width = func() int { return 80 }
	}
	return &Screen{w: w, width: width, now: now}
}

func (s *Screen) get(name string) *tenant {
	for _, t := range s.tenants {
		if t.name == name {
			return t
		}
	}
	t := &tenant{name: name, start: s.now()}
	s.tenants = append(s.tenants, t)
	return t
}

// Start announces a tenant's run and its number of units.
func (s *Screen) Start(tenant string, units int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.get(tenant)
	t.units, t.start = units, s.now()
	s.draw(true)
}

// UnitDone counts one unit of the tenant, ok false when it failed.
func (s *Screen) UnitDone(tenant, unit string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.get(tenant)
	t.done++
	if !ok {
		t.failed++
	}
	t.current = unit
	s.draw(false)
}

// Rows counts n more rows of the tenant.
func (s *Screen) Rows(tenant string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.get(tenant).rows += n
	s.draw(false)
}

// Finish ends the tenant's line. A tenant finished before all its units
// were done says why (stopped, e.g. "stopped at the deadline"; "" when
// every unit was done).
func (s *Screen) Finish(tenant, stopped string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.get(tenant)
	t.finished, t.end, t.stopped = true, s.now(), stopped
	if stopped == "" && t.done < t.units {
		t.stopped = fmt.Sprintf("%d of %d units not run", t.units-t.done, t.units)
	}
	s.draw(true)
}

// Print writes line above the progress lines, which are drawn again
// below it.
func (s *Screen) Print(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The block is erased (to the end of the screen), the message written
	// where it was, and the block drawn again below it.
	var b strings.Builder
	if s.drawn > 0 {
		fmt.Fprintf(&b, "\r\x1b[%dA\x1b[J", s.drawn)
	}
	for _, l := range strings.Split(strings.TrimRight(line, "\n"), "\n") {
		for _, part := range wrap(l, s.cols()-1) {
			b.WriteString(part)
			b.WriteString("\n")
		}
	}
	s.drawn = 0
	io.WriteString(s.w, b.String())
	s.draw(true)
}

// Close draws the lines a last time and leaves them on the screen: what
// follows prints below them, and a later Start begins new lines (the
// scheduler's next run).
func (s *Screen) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draw(true)
	s.tenants, s.drawn = nil, 0
}

// cols is the terminal's width now.
func (s *Screen) cols() int {
	if c := s.width(); c > 0 {
		return c
	}
	return 80
}

func (s *Screen) draw(force bool) {
	if len(s.tenants) == 0 {
		return
	}
	now := s.now()
	if !force && now.Sub(s.last) < redrawEvery {
		return
	}
	s.last = now
	cols := s.cols()
	var b strings.Builder
	if s.drawn > 0 {
		fmt.Fprintf(&b, "\r\x1b[%dA", s.drawn)
	}
	for _, t := range s.tenants {
		b.WriteString("\x1b[2K")
		// One column less than the terminal's: writing the last column
		// makes some terminals wrap at once.
		b.WriteString(t.line(cols-1, now))
		b.WriteString("\n")
	}
	s.drawn = len(s.tenants)
	io.WriteString(s.w, b.String())
}

// line is the tenant's line in at most cols columns: name, bar, percent,
// units, rows, time, and the last unit or the outcome, the later fields
// left out when they do not fit.
func (t *tenant) line(cols int, now time.Time) string {
	pct := 0
	if t.units > 0 {
		pct = 100 * t.done / t.units
	}
	if t.units == 0 && t.finished {
		pct = 100
	}
	elapsed := now.Sub(t.start)
	if t.finished {
		elapsed = t.end.Sub(t.start)
	}
	nameW := min(24, max(8, cols/5))
	barW := min(30, max(10, cols/6))
	fields := []string{
		fit(t.name, nameW) + strings.Repeat(" ", nameW-uniseg.StringWidth(fit(t.name, nameW))),
		bar(pct, barW),
		fmt.Sprintf("%3d%%", pct),
		fmt.Sprintf("%d/%s", t.done, plural(t.units, "unit")),
	}
	if t.failed > 0 {
		fields = append(fields, fmt.Sprintf("%d failed", t.failed))
	}
	fields = append(fields, plural64(t.rows, "row"), elapsed.Round(time.Second).String())
	switch {
	case t.finished && t.stopped != "":
		fields = append(fields, t.stopped)
	case t.finished:
		fields = append(fields, "done")
	case t.current != "":
		fields = append(fields, t.current)
	}
	var b strings.Builder
	used := 0
	for i, f := range fields {
		w := uniseg.StringWidth(f)
		sep := 0
		if i > 0 {
			sep = 2
		}
		if used+sep+w > cols {
			// The last field (a unit's name, the outcome) is shortened to
			// fit; the others are whole or left out.
			if i == len(fields)-1 && cols-used-sep >= 8 {
				b.WriteString("  ")
				b.WriteString(fit(f, cols-used-sep))
			}
			break
		}
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(f)
		used += sep + w
	}
	return b.String()
}

// wrap cuts a message into lines of at most w columns at spaces (a word
// longer than a line is cut too), the lines after the first indented by
// two.
func wrap(s string, w int) []string {
	w = max(w, 10)
	var out []string
	var line strings.Builder
	used := 0
	for _, f := range strings.Fields(s) {
		for _, word := range chunks(f, w-2) {
			ww := uniseg.StringWidth(word)
			if used > 0 && used+1+ww > w {
				out = append(out, line.String())
				line.Reset()
				line.WriteString(" ") // with the space below: an indent of two
				used = 1
			}
			if used > 0 {
				line.WriteString(" ")
				used++
			}
			line.WriteString(word)
			used += ww
		}
	}
	return append(out, line.String())
}

// chunks cuts s into pieces of at most w columns.
func chunks(s string, w int) []string {
	var out []string
	var b strings.Builder
	used := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		if used+g.Width() > w && used > 0 {
			out = append(out, b.String())
			b.Reset()
			used = 0
		}
		b.WriteString(g.Str())
		used += g.Width()
	}
	return append(out, b.String())
}

func bar(pct, w int) string {
	inner := w - 2
	full := inner * pct / 100
	return "[" + strings.Repeat("=", full) + strings.Repeat(" ", inner-full) + "]"
}

// fit shortens s to at most w columns, ending it with "…" when cut.
func fit(s string, w int) string {
	if uniseg.StringWidth(s) <= w {
		return s
	}
	var b strings.Builder
	used := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		cw := g.Width()
		if used+cw > w-1 {
			break
		}
		b.WriteString(g.Str())
		used += cw
	}
	b.WriteString("…")
	return b.String()
}

func plural(n int, word string) string { return plural64(int64(n), word) }

func plural64(n int64, word string) string {
	s := group(n) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}

// group writes n with thousands separators (12,345).
func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
