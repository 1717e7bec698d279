package dataset

// The period report's tables (evidence report): built from the daily
// packs of a range, they are a report pack's tables, never a daily pack's,
// and so are not in All (the lake and the daily packs' DuckDB views hold
// daily tables only).
const (
	ReportDays     = "report_days"     // a tenant's days: the population of daily packs, and gaps
	ReportDaily    = "report_daily"    // compliance per framework per day
	ReportControls = "report_controls" // controls that failed at any time in the period
)

// ReportTables returns the period report's tables, in the order of its
// workbook's sheets.
func ReportTables() []Table {
	return []Table{ReportDailyTable(), ReportControlsTable(), ReportDaysTable()}
}

const frameworkCloudDoc = "with framework, what identifies the framework: its cloud, for a platform that defines each framework for one cloud (Lacework report definitions); null for a framework that spans clouds (FrameworkKey)"

func reportScope() []Column {
	return []Column{
		col("source", "Source", str, "platform the daily packs' evidence came from: lacework, sophos, ibm_scc, lacework_edge"),
		col("tenant", "Tenant", str, "tenant as configured"),
	}
}

// ReportDaysTable: one row per UTC day of the report's range: the daily
// pack the report read for it (the population an auditor samples), or
// why there is none.
func ReportDaysTable() Table {
	return Table{Name: ReportDays, Title: "Daily packs", Columns: append(reportScope(),
		col("day", "Day (UTC)", tim, "the UTC day, at 00:00"),
		col("pack_id", "Pack", str, "the pack the day's figures come from: the day's own newest pack (its period's latest.json names it), or, for a day without one, the pack of a longer period that covers the day (shortest period first, then the latest start); null for a gap"),
		col("pack_path", "Pack path", str, "the pack's key under the output the report read (<tenant>/<period>/<run-id>)"),
		col("period_from", "Pack period from", tim, "the start of the pack's period (manifest period.from)"),
		col("period_to", "Pack period to", tim, "the end of the pack's period, exclusive (manifest period.to): a pack whose period spans several days is the evidence of each of them, and holds one assessment, not one per day"),
		col("pack_days", "Days the pack covers", num, "whole UTC days of the pack's period: 1 for a daily pack"),
		col("assessed_first", "Assessed from", tim, "the earliest time the platform assessed an account in the pack (its controls' report_time); null when none is recorded"),
		col("assessed_last", "Assessed to", tim, "the latest such time"),
		col("manifest_sha256", "manifest.json SHA-256", str, "SHA-256 of the pack's manifest.json, which lists the SHA-256 of every file of the pack"),
		col("generated_at", "Published (UTC)", tim, "when the pack was published (manifest generated_at)"),
		col("signed_by", "Signed by", str, "the key fingerprint the manifest names (sha256:…); null when unsigned"),
		col("replaces", "Replaces", str, "the pack of the same period this one supersedes (a rerun); null when none"),
		col("failed_units", "Failed units", num, "units that failed in the pack's run (manifest failures): its figures are partial"),
		col("gap", "Gap", str, "null for a day with a pack; else why there is none (no pack, or the chosen pack is gone or does not verify)"),
		text("passed_over", "Also covering, not read", "the other packs (keys) whose period folder names the day, after the one read in the order of preference; null when none"),
		col("sample_order", "Sample order", num, "with --sample: the day's position (1, 2, …) in the draw; null when not drawn"),
		rowID(),
	)}
}

// ReportDailyTable: one row per framework and UTC day of the range.
func ReportDailyTable() Table {
	return Table{Name: ReportDaily, Title: "Compliance per day", Columns: append(reportScope(),
		col("framework", "Framework", str, "compliance framework (report name)"),
		col("framework_cloud", "Framework cloud", str, frameworkCloudDoc),
		col("day", "Day (UTC)", tim, "the UTC day, at 00:00"),
		col("pack_id", "Pack", str, "the day's pack the figures come from (report_days says which and why); null for a gap"),
		col("pack_days", "Days the pack covers", num, "whole UTC days of that pack's period: 1 for the day's own pack; more for a pack of several days, whose figures are then the same for each day it covers"),
		col("compliant", "Compliant", num, "controls Compliant that day, over every cloud account and sub-account (controls table rows)"),
		col("non_compliant", "Non-compliant", num, "controls NonCompliant that day"),
		col("other", "Other", num, "controls with another status (Suppressed, CouldNotAssess, RequiresManualAssessment)"),
		Column{Name: "compliance_pct", Title: "Compliance %", Kind: Float, Percent: true,
			Doc: "compliant / (compliant + non-compliant) × 100, as the daily pack computes it; null for a gap or when none was assessed"},
		col("partial", "Partial", boo, "some of the framework's reports failed in the run of that day's pack: the figures cover the others only (the manifest names a failed report's framework by name: of two frameworks of one name, both are marked)"),
		col("gap", "Gap", boo, "true when the day has no pack: nothing is known of it"),
		rowID(),
	)}
}

// ReportControlsTable: one row per control (of one cloud account) that
// was NonCompliant in at least one daily pack of the range.
func ReportControlsTable() Table {
	return Table{Name: ReportControls, Title: "Controls that failed", Columns: append(reportScope(),
		col("sub_account", "Sub-account", str, "scope inside the tenant"),
		col("framework", "Framework", str, "compliance framework (report name)"),
		col("framework_cloud", "Framework cloud", str, frameworkCloudDoc),
		col("account_id", "Cloud account", str, "AWS account, Azure subscription, GCP project, cluster (IBM SCC: the zone)"),
		col("control_id", "Control", str, "control / recommendation id"),
		col("title", "Title", str, "control title (as the last pack that held the control has it)"),
		col("severity", "Severity", str, "Critical, High, Medium, Low, Info"),
		col("first_failed", "First failed (UTC)", tim, "the first day of the range whose pack has the control NonCompliant"),
		col("last_failed", "Last failed (UTC)", tim, "the last such day"),
		col("days_failing", "Days failing", num, "days whose pack has the control NonCompliant (a pack of several days counts for each day it covers)"),
		col("days_assessed", "Days in a pack", num, "days whose pack has the control, whatever its status"),
		col("whole_period", "Failed every day", boo, "NonCompliant in the pack of every day of the range that has one (days without a pack are unknown, and counted in no figure)"),
		rowID(),
	)}
}

// FrameworkKey identifies a framework from what a controls row records,
// the same in every pack: its name (the framework column) and, for a
// platform that defines each framework for one cloud (FrameworkPerCloud),
// its cloud (the cloud column). Two frameworks of one name are then two
// frameworks: Lacework can have a "SOC 2" report definition for AWS and
// another for Azure, which a daily pack keeps apart (two framework
// folders) and whose rows differ only in their cloud.
type FrameworkKey struct {
	Name  string
	Cloud string // "" for a framework that spans clouds
}

// FrameworkOf is the framework a controls row belongs to: its source,
// framework and cloud columns.
func FrameworkOf(source, framework, cloud string) FrameworkKey {
	if !FrameworkPerCloud(source) {
		cloud = ""
	}
	return FrameworkKey{Name: framework, Cloud: cloud}
}

// FrameworkPerCloud reports whether the platform source (the rows' source
// column) defines each framework for one cloud: Lacework, whose report
// definitions each have one subReportType (AWS, Azure, GCP), so that a
// framework is its reportName and cloud, and every controls row of it has
// that cloud. Sophos Cloud Optix policy tags, IBM SCC posture policies and
// Edge's access review span clouds: their rows' cloud is the account's,
// and the name alone is the framework.
func FrameworkPerCloud(source string) bool { return source == "lacework" }
