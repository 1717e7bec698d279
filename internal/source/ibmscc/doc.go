// Package ibmscc is the IBM Cloud Security and Compliance Center Workload
// Protection source: it opens a tenant's ibm_scc section, plans the units
// of one Workload Protection instance and maps the API's records onto the
// pack's tables.
//
// Mapping (docs/sources/ibm-scc.md has the user's view):
//   - Frameworks are the CSPM compliance policies of GET
//     /api/cspm/v1/compliance/views, narrowed by the section's frameworks
//     (policy names or ids) and zones. A policy is one source.Framework; it
//     has one ReportUnit per zone it is applied to (Account = the zone's
//     name), all under the sub-account = the instance GUID.
//   - A report's Controls are the (requirement, control) pairs of the
//     policy in the zone: ID "<requirementId>/<controlId>", Title the
//     control's name, Category (section) the requirement's name, Service
//     the resource kind (AWS_S3_BUCKET, workload, host), Severity from the
//     control (else the requirement): the document's 1=low, 2=medium,
//     3=high (or those names) onto Low/Medium/High (rank 4/3/2); any other
//     value fails the report (ErrSeverity). Status: isManual →
//     RequiresManualAssessment; pass → Compliant; failing only with
//     accepted risks → Suppressed; otherwise NonCompliant. Assessed =
//     objectsCount + acceptedCount + passingCount. Violations are the
//     failing resources whose risk is not accepted (pass=false, no
//     acceptance), exactly objectsCount of them; the accepted ones
//     (accepted=true) become Suppressions ("<label>: <n> resources"),
//     adding up to exactly acceptedCount. A listing that differs from its
//     count fails the report (ibmscc.ErrInconsistent).
//   - Inventory (TableUnit, table inventory): the inventory's current state,
//     narrowed by the section's accounts.
//   - Audit logs (TableUnit, table audit_logs): the activity-audit events of
//     the request's audit window, read in windows of at most 2 weeks (one
//     result set each in the query stats).
//   - There is no evaluations table: the posture results are the reports.
package ibmscc
