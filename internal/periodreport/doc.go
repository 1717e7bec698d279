// Package periodreport makes the period report (evidence report): from a
// tenant's published daily packs of a range of UTC days, and from nothing
// else (their manifests and controls tables; never an API), a report pack
// with compliance per framework per day (days without a pack are gaps),
// the controls that failed at some time in the range, the daily packs read
// (the population, each with its manifest's SHA-256) and, when asked, a
// reproducible random sample of days.
//
// # Which pack of a day
//
// A day's pack is the one its period's latest.json names (job.Latest: the
// newest, a rerun supersedes), or, where no latest.json was kept, the
// newest pack in the day's folder. Only one-day packs are read: a pack of
// a longer period (run --from A --to B) is no day's pack. A day whose
// pack is gone, whose manifest.json is not the one latest.json recorded,
// or whose controls files do not match their manifest's SHA-256 and size
// is a gap, with the reason: every figure comes from files that match the
// manifest the population lists.
//
// # Memory
//
// The report holds a few numbers per framework per day and one small
// record per control (counts and first/last failing day), never rows:
// each day's controls table is read as a stream, folded into those, and
// dropped before the next day is read. A year of daily packs costs a few
// megabytes more than a day (internal/bench, BenchmarkPeriodReport).
//
// # Figures
//
// Compliance is dataset.Compliance of the day's controls counted by
// status over every cloud account and sub-account of the framework: the
// daily pack's own figure. A control is one framework's control on one
// cloud account of one sub-account (internal/drift's key); failing means
// NonCompliant, as in drift.
package periodreport
