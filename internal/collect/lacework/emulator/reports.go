package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// recommendation is one report recommendation (UPPER_SNAKE wire keys; the
// Azure/GCP identity keys are present only for those clouds).
type recommendation struct {
	TenantID         string `json:"TENANT_ID,omitempty"`
	TenantName       string `json:"TENANT_NAME,omitempty"`
	SubscriptionID   string `json:"SUBSCRIPTION_ID,omitempty"`
	SubscriptionName string `json:"SUBSCRIPTION_NAME,omitempty"`
	ProjectID        string `json:"PROJECT_ID,omitempty"`
	ProjectName      string `json:"PROJECT_NAME,omitempty"`
	OrganizationID   string `json:"ORGANIZATION_ID,omitempty"`
	OrganizationName string `json:"ORGANIZATION_NAME,omitempty"`
	AccountID        string `json:"ACCOUNT_ID,omitempty"`    // AWS only: Azure and GCP rows name
	AccountAlias     string `json:"ACCOUNT_ALIAS,omitempty"` // the tenant, subscription, organization and project

	StartTime             int64       `json:"START_TIME"`
	Suppressions          []string    `json:"SUPPRESSIONS"`
	InfoLink              string      `json:"INFO_LINK"`
	AssessedResourceCount int64       `json:"ASSESSED_RESOURCE_COUNT"`
	Status                string      `json:"STATUS"`
	RecID                 string      `json:"REC_ID"`
	Category              string      `json:"CATEGORY"`
	Service               string      `json:"SERVICE"`
	Title                 string      `json:"TITLE"`
	Violations            []violation `json:"VIOLATIONS"`
	ResourceCount         int64       `json:"RESOURCE_COUNT"`
	Severity              int         `json:"SEVERITY"`
}

// violation is one VIOLATIONS item (lower-case keys; region only for AWS,
// as in the go-sdk mocks).
type violation struct {
	Region   string   `json:"region,omitempty"`
	Reasons  []string `json:"reasons"`
	Resource string   `json:"resource"`
}

// reportSummary is the single "summary" object of a report.
type reportSummary struct {
	NumRecommendations        int   `json:"NUM_RECOMMENDATIONS"`
	NumSeverity2NonCompliance int   `json:"NUM_SEVERITY_2_NON_COMPLIANCE"`
	NumSeverity4NonCompliance int   `json:"NUM_SEVERITY_4_NON_COMPLIANCE"`
	NumSeverity1NonCompliance int   `json:"NUM_SEVERITY_1_NON_COMPLIANCE"`
	NumCompliant              int   `json:"NUM_COMPLIANT"`
	NumSeverity3NonCompliance int   `json:"NUM_SEVERITY_3_NON_COMPLIANCE"`
	AssessedResourceCount     int64 `json:"ASSESSED_RESOURCE_COUNT"`
	NumSuppressed             int   `json:"NUM_SUPPRESSED"`
	NumSeverity5NonCompliance int   `json:"NUM_SEVERITY_5_NON_COMPLIANCE"`
	NumNotCompliant           int   `json:"NUM_NOT_COMPLIANT"`
	ViolatedResourceCount     int64 `json:"VIOLATED_RESOURCE_COUNT"`
	SuppressedResourceCount   int64 `json:"SUPPRESSED_RESOURCE_COUNT"`
}

// Report bodies per cloud: recommendations and summary precede the identity
// keys, as in the go-sdk mocks.
type awsReport struct {
	ReportType      string           `json:"reportType"`
	ReportTitle     string           `json:"reportTitle"`
	Recommendations []recommendation `json:"recommendations"`
	Summary         []reportSummary  `json:"summary"`
	AccountID       string           `json:"accountId"`
	AccountAlias    string           `json:"accountAlias"`
	ReportTime      string           `json:"reportTime"`
}

type azureReport struct {
	ReportType       string           `json:"reportType"`
	ReportTitle      string           `json:"reportTitle"`
	Recommendations  []recommendation `json:"recommendations"`
	Summary          []reportSummary  `json:"summary"`
	TenantID         string           `json:"tenantId"`
	TenantName       string           `json:"tenantName"`
	SubscriptionID   string           `json:"subscriptionId"`
	SubscriptionName string           `json:"subscriptionName"`
	ReportTime       string           `json:"reportTime"`
}

type gcpReport struct {
	ReportType       string           `json:"reportType"`
	ReportTitle      string           `json:"reportTitle"`
	Recommendations  []recommendation `json:"recommendations"`
	Summary          []reportSummary  `json:"summary"`
	OrganizationID   string           `json:"organizationId"`
	OrganizationName string           `json:"organizationName"`
	ProjectID        string           `json:"projectId"`
	ProjectName      string           `json:"projectName"`
	ReportTime       string           `json:"reportTime"`
}

// recResources records which resources (indices of the account's resource
// universe) a recommendation assessed, violated and suppressed, so the
// summary can count distinct resources.
type recResources struct {
	lo, n      int64
	violated   []int64
	suppressed []int64
}

// report is a generated report before rendering.
type report struct {
	fw         *framework
	ref        acctRef
	sub        *subAccount
	reportTime int64
	recs       []recommendation
	res        []recResources
	universe   int64
}

// buildReport generates the full report of framework fw for account index
// ai of the sub-account. Deterministic per (seed, sub-account, account,
// framework) and the day of the last assessment.
func (s *Server) buildReport(sa *subAccount, fw *framework, ai int, now time.Time) *report {
	cl := fw.cloud
	ref := sa.refs[cl][ai]
	inv, _ := s.newInvSource(sa, cloudNames[cl], 0)
	universe := inv.resourcesOf(ai)
	k := len(inv.refs)
	r := sa.key.Str("report").Str(fw.pub.ReportName).Str(ref.id).Rng()

	// The daily assessment runs after the 02:00 collection; the report is
	// stamped 30-55 minutes after the last collection at least 1h before now.
	hourMs := int64(time.Hour / time.Millisecond)
	col, ok := lastCollection(msCeil(now)-3*msPerDay, msCeil(now)-hourMs)
	if !ok {
		col = floorDiv(msCeil(now), msPerDay) * msPerDay
	}
	day := r.Fork(uint64(col))
	rt := col + 30*60*1000 + day.Int63n(25*60*1000)

	rep := &report{fw: fw, ref: ref, sub: sa, reportTime: rt, universe: universe}
	urn := func(x int64) invResource { return inv.resource(x*int64(k) + int64(ai)) }
	for i, pi := range fw.policies {
		p := &s.cat.policies[cl][pi]
		status := pickStatus(r.Intn(100))
		if universe == 0 && status != statusManual {
			status = statusCouldNotAssess
		}
		rec := recommendation{
			StartTime:    rt,
			Suppressions: []string{},
			InfoLink:     p.infoLink,
			Status:       status,
			RecID:        p.id,
			Category:     fw.pub.Sections[fw.sections[i]].Category + ". " + p.section,
			Service:      p.service,
			Title:        p.title,
			Violations:   []violation{},
			Severity:     p.severity,
		}
		switch cl {
		case cloudAWS, cloudK8s:
			rec.AccountID, rec.AccountAlias = ref.id, ref.alias
		case cloudAzure:
			rec.TenantID, rec.TenantName, rec.SubscriptionID, rec.SubscriptionName = ref.parentID, ref.parentName, ref.id, ref.alias
		case cloudGCP:
			rec.ProjectID, rec.ProjectName, rec.OrganizationID, rec.OrganizationName = ref.id, ref.alias, ref.parentID, ref.parentName
		}
		var rr recResources
		switch status {
		case statusCompliant, statusNonCompliant, statusSuppressed:
			rr.n = 1 + r.Int63n(min(universe, 60))
			rr.lo = r.Int63n(universe - rr.n + 1)
			rec.AssessedResourceCount, rec.ResourceCount = rr.n, rr.n
			switch status {
			case statusNonCompliant:
				v := 1 + r.Int63n(min(rr.n, 20))
				o := r.Int63n(rr.n - v + 1)
				for x := rr.lo + o; x < rr.lo+o+v; x++ {
					res := urn(x)
					viol := violation{Resource: res.urn, Reasons: []string{p.reason}}
					if cl == cloudAWS {
						viol.Region = res.region
					}
					if s.cfg.Faults.Tricky && r.Intn(16) == 0 {
						viol.Reasons = append(viol.Reasons, [...]string{trickyCJK, trickyRTL, trickyFormulas[0], trickyAccents}[r.Intn(4)])
					}
					rec.Violations = append(rec.Violations, viol)
					rr.violated = append(rr.violated, x)
				}
			case statusSuppressed:
				n := 1 + r.Int63n(min(rr.n, 3))
				for x := rr.lo; x < rr.lo+n; x++ {
					rec.Suppressions = append(rec.Suppressions, urn(x).urn)
					rr.suppressed = append(rr.suppressed, x)
				}
			}
		}
		rep.recs = append(rep.recs, rec)
		rep.res = append(rep.res, rr)
	}
	return rep
}

// summarize computes the summary of the selected recommendations:
// NUM_* count recommendations by status (severity counts only non-compliant
// ones); *_RESOURCE_COUNT count distinct resources assessed, listed in
// VIOLATIONS, and listed in SUPPRESSIONS.
func (rep *report) summarize(keep []bool) reportSummary {
	var sum reportSummary
	assessed := make([]bool, rep.universe)
	violated := make([]bool, rep.universe)
	suppressed := make([]bool, rep.universe)
	count := func(set []bool, x int64, n *int64) {
		if !set[x] {
			set[x] = true
			*n++
		}
	}
	for i, rec := range rep.recs {
		if !keep[i] {
			continue
		}
		sum.NumRecommendations++
		switch rec.Status {
		case statusCompliant:
			sum.NumCompliant++
		case statusSuppressed:
			sum.NumSuppressed++
		case statusNonCompliant:
			sum.NumNotCompliant++
			switch rec.Severity {
			case 1:
				sum.NumSeverity1NonCompliance++
			case 2:
				sum.NumSeverity2NonCompliance++
			case 3:
				sum.NumSeverity3NonCompliance++
			case 4:
				sum.NumSeverity4NonCompliance++
			case 5:
				sum.NumSeverity5NonCompliance++
			}
		}
		rr := rep.res[i]
		for x := rr.lo; x < rr.lo+rr.n; x++ {
			count(assessed, x, &sum.AssessedResourceCount)
		}
		for _, x := range rr.violated {
			count(violated, x, &sum.ViolatedResourceCount)
		}
		for _, x := range rr.suppressed {
			count(suppressed, x, &sum.SuppressedResourceCount)
		}
	}
	return sum
}

var reportSeverities = map[string]int{"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 5}

var reportStatuses = map[string]string{
	"compliant": statusCompliant, "noncompliant": statusNonCompliant, "suppressed": statusSuppressed,
	"couldnotassess": statusCouldNotAssess, "manual": statusManual, "requiresmanualassessment": statusManual,
}

// handleReports serves GET /api/v2/Reports.
func (s *Server) handleReports(c *call) *response {
	q := c.r.URL.Query()
	format := q.Get("format")
	switch format {
	case "":
		format = "pdf"
	case "json", "pdf":
	case "csv", "html":
		return s.failResp(errorf(http.StatusBadRequest, "format %q not supported by emulator", format))
	default:
		return s.failResp(errorf(http.StatusBadRequest, "unknown format %q (one of json, pdf, csv, html)", format))
	}
	fw, err := s.findFramework(q.Get("reportType"), q.Get("reportName"))
	if err != nil {
		return s.failResp(err)
	}
	ai, err := s.reportTarget(c.sub, fw, q.Get("primaryQueryId"), q.Get("secondaryQueryId"))
	if err != nil {
		return s.failResp(err)
	}
	sevs, err := parseList(q.Get("severity"), "severity", func(v string) (string, bool) {
		n, ok := reportSeverities[strings.ToLower(v)]
		return strconv.Itoa(n), ok
	})
	if err != nil {
		return s.failResp(err)
	}
	stats, err := parseList(q.Get("status"), "status", func(v string) (string, bool) {
		st, ok := reportStatuses[strings.ToLower(v)]
		return st, ok
	})
	if err != nil {
		return s.failResp(err)
	}

	rep := s.buildReport(c.sub, fw, ai, c.now)
	keep := make([]bool, len(rep.recs))
	var recs []recommendation
	for i, rec := range rep.recs {
		if (sevs == nil || sevs[strconv.Itoa(rec.Severity)]) && (stats == nil || stats[rec.Status]) {
			keep[i] = true
			recs = append(recs, rec)
		}
	}
	if recs == nil {
		recs = []recommendation{}
	}
	sum := rep.summarize(keep)
	if format == "pdf" {
		return s.pdfResp(rep, sum)
	}
	var data any
	reportTime := fmtMs(rep.reportTime)
	// A report's reportType is the framework's display title, not the API
	// code the request names it by (issue 15, from real reports; the
	// document's sample is an empty object).
	title := fw.pub.ReportName
	switch fw.cloud {
	case cloudAWS:
		data = awsReport{title, fw.pub.ReportName, recs, []reportSummary{sum}, rep.ref.id, rep.ref.alias, reportTime}
	case cloudAzure:
		data = azureReport{title, fw.pub.ReportName, recs, []reportSummary{sum}, rep.ref.parentID, rep.ref.parentName, rep.ref.id, rep.ref.alias, reportTime}
	default:
		data = gcpReport{title, fw.pub.ReportName, recs, []reportSummary{sum}, rep.ref.parentID, rep.ref.parentName, rep.ref.id, rep.ref.alias, reportTime}
	}
	return s.jsonResp(http.StatusOK, struct {
		Data    []any  `json:"data"`
		Ok      bool   `json:"ok"`
		Message string `json:"message"`
	}{[]any{data}, true, "SUCCESS"})
}

// findFramework resolves reportType / reportName to an enabled framework.
func (s *Server) findFramework(reportType, reportName string) (*framework, *apiError) {
	if reportType == "" && reportName == "" {
		return nil, errorf(http.StatusBadRequest, "reportType is required (or reportName)")
	}
	var byType, byName *framework
	for _, f := range s.cat.frameworks {
		if reportType != "" && f.pub.ReportType == reportType {
			byType = f
		}
		if reportName != "" && f.pub.ReportName == reportName {
			byName = f
		}
	}
	if reportType != "" && byType == nil {
		return nil, errorf(http.StatusBadRequest, "unknown reportType %q", reportType)
	}
	if reportName != "" && byName == nil {
		return nil, errorf(http.StatusBadRequest, "unknown reportName %q", reportName)
	}
	if byType != nil && byName != nil && byType != byName {
		return nil, errorf(http.StatusBadRequest, "reportType %q and reportName %q name different reports", reportType, reportName)
	}
	f := byType
	if f == nil {
		f = byName
	}
	if !f.pub.Enabled {
		return nil, errorf(http.StatusBadRequest, "report definition %q is disabled", f.pub.ReportName)
	}
	return f, nil
}

// reportTarget validates the query ids against the sub-account and returns
// the account index (into sub.refs[cloud]) of the report.
func (s *Server) reportTarget(sa *subAccount, fw *framework, primary, secondary string) (int, *apiError) {
	if primary == "" {
		return 0, errorf(http.StatusBadRequest, "primaryQueryId is required")
	}
	name := sa.pub.Name
	if cl, ok := cloudOfID(sa, primary); ok && cl != fw.cloud {
		return 0, errorf(http.StatusBadRequest, "report %q is a %s report, but primaryQueryId %s is a %s id", fw.pub.ReportName, cloudNames[fw.cloud], primary, cloudNames[cl])
	}
	switch fw.cloud {
	case cloudAWS:
		for _, a := range sa.pub.AWS {
			if a.AccountID == primary && !a.Enabled {
				return 0, errorf(http.StatusNotFound, "no report for AWS account %s in account %s: the integration is disabled", primary, name)
			}
		}
		if i := refIndex(sa.refs[cloudAWS], primary); i >= 0 {
			return i, nil
		}
		return 0, errorf(http.StatusNotFound, "AWS account %q not found in account %s", primary, name)
	default:
		parent := "Azure tenant"
		child := "Azure subscription"
		if fw.cloud == cloudGCP {
			parent, child = "GCP organization", "GCP project"
		}
		if secondary == "" {
			return 0, errorf(http.StatusBadRequest, "secondaryQueryId (%s id) is required for %s reports", child, cloudNames[fw.cloud])
		}
		if fw.cloud == cloudGCP && primary == gcpNoOrganization {
			primary = "" // a project-level integration: no organization
		}
		found := false
		for i, r := range sa.refs[fw.cloud] {
			if r.parentID == primary {
				found = true
				if r.id == secondary {
					return i, nil
				}
			}
		}
		if !found {
			return 0, errorf(http.StatusNotFound, "%s %q not found in account %s", parent, primary, name)
		}
		return 0, errorf(http.StatusNotFound, "%s %q not found in %s %s", child, secondary, parent, primary)
	}
}

// gcpNoOrganization is the primaryQueryId of a project-level GCP
// integration's reports, as the lacework CLI sends it (go-sdk
// cli/cmd/compliance_gcp.go: OrganizationID "n/a"). The document marks
// neither id required; a report without primaryQueryId is refused here
// (inferred: every documented example carries one).
const gcpNoOrganization = "n/a"

// cloudOfID returns the cloud of a primaryQueryId (AWS account, Azure
// tenant or GCP organisation id) of the sub-account.
func cloudOfID(sa *subAccount, id string) (int, bool) {
	for _, a := range sa.pub.AWS {
		if a.AccountID == id {
			return cloudAWS, true
		}
	}
	for _, t := range sa.pub.Azure {
		if t.TenantID == id {
			return cloudAzure, true
		}
	}
	for _, o := range sa.pub.GCP {
		if o.OrgID == id {
			return cloudGCP, true
		}
	}
	return 0, false
}

// parseList parses a comma-separated query filter; nil means no filter.
func parseList(v, name string, conv func(string) (string, bool)) (map[string]bool, *apiError) {
	if v == "" {
		return nil, nil
	}
	set := map[string]bool{}
	for _, part := range strings.Split(v, ",") {
		c, ok := conv(strings.TrimSpace(part))
		if !ok {
			return nil, errorf(http.StatusBadRequest, "invalid %s %q", name, part)
		}
		set[c] = true
	}
	return set, nil
}

// pdfResp renders the report as a one-page PDF.
func (s *Server) pdfResp(rep *report, sum reportSummary) *response {
	var ident string
	switch rep.fw.cloud {
	case cloudAWS:
		ident = fmt.Sprintf("AWS account: %s (%s)", rep.ref.id, rep.ref.alias)
	case cloudAzure:
		ident = fmt.Sprintf("Azure tenant: %s (%s), subscription: %s (%s)", rep.ref.parentID, rep.ref.parentName, rep.ref.id, rep.ref.alias)
	default:
		ident = fmt.Sprintf("GCP organization: %s (%s), project: %s (%s)", rep.ref.parentID, rep.ref.parentName, rep.ref.id, rep.ref.alias)
	}
	lines := []string{
		"Report: " + rep.fw.pub.ReportName + " (" + rep.fw.pub.ReportType + ")",
		ident,
		"Lacework account: " + rep.sub.upper,
		"Report time: " + fmtMs(rep.reportTime),
		fmt.Sprintf("Recommendations: %d  Compliant: %d  Non-compliant: %d  Suppressed: %d",
			sum.NumRecommendations, sum.NumCompliant, sum.NumNotCompliant, sum.NumSuppressed),
		fmt.Sprintf("Assessed resources: %d  Violated resources: %d", sum.AssessedResourceCount, sum.ViolatedResourceCount),
	}
	b := s.bufs.Get()
	writePDF(b, rep.fw.pub.ReportName, "Lacework Compliance Report", lines)
	return &response{status: http.StatusOK, contentType: "application/pdf", body: b}
}
