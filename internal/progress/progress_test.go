package progress

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata")

// term is a terminal as far as the Screen uses one: printable text, CR, LF
// (the tty's ONLCR makes it CR LF), cursor up (ESC [ n A) and erase line
// (ESC [ 2 K), erase to the end of the screen (ESC [ J), on a screen cols wide that wraps a line written past its
// last column, as terminals do. It keeps every line (scrollback included)
// and counts wraps and sequences it does not know.
type term struct {
	cols      int
	lines     [][]string // cells: one grapheme, or "" for the right half of a wide one
	row, col  int
	wraps     int
	unknown   []string
	maxCursor int
}

func newTerm(cols int) *term { return &term{cols: cols, lines: [][]string{nil}} }

func (t *term) Write(p []byte) (int, error) {
	s := string(p)
	for s != "" {
		switch {
		case s[0] == '\r':
			t.col, s = 0, s[1:]
		case s[0] == '\n':
			t.row, t.col, s = t.row+1, 0, s[1:]
			for len(t.lines) <= t.row {
				t.lines = append(t.lines, nil)
			}
		case strings.HasPrefix(s, "\x1b["):
			end := strings.IndexAny(s[2:], "ABCDEFGHJKm")
			if end < 0 {
				t.unknown = append(t.unknown, strconv.Quote(s))
				return len(p), nil
			}
			arg, cmd := s[2:2+end], s[2+end]
			s = s[3+end:]
			switch {
			case cmd == 'A':
				n, _ := strconv.Atoi(arg)
				t.row = max(0, t.row-max(n, 1))
			case cmd == 'K' && arg == "2":
				t.lines[t.row] = nil
			case cmd == 'J' && arg == "":
				t.lines[t.row] = t.lines[t.row][:min(t.col, len(t.lines[t.row]))]
				for i := t.row + 1; i < len(t.lines); i++ {
					t.lines[i] = nil
				}
			default:
				t.unknown = append(t.unknown, strconv.Quote("\x1b["+arg+string(cmd)))
			}
		default:
			g := uniseg.NewGraphemes(s)
			g.Next()
			cl, w := g.Str(), g.Width()
			s = s[len(cl):]
			if t.col+w > t.cols {
				t.wraps++
				t.row, t.col = t.row+1, 0
				for len(t.lines) <= t.row {
					t.lines = append(t.lines, nil)
				}
			}
			line := t.lines[t.row]
			for len(line) < t.col+w {
				line = append(line, " ")
			}
			line[t.col] = cl
			for i := 1; i < w; i++ {
				line[t.col+i] = ""
			}
			t.lines[t.row] = line
			t.col += w
		}
	}
	return len(p), nil
}

// screen is what a person sees: the lines, trailing blanks removed.
func (t *term) screen() string {
	var out []string
	for _, l := range t.lines {
		out = append(out, strings.TrimRight(strings.Join(l, ""), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n") + "\n"
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)} }
func fixed(cols int) func() int          { return func() int { return cols } }
func unitName(i int) string {
	return fmt.Sprintf("report AWS CIS Benchmark 1.4.0 acme-prod AWS:%012d with a long tail", i)
}
func startAll(s *Screen, names []string, n []int) {
	for i, name := range names {
		s.Start(name, n[i])
	}
}

// A run of three tenants at 80 and 160 columns: one line per tenant, each
// within the width (no wrap, no junk line left behind), counters per
// tenant, finished bars at 100 % or saying why not; the screens match
// testdata (go test -update rewrites them after a deliberate change).
func TestScreens(t *testing.T) {
	names := []string{"acme", "a-tenant-with-a-name-far-too-long-for-any-column", "東京-production"}
	for _, cols := range []int{80, 160} {
		t.Run(strconv.Itoa(cols), func(t *testing.T) {
			tm, c := newTerm(cols), newClock()
			s := New(tm, fixed(cols), c.now)
			startAll(s, names, []int{5, 3, 1})
			for i := range 5 {
				c.advance(time.Second)
				s.UnitDone("acme", unitName(i), i != 3)
				s.Rows("acme", 1234)
				if i < 2 {
					s.UnitDone(names[1], unitName(100+i), true)
					s.Rows(names[1], 10)
				}
			}
			s.Print("warning: acme: AwsCfg integration \"aws-config-acme-prod-legacy\" is disabled in Lacework (unit: inventory AWS)")
			s.Finish("acme", "")
			s.Finish(names[1], "stopped at the deadline (--timeout 2h)")
			s.UnitDone(names[2], unitName(7), true)
			s.Finish(names[2], "")
			s.Close()
			if tm.wraps != 0 || len(tm.unknown) > 0 {
				t.Errorf("%d wrapped lines, unknown sequences %v", tm.wraps, tm.unknown)
			}
			got := tm.screen()
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			lines = lines[len(lines)-len(names):]
			if !strings.HasPrefix(got, "warning: acme: AwsCfg") || strings.Contains(got, "\n  ") != (cols == 80) {
				t.Errorf("the warning is not above the lines, or not wrapped at spaces as the width needs:\n%s", got)
			}
			for i, l := range lines {
				if w := uniseg.StringWidth(l); w > cols-1 {
					t.Errorf("line %d is %d columns wide, want at most %d", i+1, w, cols-1)
				}
			}
			for _, want := range []string{"100%  5/5 units  1 failed  6,170 rows", "66%  2/3 units  20 rows", "100%  1/1 unit  0 rows"} {
				if !strings.Contains(got, want) {
					t.Errorf("screen lacks %q:\n%s", want, got)
				}
			}
			if cols == 160 && !strings.Contains(got, "stopped at the deadline") {
				t.Errorf("the stopped tenant does not say why:\n%s", got)
			}
			golden := filepath.Join("testdata", fmt.Sprintf("screen-%d.txt", cols))
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("screen at %d columns:\n%s\nwant (%s):\n%s", cols, got, golden, want)
			}
		})
	}
}

// Counters redraw at most every redrawEvery; starting and finishing at
// once. A narrow terminal still gets no wrapped line.
func TestRedrawThrottleAndNarrowTerminal(t *testing.T) {
	var buf bytes.Buffer
	c := newClock()
	s := New(&buf, fixed(40), c.now)
	s.Start("acme", 1000)
	n := buf.Len()
	for i := range 50 {
		s.UnitDone("acme", unitName(i), true)
	}
	if buf.Len() != n {
		t.Fatalf("redrawn %d bytes within %s", buf.Len()-n, redrawEvery)
	}
	c.advance(redrawEvery)
	s.Rows("acme", 1)
	if buf.Len() == n {
		t.Fatal("not redrawn after the throttle")
	}
	tm := newTerm(40)
	tm.Write(buf.Bytes())
	if tm.wraps != 0 {
		t.Errorf("%d wraps at 40 columns:\n%s", tm.wraps, tm.screen())
	}
}

// A finished tenant that did not run all its units says how many, even
// when no reason was given.
// After Close the lines stay; a message prints below them and a new run
// starts new lines.
func TestCloseLeavesTheLines(t *testing.T) {
	tm, c := newTerm(100), newClock()
	s := New(tm, fixed(100), c.now)
	s.Start("acme", 1)
	s.UnitDone("acme", "u1", true)
	s.Finish("acme", "")
	s.Close()
	s.Print("Pack for acme written to out/acme")
	s.Start("acme", 2)
	s.Close()
	lines := strings.Split(strings.TrimSpace(tm.screen()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "100%") || !strings.HasPrefix(lines[1], "Pack for acme") || !strings.Contains(lines[2], "0/2 units") {
		t.Errorf("screen:\n%s", tm.screen())
	}
}

func TestFinishSaysWhyNot100(t *testing.T) {
	tm, c := newTerm(120), newClock()
	s := New(tm, fixed(120), c.now)
	s.Start("acme", 4)
	s.UnitDone("acme", "u1", true)
	s.Finish("acme", "")
	if got := tm.screen(); !strings.Contains(got, " 25%") || !strings.Contains(got, "3 of 4 units not run") {
		t.Errorf("screen:\n%s", got)
	}
}

func TestHandler(t *testing.T) {
	tm := newTerm(200)
	s := New(tm, fixed(200), nil)
	log := slog.New(NewHandler(s, slog.LevelWarn)).With("run_id", "20261205T0900Z-abc", "tenant", "acme", "source", "lacework")
	log.Info("unit done", "rows", 3)
	log.Warn("dataset not available", "dataset", "audit_logs", "reason", "the platform has no audit log")
	log.Error("unit failed", "unit", "inventory AWS", "err", "403 Forbidden")
	want := "warning: acme: dataset not available (dataset: audit_logs, reason: the platform has no audit log)\n" +
		"error: acme: unit failed (unit: inventory AWS, err: 403 Forbidden)\n"
	if got := tm.screen(); got != want {
		t.Errorf("screen:\n%s\nwant:\n%s", got, want)
	}
	if !log.Handler().Enabled(context.Background(), slog.LevelWarn) || log.Handler().Enabled(context.Background(), slog.LevelInfo) {
		t.Error("levels")
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s    string
		w    int
		want []string
	}{
		{"a short line", 20, []string{"a short line"}},
		{"warning: acme: the integration is disabled", 20, []string{"warning: acme: the", "  integration is", "  disabled"}},
		{"x https://acme.lacework.net/api/v2/Reports?format=json", 20, []string{"x https://acme.lacew", "  ork.net/api/v2/Rep", "  orts?format=json"}},
	} {
		got := wrap(tc.s, tc.w)
		if !slices.Equal(got, tc.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.want)
		}
		for _, l := range got {
			if uniseg.StringWidth(l) > tc.w {
				t.Errorf("%q is wider than %d", l, tc.w)
			}
		}
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		s    string
		w    int
		want string
	}{
		{"acme", 8, "acme"},
		{"acme-production", 8, "acme-pr…"},
		{"東京-production", 6, "東京-…"},
		{"東京", 3, "東…"},
	} {
		if got := fit(tc.s, tc.w); got != tc.want || uniseg.StringWidth(got) > tc.w {
			t.Errorf("fit(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.want)
		}
	}
	if plural(1, "unit") != "1 unit" || plural64(12345, "row") != "12,345 rows" {
		t.Error("plural")
	}
}
