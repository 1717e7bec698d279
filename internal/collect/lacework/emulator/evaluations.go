package emulator

import (
	"net/http"
	"strconv"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// evalAccount is the "account" object of an evaluation (wire keys are
// PascalCase / Pascal_Snake).
type evalAccount struct {
	AccountID    string `json:"AccountId"`
	AccountAlias string `json:"Account_Alias"`
}

// evalRow is one ComplianceEvaluations row. Fields are in the alphabetical
// order the API uses; reason and section may be null.
type evalRow struct {
	Account        evalAccount `json:"account"`
	EvalType       string      `json:"evalType"`
	ID             string      `json:"id"`
	Reason         *string     `json:"reason"`
	Recommendation string      `json:"recommendation"`
	ReportTime     string      `json:"reportTime"`
	Resource       string      `json:"resource"`
	Section        *string     `json:"section"`
	Severity       string      `json:"severity"`
	Status         string      `json:"status"`
}

var evalFields = fieldSet{
	filter:   []string{"account.AccountId", "account.Account_Alias", "evalType", "id", "reason", "recommendation", "resource", "section", "severity", "status"},
	topLevel: []string{"account", "evalType", "id", "reason", "recommendation", "reportTime", "resource", "section", "severity", "status"},
}

// evalSource generates the evaluations of one (sub-account, dataset).
type evalSource struct {
	sub    *subAccount
	cloud  int
	k      emulatorkit.Key
	series series
	refs   []acctRef
	pols   []policy
	tricky bool
	inv    *invSource // resources of the rows (nil for K8s)
}

func (s *Server) newEvalSource(sa *subAccount, dataset string) (*evalSource, bool) {
	cl, ok := datasets[dataset]
	if !ok {
		return nil, false
	}
	e := &evalSource{
		sub:    sa,
		cloud:  cl,
		k:      sa.key.Str("evaluations").Str(dataset),
		series: series{int64(s.cfg.EvaluationsPerDay)},
		refs:   sa.refs[cl],
		pols:   s.cat.policies[cl],
		tricky: s.cfg.Faults.Tricky,
	}
	if cl != cloudK8s {
		e.inv, _ = s.newInvSource(sa, cloudNames[cl], 0)
	}
	return e, true
}

func (e *evalSource) row(g int64) evalRow {
	r := e.k.Num(g).Rng()
	ai := int(g - floorDiv(g, int64(len(e.refs)))*int64(len(e.refs)))
	ref := e.refs[ai]
	p := &e.pols[r.Intn(len(e.pols))]
	status := pickStatus(r.Intn(100))
	row := evalRow{
		Account:        evalAccount{AccountID: ref.id, AccountAlias: ref.alias},
		EvalType:       "LW_SA",
		ID:             p.id,
		Recommendation: p.title,
		ReportTime:     fmtMs(e.series.at(g)),
		Severity:       severityNames[p.severity],
		Status:         status,
	}
	section := p.section
	row.Section = &section
	var reason string
	switch status {
	case statusNonCompliant:
		reason = p.reason
	case statusSuppressed:
		reason = "Suppressed by exception rule"
	case statusCouldNotAssess:
		reason = "Unable to assess: access denied"
	case statusManual:
		reason = "Requires manual assessment"
	}
	row.Reason = &reason
	if status != statusManual && status != statusCouldNotAssess && e.inv != nil {
		row.Resource = e.inv.resourceOf(ai, &r).urn
	}
	if row.Resource == "" { // account-level check, or an account without resources
		row.Resource = e.accountResource(ref, &r)
	}
	if e.tricky {
		switch u := r.Intn(128); {
		case u == 0:
			reason = trickyCJK
		case u == 1:
			reason = trickyAccents
		case u == 2:
			reason = trickyRTL
		case u >= 3 && u <= 6:
			reason = trickyFormulas[u-3]
		case u == 7:
			row.Reason = nil
		case u == 8:
			row.Section = nil
		case u == 9:
			reason = trickyControl
		case u == 10:
			reason = trickyEmoji
		case u == 11:
			row.Resource += "/" + trickyCJK
		}
	}
	return row
}

// accountResource is the account-level resource of manual and
// could-not-assess evaluations, and the workload of K8s evaluations.
func (e *evalSource) accountResource(ref acctRef, r *emulatorkit.Rng) string {
	switch e.cloud {
	case cloudAWS:
		return "arn:aws:::" + ref.id
	case cloudAzure:
		return "/subscriptions/" + ref.id
	case cloudGCP:
		return "//cloudresourcemanager.googleapis.com/projects/" + ref.id
	default:
		ns := [...]string{"default", "kube-system", "payments", "web"}[r.Intn(4)]
		return "k8s:" + ref.id + ":namespace/" + ns + "/deployment/app-" + strconv.Itoa(r.Intn(500))
	}
}

func (e *evalSource) field(r *evalRow, name string) string {
	switch name {
	case "account.AccountId":
		return r.Account.AccountID
	case "account.Account_Alias":
		return r.Account.AccountAlias
	case "evalType":
		return r.EvalType
	case "id":
		return r.ID
	case "reason":
		if r.Reason == nil {
			return ""
		}
		return *r.Reason
	case "recommendation":
		return r.Recommendation
	case "resource":
		return r.Resource
	case "section":
		if r.Section == nil {
			return ""
		}
		return *r.Section
	case "severity":
		return r.Severity
	case "status":
		return r.Status
	}
	return ""
}

func (e *evalSource) setLong(r *evalRow, v string) { r.Reason = &v }

// handleEvaluationsSearch serves POST /api/v2/Configs/ComplianceEvaluations/search.
func (s *Server) handleEvaluationsSearch(c *call) *response {
	var body searchBody
	if err := readJSON(c.r, &body, searchKeys("dataset")); err != nil {
		return s.failResp(err)
	}
	names := "AwsCompliance, AzureCompliance, GcpCompliance, K8sCompliance"
	if body.Dataset == nil || *body.Dataset == "" {
		return s.failResp(errorf(http.StatusBadRequest, "dataset is required (one of %s)", names))
	}
	src, ok := s.newEvalSource(c.sub, *body.Dataset)
	if !ok {
		return s.failResp(errorf(http.StatusBadRequest, "unknown dataset %q (one of %s)", *body.Dataset, names))
	}
	var start, end *string
	if body.TimeFilter != nil {
		start, end = body.TimeFilter.StartTime, body.TimeFilter.EndTime
	}
	from, to, err := resolveWindow(start, end, "timeFilter.startTime", "timeFilter.endTime", c.now)
	if err != nil {
		return s.failResp(err)
	}
	if to.Sub(from) > maxSearchWindow {
		return s.failResp(errorf(http.StatusBadRequest, "maximum time range is 7 days"))
	}
	if from.Before(c.now.Add(-maxSearchHistory)) {
		return s.failResp(errorf(http.StatusBadRequest, "timeFilter.startTime %s is older than 90 days; evaluations can be searched within the last 90 days", from.Format(rfc3339Milli)))
	}
	st := pageState{Kind: kindEvaluations, Sub: c.sub.pub.Name, DS: *body.Dataset, S: msCeil(from), E: msCeil(to), F: body.Filters, R: body.Returns}
	if len(src.refs) > 0 {
		st.Lo, st.Hi = s.seriesSpan(int64(s.cfg.EvaluationsPerDay), from, to, c.now)
	}
	return startResultSet(s, c, st, src, evalFields)
}
