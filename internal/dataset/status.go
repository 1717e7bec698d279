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
