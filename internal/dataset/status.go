package dataset

import (
	"cmp"
	"strings"
)

// Status is a control's result, spelled as Lacework's reports spell it
// (the controls table's status column); every source maps its own onto
// these.
type Status string

// The control statuses.
const (
	Compliant      Status = "Compliant"
	NonCompliant   Status = "NonCompliant"
	Suppressed     Status = "Suppressed"     // failing, with every failure excepted (suppressed, risk accepted)
	CouldNotAssess Status = "CouldNotAssess" // the platform could not evaluate it
	Manual         Status = "RequiresManualAssessment"
)

// Statuses lists the control statuses in display order.
func Statuses() []Status {
	return []Status{Compliant, NonCompliant, Suppressed, CouldNotAssess, Manual}
}

// Label is the status as a reader expects it.
func (s Status) Label() string {
	switch s {
	case NonCompliant:
		return "Non-compliant"
	case CouldNotAssess:
		return "Could not assess"
	case Manual:
		return "Manual"
	}
	return string(s)
}

// Compliance is the compliance percentage of controls counted by status:
// compliant / (compliant + non-compliant), in percent. Suppressed, manual
// and not-assessable controls are left out, as the platforms' own reports
// do. ok is false when nothing was assessed compliant or non-compliant.
// Every figure called "compliance" (a daily pack's PDFs and workbooks, the
// period report) is this function's.
func Compliance(status map[Status]int64) (pct float64, ok bool) {
	c, n := status[Compliant], status[NonCompliant]
	if c+n == 0 {
		return 0, false
	}
	return 100 * float64(c) / float64(c+n), true
}

// CompareIDs orders control and requirement ids naturally, runs of digits
// by their value ("1.2" before "1.10", "lacework-global-2" before
// "-10"); ids equal by value ("01", "1") then by their text.
func CompareIDs(a, b string) int {
	x, y := a, b
	for x != "" && y != "" {
		dx, dy := digitRun(x), digitRun(y)
		if dx > 0 && dy > 0 {
			nx, ny := strings.TrimLeft(x[:dx], "0"), strings.TrimLeft(y[:dy], "0")
			if c := cmp.Or(cmp.Compare(len(nx), len(ny)), cmp.Compare(nx, ny)); c != 0 {
				return c
			}
			x, y = x[dx:], y[dy:]
			continue
		}
		if x[0] != y[0] {
			return cmp.Compare(x[0], y[0])
		}
		x, y = x[1:], y[1:]
	}
	return cmp.Or(cmp.Compare(len(x), len(y)), cmp.Compare(a, b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
