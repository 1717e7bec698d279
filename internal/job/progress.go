package job

// Progress hears about the run as it goes; the command line shows it on a
// terminal (internal/progress), or logs it. Implementations must be safe
// for concurrent use.
type Progress interface {
	// Start announces the number of units of a tenant's run.
	Start(tenant string, units int)
	// UnitDone is called once per unit of the tenant, ok false when it
	// failed.
	UnitDone(tenant, unit string, ok bool)
	// Rows reports rows written for the tenant (a delta).
	Rows(tenant string, n int64)
	// Finish ends the tenant's run; stopped says why it ended before all
	// its units were done ("" when it did not, or does not know).
	Finish(tenant, stopped string)
}

type nopProgress struct{}

func (nopProgress) Start(string, int)             {}
func (nopProgress) UnitDone(string, string, bool) {}
func (nopProgress) Rows(string, int64)            {}
func (nopProgress) Finish(string, string)         {}
