package dataset

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
