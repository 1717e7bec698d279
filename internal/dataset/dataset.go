// Package dataset defines the pack's tables: one source-independent schema
// per kind of evidence. Every source maps its records onto these columns, so
// a data lake sees the same tables whatever platform the rows came from, and
// the XLSX sheets and Parquet files of a pack always agree.
package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Reports is the dataset of framework reports: the controls and violations
// tables. The other datasets are tables of their own.
const Reports = "reports"

// Names lists the datasets a pack can hold, in pack order: the
// configuration's datasets: and --dataset take these.
func Names() []string { return []string{Reports, Evaluations, Inventory, AuditLogs} }

// Table names; also the Parquet folder names.
const (
	Controls    = "controls"
	Violations  = "violations"
	Evaluations = "evaluations"
	Inventory   = "inventory"
	AuditLogs   = "audit_logs"
	Drift       = "drift" // each pack's changes since the tenant's previous pack
	Exceptions  = "exceptions"
)

const (
	str = String
	num = Int
	tim = Time
	boo = Bool
)

func col(name, title string, k Kind, doc string) Column {
	return Column{Name: name, Title: title, Kind: k, Doc: doc}
}

// text is a free-text column that a sheet wraps (Column.Wrap).
func text(name, title, doc string) Column {
	return Column{Name: name, Title: title, Kind: String, Doc: doc, Wrap: true}
}

// rowID is the last column of every table.
func rowID() Column {
	return text("row_id", "Row id", "stable id of the row: a hash of the fields that identify it, the same in every pack for the same finding, so that a sample can name rows")
}

// RowID is the row_id of a row identified by fields: the first 32 hex
// digits of the SHA-256 of the fields, each length-prefixed so that no two
// different lists collide by concatenation.
func RowID(fields ...string) string {
	var buf [512]byte
	b := buf[:0]
	for _, f := range fields {
		b = appendField(b, f)
	}
	return sumID(b)
}

// The input of a RowID is built in one buffer, on the stack for the usual
// few hundred bytes: a row id is computed for every row of a pack, and
// fmt.Fprintf into a hash per field (and a time formatted as a string of
// its own) cost more allocations per row than the rest of the row.

// appendField appends a field as RowID hashes it: its length, ':', its
// bytes.
func appendField[S string | []byte](b []byte, f S) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	b = append(b, ':')
	return append(b, f...)
}

// appendStamp appends stamp(t) as a field, without making it a string.
func appendStamp(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return appendField(b, "")
	}
	var buf [64]byte
	return appendField(b, t.UTC().AppendFormat(buf[:0], time.RFC3339Nano))
}

// sumID is the row id of an input: the first 32 hex digits of its SHA-256.
func sumID(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

func scope() []Column {
	return []Column{
		col("source", "Source", str, "platform the evidence came from: lacework, sophos, ibm_scc, lacework_edge"),
		col("tenant", "Tenant", str, "tenant as configured (a Lacework organization, a Sophos customer, an IBM SCC instance, an Edge account)"),
		col("sub_account", "Sub-account", str, "scope inside the tenant the rows were read from (Lacework sub-account, SCC instance, Optix customer, Edge account)"),
	}
}

// ControlsTable: one row per control (recommendation) per cloud account and
// framework, from the platform's compliance report.
func ControlsTable() Table {
	return Table{Name: Controls, Title: "Controls", Lead: []string{"control_id", "title", "status", "severity", "requirement_id", "account_id", "account_alias",
		"assessed_resources", "violating_resources", "suppressions", "category", "service", "report_time"}, Columns: append(scope(),
		col("framework", "Framework", str, "compliance framework (report name)"),
		col("cloud", "Cloud", str, "AWS, Azure, GCP, Kubernetes, when the platform says"),
		col("account_id", "Cloud account", str, "what the report covers: AWS account, Azure subscription, GCP project, cluster (IBM SCC: the zone)"),
		col("account_alias", "Account alias", str, "human name of the cloud account, when known"),
		col("report_time", "Report time (UTC)", tim, "when the platform assessed the account (UTC)"),
		col("control_id", "Control", str, "control / recommendation id"),
		text("title", "Title", "control title"),
		text("category", "Section", "framework section or category"),
		col("requirement_id", "Requirement", str, "the framework's own id of the requirement the control belongs to (a CIS section number, a SOC 2 criterion), where the platform gives it: IBM SCC, the number its requirement's name starts with; null for Lacework, Sophos Cloud Optix and Lacework Edge, whose APIs give none"),
		col("service", "Service", str, "cloud service the control checks"),
		col("severity", "Severity", str, "Critical, High, Medium, Low, Info"),
		col("severity_level", "Severity level", num, "1 (Critical) to 5 (Info)"),
		col("status", "Status", str, "Compliant, NonCompliant, Suppressed, CouldNotAssess, RequiresManualAssessment"),
		col("assessed_resources", "Assessed resources", num, "resources the control was evaluated on"),
		col("violating_resources", "Violating resources", num, "resources in violation (rows in the violations table)"),
		text("suppressions", "Suppressions", "suppressions applied, separated by '; '"),
		col("info_link", "Reference", str, "link to the control's documentation"),
		rowID(),
	)}
}

// ViolationsTable: one row per non-compliant resource of a control.
func ViolationsTable() Table {
	return Table{Name: Violations, Title: "Resources", Lead: []string{"control_id", "control_title", "severity", "resource", "region", "reasons",
		"account_id"}, Columns: append(scope(),
		col("framework", "Framework", str, "compliance framework (report name)"),
		col("cloud", "Cloud", str, "AWS, Azure, GCP, Kubernetes, when the platform says"),
		col("account_id", "Cloud account", str, "what the report covers: AWS account, Azure subscription, GCP project, cluster (IBM SCC: the zone)"),
		col("control_id", "Control", str, "control / recommendation id"),
		text("control_title", "Control title", "control title"),
		col("severity", "Severity", str, "Critical, High, Medium, Low, Info"),
		col("region", "Region", str, "resource region"),
		text("resource", "Resource", "resource identifier (ARN, resource id, URN)"),
		text("reasons", "Reasons", "why the resource violates the control, separated by '; '"),
		rowID(),
	)}
}

// EvaluationsTable: one row per compliance evaluation of a resource.
func EvaluationsTable() Table {
	return Table{Name: Evaluations, Title: "Evaluations", Lead: []string{"control_id", "recommendation", "status", "severity", "resource", "reason",
		"account_id", "account_alias", "report_time", "section"}, Columns: append(scope(),
		col("dataset", "Dataset", str, "AwsCompliance, AzureCompliance, GcpCompliance, K8sCompliance"),
		col("account_id", "Cloud account", str, "cloud account, subscription, project or cluster"),
		col("account_alias", "Account alias", str, "human name of the account, when known"),
		col("report_time", "Evaluated at (UTC)", tim, "when the evaluation ran (UTC)"),
		col("control_id", "Control", str, "policy / recommendation id"),
		text("recommendation", "Recommendation", "what the control requires"),
		text("section", "Section", "framework section"),
		col("severity", "Severity", str, "Critical, High, Medium, Low, Info"),
		col("status", "Status", str, "Compliant, NonCompliant, Suppressed, CouldNotAssess, RequiresManualAssessment"),
		text("resource", "Resource", "evaluated resource"),
		text("reason", "Reason", "why the resource is (not) compliant"),
		col("eval_type", "Evaluation type", str, "evaluation type as the platform names it"),
		col("remediation", "Remediation", str, "the remediation trail as the platform records it, as JSON (Sophos: last action and its time, Jira issue, remediation date)"),
		rowID(),
	)}
}

// InventoryTable: one row per cloud resource of the inventory snapshot.
func InventoryTable() Table {
	return Table{Name: Inventory, Title: "Inventory", Lead: []string{"resource_id", "resource_type", "service", "region", "account_id", "account_alias",
		"urn"}, Columns: append(scope(),
		col("csp", "Cloud", str, "AWS, Azure, GCP, Kubernetes (LaceworkEdge for Edge directory objects)"),
		col("account_id", "Cloud account", str, "AWS account, Azure subscription, GCP project or cluster"),
		col("account_alias", "Account alias", str, "human name of the account, when known"),
		text("resource_id", "Resource id", "resource identifier"),
		col("source_key", "Platform key", str, "the platform's own key for the resource (Lacework apiKey)"),
		col("resource_type", "Resource type", str, "e.g. ec2:instance"),
		col("service", "Service", str, "cloud service"),
		col("region", "Region", str, "resource region"),
		text("urn", "URN", "unique resource name (ARN for AWS)"),
		col("collected_from", "Collection start (UTC)", tim, "start of the collection that saw the resource (UTC)"),
		col("collected_to", "Collection end (UTC)", tim, "end of that collection (UTC)"),
		col("collection_status", "Collection status", str, "success or the collector's error"),
		col("collection_details", "Collection details", str, "what the collector recorded with the status, as JSON (Lacework status.props)"),
		col("tags", "Tags", str, "resource tags as JSON"),
		col("config", "Configuration", str, "resource configuration as JSON"),
		rowID(),
	)}
}

// AuditLogsTable: one row per audited action on the platform.
func AuditLogsTable() Table {
	return Table{Name: AuditLogs, Title: "Audit logs", Lead: []string{"created_time", "user_name", "event_name", "user_action", "event_description",
		"account_name"}, Columns: append(scope(),
		col("created_time", "Time (UTC)", tim, "when the action happened (UTC)"),
		col("account_name", "Account", str, "account the action was taken in"),
		col("user_name", "User", str, "who acted"),
		col("event_name", "Event", str, "event name"),
		col("user_action", "Action", str, "action taken"),
		text("event_description", "Description", "event description"),
		rowID(),
	)}
}

// ExceptionsTable: the exception register, one row per failure the
// platform excepts from a control's result (a suppression, an accepted
// risk), with what the platform says of it.
func ExceptionsTable() Table {
	// The lead reads as the register does: what is excepted, why, until
	// when and by whom, before the longer texts; a printed page shows as
	// many of these as fit (internal/reportgen/xlsx).
	return Table{Name: Exceptions, Title: "Exceptions", Lead: []string{"control_id", "resource", "kind", "reason", "expires_at", "expired",
		"created_by", "description", "control_title", "created_at", "account_id"}, Columns: append(scope(),
		col("framework", "Framework", str, "compliance framework (report name)"),
		col("cloud", "Cloud", str, "AWS, Azure, GCP, Kubernetes, when the platform says"),
		col("account_id", "Cloud account", str, "what the report covers: AWS account, Azure subscription, GCP project, cluster (IBM SCC: the zone)"),
		col("control_id", "Control", str, "control / recommendation id"),
		text("control_title", "Control title", "control title"),
		col("kind", "Kind", str, "suppression (Lacework, Sophos Cloud Optix) or risk accepted (IBM Cloud SCC)"),
		text("resource", "Resource", "the resource excepted"),
		text("reason", "Reason", "the reason the platform records (IBM SCC reason or justification; Sophos suppressionType); null when it records none"),
		text("description", "Description", "the platform's description or comment of the exception (IBM SCC description; Sophos Comment)"),
		col("created_by", "By", str, "who made the exception, when the platform says (IBM SCC username)"),
		col("created_at", "Created (UTC)", tim, "when the exception was made, when the platform says"),
		col("expires_at", "Expires (UTC)", tim, "when the exception lapses, when the platform says (IBM SCC expiresAt)"),
		col("expired", "Expired", boo, "true when expires_at is before the end of the pack's period: the exception had lapsed"),
		rowID(),
	)}
}

// Exception is a row of ExceptionsTable.
type Exception struct {
	Framework, Cloud, AccountID, ControlID, ControlTitle string
	Kind, Resource, Reason, Description, By              string
	Created, Expires                                     time.Time
	Expired                                              bool
}

func (Exception) Table() string { return Exceptions }

func (e Exception) Row(s Scope) Row {
	return Row{s.Source, s.Tenant, s.SubAccount, e.Framework, NullString(e.Cloud), NullString(e.AccountID), e.ControlID, NullString(e.ControlTitle),
		e.Kind, NullString(e.Resource), NullString(e.Reason), NullString(e.Description), NullString(e.By), NullTime(e.Created), NullTime(e.Expires), e.Expired,
		RowID(s.Source, s.Tenant, s.SubAccount, e.Framework, e.AccountID, e.ControlID, e.Kind, e.Resource)}
}

// DriftTable: one row per control whose status differs from the tenant's
// previous pack, or that fails in both (internal/drift compares them).
func DriftTable() Table {
	return Table{Name: Drift, Title: "Changes since the previous pack", Lead: []string{"control_id", "title", "change", "status", "previous_status",
		"severity", "account_id", "failing_since"}, Columns: append(scope(),
		col("framework", "Framework", str, "compliance framework (report name)"),
		col("account_id", "Cloud account", str, "what the report covers: AWS account, Azure subscription, GCP project, cluster (IBM SCC: the zone)"),
		col("control_id", "Control", str, "control / recommendation id"),
		text("title", "Title", "control title"),
		col("severity", "Severity", str, "Critical, High, Medium, Low, Info"),
		col("change", "Change", str, "newly_failing, newly_passing, still_failing (NonCompliant in both packs), or other (another status change, or a control in one pack only)"),
		col("status", "Status", str, "the control's status in this pack; null when it is only in the previous one"),
		col("previous_status", "Previous status", str, "its status in the previous pack; null when it is only in this one"),
		col("failing_since", "Failing since (UTC)", tim, "still_failing: the start of the earliest period of the unbroken run of failing packs along the chain (UTC)"),
		col("previous_pack_id", "Previous pack", str, "the pack compared with (manifest.json previous.pack_id)"),
		rowID(),
	)}
}

// All returns every table, in pack order.
func All() []Table {
	return []Table{ControlsTable(), ViolationsTable(), ExceptionsTable(), EvaluationsTable(), InventoryTable(), AuditLogsTable(), DriftTable()}
}

// ByName returns the table called name.
func ByName(name string) (Table, bool) {
	for _, t := range All() {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// Scope is who a row belongs to: the first columns of every table.
type Scope struct {
	Source     string // platform: lacework, sophos, ibm_scc, lacework_edge
	Tenant     string
	SubAccount string
}

// Record is one row of a table: an evaluation, a resource or an audit event
// as a source produces it, or a control or violation as the pipeline reads
// it from a report; the pipeline adds the scope.
type Record interface {
	// Table is the name of the table the record belongs to.
	Table() string
	// Row is the record as a row of that table, scope columns first.
	Row(Scope) Row
}

// Control is a row of ControlsTable: one control of a framework's report on
// one cloud account, as the pipeline reads it from the report.
type Control struct {
	Framework     string
	Cloud         string
	AccountID     string
	AccountAlias  string
	ReportTime    time.Time
	ControlID     string
	Title         string
	Category      string
	Requirement   string // the framework's own requirement id, where the platform gives it
	Service       string
	Severity      string
	SeverityLevel int // 1 (Critical) .. 5 (Info)
	Status        Status
	Assessed      int64
	Violating     int64
	Suppressions  []string
	InfoLink      string
}

func (Control) Table() string { return Controls }

// Row keeps framework, control_id, status and the counts as they are, even
// when empty: they identify the row or are always known.
func (c Control) Row(s Scope) Row {
	return Row{s.Source, s.Tenant, s.SubAccount, c.Framework, NullString(c.Cloud), NullString(c.AccountID), NullString(c.AccountAlias),
		NullTime(c.ReportTime), c.ControlID, NullString(c.Title), NullString(c.Category), NullString(c.Requirement), NullString(c.Service), NullString(c.Severity), int64(c.SeverityLevel),
		string(c.Status), c.Assessed, c.Violating, NullString(strings.Join(c.Suppressions, "; ")), NullString(c.InfoLink),
		c.RowID(s)}
}

// RowID is the row_id of the control's row: a control of an account in a
// framework, the same in every report.
func (c Control) RowID(s Scope) string {
	return RowID(s.Source, s.Tenant, s.SubAccount, c.Framework, c.AccountID, c.ControlID)
}

// Violation is a row of ViolationsTable: one resource that fails a control.
type Violation struct {
	Framework    string
	Cloud        string
	AccountID    string
	ControlID    string
	ControlTitle string
	Severity     string
	Region       string
	Resource     string
	Reasons      []string
}

func (Violation) Table() string { return Violations }

func (v Violation) Row(s Scope) Row {
	return Row{s.Source, s.Tenant, s.SubAccount, v.Framework, NullString(v.Cloud), NullString(v.AccountID), v.ControlID,
		NullString(v.ControlTitle), NullString(v.Severity), NullString(v.Region), v.Resource, NullString(strings.Join(v.Reasons, "; ")),
		v.RowID(s)}
}

// RowID is the row_id of the violation's row.
func (v Violation) RowID(s Scope) string {
	return RowID(s.Source, s.Tenant, s.SubAccount, v.Framework, v.AccountID, v.ControlID, v.Region, v.Resource)
}

// DriftChange is a row of DriftTable.
type DriftChange struct {
	Framework, AccountID, ControlID, Title, Severity string
	Change                                           string
	Status, PreviousStatus                           Status
	FailingSince                                     time.Time
	PreviousPackID                                   string
}

func (d DriftChange) Row(s Scope) Row {
	return Row{s.Source, s.Tenant, s.SubAccount, d.Framework, NullString(d.AccountID), d.ControlID, NullString(d.Title), NullString(d.Severity),
		d.Change, NullString(string(d.Status)), NullString(string(d.PreviousStatus)), NullTime(d.FailingSince), d.PreviousPackID,
		RowID(s.Source, s.Tenant, s.SubAccount, d.Framework, d.AccountID, d.ControlID)}
}

// Evaluation is a row of EvaluationsTable.
type Evaluation struct {
	Dataset        string // e.g. AwsCompliance; for other platforms the check family
	AccountID      string
	AccountAlias   string
	ReportTime     time.Time
	ControlID      string
	Recommendation string
	Section        string
	Severity       string
	Status         string
	Resource       string
	Reason         string
	EvalType       string
	Remediation    string // JSON
}

func (Evaluation) Table() string { return Evaluations }

func (e Evaluation) Row(s Scope) Row {
	return Row{s.Source, s.Tenant, s.SubAccount, e.Dataset, NullString(e.AccountID), NullString(e.AccountAlias), NullTime(e.ReportTime),
		NullString(e.ControlID), NullString(e.Recommendation), NullString(e.Section), NullString(e.Severity), NullString(e.Status), NullString(e.Resource), NullString(e.Reason), NullString(e.EvalType), json0(e.Remediation),
		// An evaluation is an observation at its time: the time is part of it.
		e.rowID(s)}
}

// rowID is RowID(s.Source, s.Tenant, s.SubAccount, e.Dataset, e.AccountID,
// e.ControlID, e.Resource, stamp(e.ReportTime)), built without the
// intermediate strings.
func (e Evaluation) rowID(s Scope) string {
	var buf [512]byte
	b := buf[:0]
	for _, f := range [...]string{s.Source, s.Tenant, s.SubAccount, e.Dataset, e.AccountID, e.ControlID, e.Resource} {
		b = appendField(b, f)
	}
	return sumID(appendStamp(b, e.ReportTime))
}

// stamp writes a time for RowID ("" for none).
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Resource is a row of InventoryTable.
type Resource struct {
	CSP           string // AWS, Azure, GCP, ...
	AccountID     string
	AccountAlias  string
	ResourceID    string
	SourceKey     string // the platform's key for the resource (Lacework apiKey)
	ResourceType  string
	Service       string
	Region        string
	URN           string
	CollectedFrom time.Time
	CollectedTo   time.Time
	Status        string
	StatusDetails string // JSON
	Tags          string // JSON
	Config        string // JSON
}

func (Resource) Table() string { return Inventory }

func (v Resource) Row(s Scope) Row {
	return Row{s.Source, s.Tenant, s.SubAccount, v.CSP, NullString(v.AccountID), NullString(v.AccountAlias), NullString(v.ResourceID),
		NullString(v.SourceKey), NullString(v.ResourceType), NullString(v.Service), NullString(v.Region), NullString(v.URN), NullTime(v.CollectedFrom),
		NullTime(v.CollectedTo), NullString(v.Status), json0(v.StatusDetails), json0(v.Tags), json0(v.Config),
		// A resource is the same resource in every snapshot.
		RowID(s.Source, s.Tenant, s.SubAccount, v.CSP, v.AccountID, v.ResourceID, v.URN)}
}

// AuditEvent is a row of AuditLogsTable.
type AuditEvent struct {
	Time        time.Time
	AccountName string
	UserName    string
	EventName   string
	UserAction  string
	Description string
}

func (AuditEvent) Table() string { return AuditLogs }

func (a AuditEvent) Row(s Scope) Row {
	return Row{s.Source, s.Tenant, s.SubAccount, NullTime(a.Time), NullString(a.AccountName), NullString(a.UserName),
		NullString(a.EventName), NullString(a.UserAction), NullString(a.Description),
		RowID(s.Source, s.Tenant, s.SubAccount, stamp(a.Time), a.AccountName, a.UserName, a.EventName, a.UserAction, a.Description)}
}

// NullString stores "" as a missing value (an empty cell, a Parquet null).
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NullTime stores the zero time as a missing value; others in UTC.
func NullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func json0(s string) any {
	if t := strings.TrimSpace(s); t == "" || t == "null" {
		return nil
	}
	return s
}
