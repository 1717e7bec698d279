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
// newest pack in the day's folder. A day without a pack of its own takes
// a pack whose period covers the whole day among others (run --from A
// --to B, a weekly run, a catch-up): of the period folders that name the
// day, the shortest period, then the one that starts latest. Such a pack
// was assessed once: it is the evidence of each day it covers, and the
// report shows its period and its assessment times (the controls'
// report_time) beside every such day, never a daily assessment that did
// not happen. The packs passed over for a day are listed with it.
//
// The choice is made from the folders alone: a chosen pack that is gone,
// whose manifest.json is not the one latest.json recorded, or whose
// controls files do not match their manifest's SHA-256 and size makes the
// day a gap, with the reason, and no other pack takes its place: every
// figure comes from files that match the manifest the population lists.
// A chosen pack whose manifest's period does not cover the whole day
// (a period given as times) is not the day's: the next one is tried.
//
// # Frameworks
//
// A framework is dataset.FrameworkKey: its name and, for a platform that
// defines each framework for one cloud (Lacework), its cloud, as the
// controls rows record them. Two frameworks of one name are two series,
// named with their clouds. The sub-account is not part of it: the daily
// pack's figure of a framework is over every sub-account, and the
// report's is the same figure.
//
// # Memory
//
// The report holds a few numbers per framework per day and one small
// record per control (counts and first/last failing day), never rows:
// each day's controls table is read as a stream, folded into those, and
// dropped before the next day is read. A pack of several days is kept
// folded (its counts, not its rows) until the days pass its end. A year
// of daily packs costs a few megabytes more than a quarter
// (internal/bench, BenchmarkPeriodReport, measures both).
//
// # Figures
//
// Compliance is dataset.Compliance of the day's controls counted by
// status over every cloud account and sub-account of the framework: the
// daily pack's own figure. A control is one framework's control on one
// cloud account of one sub-account of one framework; failing means
// NonCompliant, as in drift.
package periodreport
