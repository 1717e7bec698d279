package job

// Progress hears about the run as it goes; the command line shows it on a
// terminal, or logs it. Implementations must be safe for concurrent use.
type Progress interface {
	// Start announces the number of units of a tenant's run.
	Start(tenant string, units int)
	// UnitDone is called once per unit, ok false when it failed.
	UnitDone(unit string, ok bool)
	// Rows reports rows written (a delta).
	Rows(n int64)
}

type nopProgress struct{}

func (nopProgress) Start(string, int)     {}
func (nopProgress) UnitDone(string, bool) {}
func (nopProgress) Rows(int64)            {}
