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
		col("pack_id", "Pack", str, "the day's newest pack (its period's latest.json names it); null for a gap"),
		col("pack_path", "Pack path", str, "the pack's key under the output the report read (<tenant>/<day>/<run-id>)"),
		col("manifest_sha256", "manifest.json SHA-256", str, "SHA-256 of the pack's manifest.json, which lists the SHA-256 of every file of the pack"),
		col("generated_at", "Published (UTC)", tim, "when the pack was published (manifest generated_at)"),
		col("signed_by", "Signed by", str, "the key fingerprint the manifest names (sha256:…); null when unsigned"),
		col("replaces", "Replaces", str, "the pack of the same day this one supersedes (a rerun); null when none"),
		col("failed_units", "Failed units", num, "units that failed in the pack's run (manifest failures): its figures are partial"),
		col("gap", "Gap", str, "null for a day with a pack; else why there is none (no pack, or latest.json names a pack that is gone or does not verify)"),
		col("sample_order", "Sample order", num, "with --sample: the day's position (1, 2, …) in the draw; null when not drawn"),
		rowID(),
	)}
}

// ReportDailyTable: one row per framework and UTC day of the range.
func ReportDailyTable() Table {
	return Table{Name: ReportDaily, Title: "Compliance per day", Columns: append(reportScope(),
		col("framework", "Framework", str, "compliance framework (report name)"),
		col("day", "Day (UTC)", tim, "the UTC day, at 00:00"),
		col("pack_id", "Pack", str, "the day's pack the figures come from; null for a gap"),
		col("compliant", "Compliant", num, "controls Compliant that day, over every cloud account and sub-account (controls table rows)"),
		col("non_compliant", "Non-compliant", num, "controls NonCompliant that day"),
		col("other", "Other", num, "controls with another status (Suppressed, CouldNotAssess, RequiresManualAssessment)"),
		col("compliance_pct", "Compliance %", Float, "compliant / (compliant + non-compliant) × 100, as the daily pack computes it; null for a gap or when none was assessed"),
		col("partial", "Partial", boo, "some of the framework's reports failed in that day's run: the figures cover the others only"),
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
		col("account_id", "Cloud account", str, "AWS account, Azure subscription, GCP project, cluster (IBM SCC: the zone)"),
		col("control_id", "Control", str, "control / recommendation id"),
		col("title", "Title", str, "control title (as the last pack that held the control has it)"),
		col("severity", "Severity", str, "Critical, High, Medium, Low, Info"),
		col("first_failed", "First failed (UTC)", tim, "the first day of the range whose pack has the control NonCompliant"),
		col("last_failed", "Last failed (UTC)", tim, "the last such day"),
		col("days_failing", "Days failing", num, "days whose pack has the control NonCompliant"),
		col("days_assessed", "Days in a pack", num, "days whose pack has the control, whatever its status"),
		col("whole_period", "Failed every day", boo, "NonCompliant in every daily pack of the range (days without a pack are unknown, and counted in no figure)"),
		rowID(),
	)}
}
