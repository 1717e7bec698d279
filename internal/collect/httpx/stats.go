package httpx

import "time"

// QueryStats count what one query did: the requests behind a unit's rows,
// for the pack's manifest. Every client's pager fills the caller's
// QueryStats as it runs (read them after the loop ends); the fields a
// client has no use for stay zero.
type QueryStats struct {
	Pages   int // pages received
	Rows    int // rows yielded
	Queries int // result sets started (windows, lookups, re-queries after a split)
	Splits  int // result sets dropped at a row cap and re-queried in parts
	// Announced sums the rows the API announced for the result sets kept
	// (totalRows, totalCount, …). It is the API's own count of the query
	// only when HasAnnounced: every result set kept announced its size.
	// Rows received short of it fail the unit; the manifest records both.
	Announced    int
	HasAnnounced bool
	// Unannounced counts the result sets kept that announced no size
	// (answers without paging), whose size only their rows tell.
	Unannounced int
	// Total is what the result sets kept hold as far as known when each
	// started: its announced size, else the rows its first page listed. A
	// plan's probe, which stops after the first row, reads it.
	Total int
	// Dropped counts rows the API sent outside what was asked for (events
	// outside the window), not yielded.
	Dropped int
	// Lookups counts per-item lookups (an (app, user) pair each).
	Lookups int
	// EmptyVerified: the query answered nothing, and a check past it
	// showed that the server reads the query's parameters, so the answer
	// is a real "nothing", not a misread query.
	EmptyVerified bool
	// Parts are the result sets kept, in order: the manifest lists each
	// window's rows (and count, when announced).
	Parts []Part
}

// Part is one result set of a query: its window (and filter, when it is a
// part of a split), the rows it delivered and what the API announced.
type Part struct {
	From, To     time.Time
	Filter       string
	Rows         int
	Announced    int
	HasAnnounced bool
}
