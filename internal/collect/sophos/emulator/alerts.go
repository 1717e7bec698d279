package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Alert data model.
//
// Alert i (0-based) of environment e is last seen at anchor-(i+1)*step: the
// alerts of an environment are evenly spaced over HistoryDays, newest first,
// so a lastSeen window is a contiguous index range computed arithmetically.
// Every other attribute a filter can test (rule, and through it severity,
// type and frameworks; state; number of affected resources) is a function of
// the residue c = (i+off_e) mod period, where period = phases × rules:
// rule = c mod rules, phase = c div rules. A filter is thus a set of
// residues, and the k-th matching alert of a range, or the number of
// matches, is arithmetic too: no alert is stored, and a page deep into
// millions of alerts costs the same as the first.

const (
	phases        = 8
	suppressPhase = phases - 1 // alerts in this phase are SUPPRESS, the others OPEN
)

// policyTags is the document's list of policyTagList values.
var policyTags = []string{"Avid", "CIS", "FFIEC", "HIPAA", "ISO 27001", "PCI", "SOC2", "SOC2-TSP",
	"FEDRAMP-LOW", "FEDRAMP-MODERATE", "FEDRAMP-HIGH", "EBU R143"}

// Documented values of the other alert filters.
var (
	alertTypeValues = []string{"Policy", "Anomaly", "GuardDuty"}
	providerValues  = []string{"AWS", "Azure"}
	stateValues     = []string{"OPEN", "SUPPRESS"}
	severityValues  = []string{"low", "medium", "high", "critical"}
)

type rule struct {
	code        string
	title       string
	label       string
	noun        string // resource kind in generated resource names
	severity    string // critical, high, medium, low
	alertType   string
	tags        uint16 // bit i: policyTags[i]
	controlID   int
	controlDesc string
}

var ruleTemplates = []struct{ label, title, noun string }{
	{"Storage", "Storage bucket allows public read access", "bucket"},
	{"IAM", "Access keys not rotated within 90 days", "user"},
	{"IAM", "MFA not enabled for a console user", "user"},
	{"Network", "Security group allows ingress from 0.0.0.0/0 to port 22", "security-group"},
	{"Logging", "Audit logging is not enabled in every region", "trail"},
	{"Compute", "Instance has a public IP and an over-privileged role", "instance"},
	{"Database", "Database storage is not encrypted at rest", "database"},
	{"Network", "Flow logs are disabled for the virtual network", "network"},
	{"Database", "Database is publicly accessible", "database"},
	{"Encryption", "Customer-managed key rotation is disabled", "key"},
	{"Kubernetes", "Privileged containers are allowed", "pod"},
	{"Storage", "Versioning is disabled on the storage bucket", "bucket"},
	{"IAM", "Policy grants full administrative privileges (\"*:*\")", "role"},
	{"Compute", "Disk snapshot is shared publicly", "snapshot"},
}

// buildRules derives the rule catalog. Every framework gets at least one
// policy rule; anomaly and GuardDuty rules belong to no framework.
func buildRules(root emulatorkit.Key, n int) []rule {
	out := make([]rule, n)
	policy := 0
	for r := range out {
		rg := root.Str("rule").Num(int64(r)).Rng()
		t := ruleTemplates[r%len(ruleTemplates)]
		ru := rule{
			code:      fmt.Sprintf("OPX-%04d", 1001+r),
			label:     t.label,
			title:     t.title,
			noun:      t.noun,
			alertType: "Policy",
			controlID: 100 + r,
		}
		if v := r / len(ruleTemplates); v > 0 {
			ru.title += fmt.Sprintf(" (check %d)", v+1)
		}
		switch r % 10 {
		case 8:
			ru.alertType, ru.label = "Anomaly", "Anomaly"
			ru.title = "Unusual console login from a new location"
			ru.noun = "user"
		case 9:
			ru.alertType, ru.label = "GuardDuty", "Threat"
			ru.title = "GuardDuty finding: instance communicating with a known command-and-control host"
			ru.noun = "instance"
		default:
			ru.tags = 1 << (policy % len(policyTags))
			for i := range policyTags {
				if rg.Intn(100) < 35 {
					ru.tags |= 1 << i
				}
			}
			policy++
		}
		switch v := rg.Intn(10); {
		case v == 0:
			ru.severity = "critical"
		case v <= 3:
			ru.severity = "high"
		case v <= 6:
			ru.severity = "medium"
		default:
			ru.severity = "low"
		}
		ru.controlDesc = fmt.Sprintf("%d.%d %s", 1+r%5, 1+r, ru.title)
		out[r] = ru
	}
	return out
}

// alertType is the rule's type in e: GuardDuty exists only on AWS; other
// clouds report the same detection as an anomaly.
func (r rule) alertTypeIn(e *env) string {
	if r.alertType == "GuardDuty" && e.pub.Type != "AWS" {
		return "Anomaly"
	}
	return r.alertType
}

// Filter selects alerts, with the semantics of the query parameters of GET
// api/v1/alerts. Lists are OR-ed within a field and AND-ed across fields;
// values are matched as the API document spells them (PolicyTags and
// AlertTypes case-sensitive, Severities lower case).
type Filter struct {
	Days                     int // 1..365
	LastSeenFrom, LastSeenTo time.Time
	AlertTypes               []string
	Providers                []string
	PolicyTags               []string
	AccountIDs               []string
	States                   []string
	Severities               []string
}

// AlertCounts is what a correct client receives for a filter.
type AlertCounts struct {
	Alerts     int // alerts
	Resources  int // affected resources of those alerts
	Violations int // affected resources of OPEN alerts
	Suppressed int // affected resources of SUPPRESS alerts
	Rules      int // distinct (environment, rule) pairs among the alerts
	Critical   int // alerts per severity (as api/v1/alerts/count reports them)
	High       int
	Medium     int
	Low        int
}

// CountAlerts returns what a correct client receives for f, computed
// arithmetically (it costs the same for a thousand alerts or ten million).
// Unknown account ids or values match nothing.
func (s *Server) CountAlerts(f Filter) AlertCounts { return s.countAlerts(f, s.cfg.Now()) }

func (s *Server) countAlerts(f Filter, now time.Time) AlertCounts {
	sel := s.selectAlerts(f, now)
	var out AlertCounts
	for _, es := range sel.envs {
		rulesSeen := map[int]bool{}
		for _, c := range es.res {
			n := int(s.countResidue(es.e, c, sel.lo, sel.hi))
			if n == 0 {
				continue
			}
			ru := s.rules[c%s.cfg.Rules]
			rulesSeen[c%s.cfg.Rules] = true
			nr := n * resourcesOf(c, s.cfg.Rules)
			out.Alerts += n
			out.Resources += nr
			if c/s.cfg.Rules == suppressPhase {
				out.Suppressed += nr
			} else {
				out.Violations += nr
			}
			switch ru.severity {
			case "critical":
				out.Critical += n
			case "high":
				out.High += n
			case "medium":
				out.Medium += n
			default:
				out.Low += n
			}
		}
		out.Rules += len(rulesSeen)
	}
	return out
}

// resourcesOf is the number of affected resources of an alert of residue c.
func resourcesOf(c, rules int) int { return 1 + (c/rules)%3 }

// selection is a filter resolved against the data: the index range shared
// by all environments, and per environment the matching residues.
type selection struct {
	lo, hi int64
	envs   []envSel
	total  int64
}

type envSel struct {
	e     *env
	res   []int   // matching residues c, ascending
	n     int64   // matching alerts in [lo, hi)
	first []int64 // the first len(res) matching indices from lo, ascending (for paging)
}

func (s *Server) selectAlerts(f Filter, now time.Time) *selection {
	sel := &selection{}
	sel.lo, sel.hi = s.indexRange(f, now)
	for _, e := range s.envs {
		if !e.alerting() || (len(f.AccountIDs) > 0 && !slices.Contains(f.AccountIDs, e.pub.ID)) ||
			(len(f.Providers) > 0 && !slices.Contains(f.Providers, e.pub.Type)) {
			continue
		}
		es := envSel{e: e}
		for c := range s.period {
			if s.residueMatches(e, c, f) {
				es.res = append(es.res, c)
			}
		}
		if len(es.res) == 0 || sel.hi <= sel.lo {
			continue
		}
		for _, c := range es.res {
			es.n += s.countResidue(e, c, sel.lo, sel.hi)
		}
		sel.total += es.n
		sel.envs = append(sel.envs, es)
	}
	return sel
}

func (s *Server) residueMatches(e *env, c int, f Filter) bool {
	ru := s.rules[c%s.cfg.Rules]
	state := "OPEN"
	if c/s.cfg.Rules == suppressPhase {
		state = "SUPPRESS"
	}
	if len(f.States) > 0 && !slices.Contains(f.States, state) {
		return false
	}
	if len(f.Severities) > 0 && !slices.Contains(f.Severities, ru.severity) {
		return false
	}
	if len(f.AlertTypes) > 0 && !slices.Contains(f.AlertTypes, ru.alertTypeIn(e)) {
		return false
	}
	if len(f.PolicyTags) > 0 {
		ok := false
		for _, t := range f.PolicyTags {
			if i := slices.Index(policyTags, t); i >= 0 && ru.tags&(1<<i) != 0 {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// indexRange turns the filter's time bounds into the alert indices
// [lo, hi) whose lastSeen lies in them (both bounds inclusive). Without days
// and lastSeen bounds the API looks back 365 days; a missing lastSeenFrom
// or lastSeenTo leaves that side open.
func (s *Server) indexRange(f Filter, now time.Time) (lo, hi int64) {
	n := int64(s.cfg.AlertsPerEnvironment)
	lo, hi = 0, n
	var from, to int64
	hasFrom, hasTo := false, false
	switch {
	case f.Days > 0:
		from, hasFrom = now.UnixMilli()-int64(f.Days)*msPerDay, true
	case f.LastSeenFrom.IsZero() && f.LastSeenTo.IsZero():
		from, hasFrom = now.UnixMilli()-365*msPerDay, true
	default:
		if !f.LastSeenFrom.IsZero() {
			from, hasFrom = f.LastSeenFrom.UnixMilli(), true
		}
		if !f.LastSeenTo.IsZero() {
			to, hasTo = f.LastSeenTo.UnixMilli(), true
		}
	}
	// lastSeen(i) = anchor-(i+1)*step >= from  <=>  i < (anchor-from)/step
	if hasFrom {
		d := s.anchor - from
		if d < 0 {
			return 0, 0
		}
		hi = min(hi, d/s.step)
	}
	// lastSeen(i) <= to  <=>  i+1 >= ceil((anchor-to)/step)
	if d := s.anchor - to; hasTo && d > 0 {
		lo = (d+s.step-1)/s.step - 1
	}
	return min(lo, n), max(min(hi, n), 0)
}

// countResidue counts the alerts i in [lo, hi) of e with residue c.
func (s *Server) countResidue(e *env, c int, lo, hi int64) int64 {
	p := int64(s.period)
	t := (int64(c) - int64(e.off)%p + p) % p // i ≡ t (mod p)
	below := func(x int64) int64 {           // number of i in [0, x) with i ≡ t
		if x <= t {
			return 0
		}
		return (x-t-1)/p + 1
	}
	if hi <= lo {
		return 0
	}
	return below(hi) - below(lo)
}

// kth returns the index of the k-th (0-based) matching alert of es at or
// after lo; the caller keeps k below es.n.
func (s *Server) kth(es *envSel, lo, k int64) int64 {
	p := int64(s.period)
	if es.first == nil {
		for _, c := range es.res {
			t := (int64(c) - int64(es.e.off)%p + p) % p
			es.first = append(es.first, lo+((t-lo%p)+p)%p)
		}
		slices.Sort(es.first)
	}
	m := int64(len(es.first))
	return es.first[k%m] + (k/m)*p
}

// alertAt renders alert i of e.
func (s *Server) alertAt(e *env, i int64) wireAlert {
	c := int((i + int64(e.off)) % int64(s.period))
	ru := s.rules[c%s.cfg.Rules]
	rg := e.key.Str("alert").Num(i).Rng()
	lastSeen := s.anchor - (i+1)*s.step
	firstSeen := lastSeen - int64(rg.Intn(30*24*3600))*1000
	state, action := "OPEN", "Created"
	var suppression *string
	if c/s.cfg.Rules == suppressPhase {
		state, action = "SUPPRESS", "Suppressed"
		suppression = ptr(emulatorkit.Pick(&rg, []string{"Manual", "Rule based"}))
	}
	id := int64(e.idx+1)*10_000_000_000 + i + 1
	var jira *string
	if rg.Intn(5) == 0 {
		jira = ptr("SEC-" + strconv.Itoa(1000+rg.Intn(9000)))
	}
	a := wireAlert{
		ID:             id,
		AccountID:      e.pub.ID,
		AccountName:    e.pub.Name,
		AlertType:      ru.alertTypeIn(e),
		AlertSummary:   ru.title,
		CriticalLevel:  strings.ToUpper(ru.severity),
		URL:            "https://optix.sophos.com/#/alerts/" + strconv.FormatInt(id, 10),
		AlertID:        ru.code,
		PolicyLabel:    ru.label,
		AlertDetails:   fmt.Sprintf("%s in %s (%s).", ru.title, e.pub.Name, e.pub.Type),
		FirstSeen:      firstSeen,
		LastSeen:       lastSeen,
		Score:          1 + rg.Intn(100),
		State:          state,
		LastAction:     action,
		LastActionTime: time.UnixMilli(lastSeen).UTC().Format("2006-01-02T15:04:05.000+00:00"),
		JiraID:         jira,
		Provider:       e.pub.Type,
		RuleResult: wireRuleResult{
			Severity:      strings.ToUpper(ru.severity[:1]) + ru.severity[1:],
			DisplayOrder:  c % s.cfg.Rules,
			ControlID:     ru.controlID,
			ControlIDDesc: ru.controlDesc,
		},
	}
	if s.cfg.EpochSeconds {
		a.FirstSeen, a.LastSeen = firstSeen/1000, lastSeen/1000
		firstSeen /= 1000
	}
	n := resourcesOf(c, s.cfg.Rules)
	a.RuleResult.AffectedResources = make([]wireAffected, n)
	for j := range n {
		rr := e.key.Str("alert").Num(i).Num(int64(j)).Rng()
		region := emulatorkit.Pick(&rr, regions[e.pub.Type])
		name := resourceName(&rr, e, ru.noun, region)
		dm := map[string]string{"resourceType": ru.noun}
		if region != "" {
			dm["region"] = region
		}
		a.RuleResult.AffectedResources[j] = wireAffected{
			ID:                   id*10 + int64(j),
			AffectedResource:     name,
			DataMap:              dm,
			Status:               "FAILED",
			FailureReason:        fmt.Sprintf("%s: %s", ru.noun, strings.ToLower(ru.title[:1])+ru.title[1:]),
			AffectedResourceJSON: map[string]any{"name": name, "region": region},
			State:                state,
			SuppressionType:      suppression,
			FirstSeen:            firstSeen,
			ResourceInfoList:     []any{},
		}
		// Some resources carry a remediation date; seed 004 types it "date"
		// without a format: the emulator sends the form of lastActionTime.
		if rr.Intn(4) == 0 {
			a.RuleResult.AffectedResources[j].RemediateDate = ptr(time.UnixMilli(lastSeen).Add(14 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000+00:00"))
		}
	}
	return a
}

func ptr[T any](v T) *T { return &v }

var regions = map[string][]string{
	"AWS":        {"us-east-1", "eu-west-1", "ap-southeast-2"},
	"Azure":      {"westeurope", "eastus"},
	"GCP":        {"europe-west1", "us-central1"},
	"Kubernetes": {""},
}

// resourceName builds a resource identifier in the provider's style.
func resourceName(r *emulatorkit.Rng, e *env, noun, region string) string {
	n := noun + "-" + r.Hex(8)
	switch e.pub.Type {
	case "AWS":
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", awsService(noun), region, e.pub.ID, noun, n)
	case "Azure":
		return fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-%s/providers/Microsoft.Resources/%s/%s", e.pub.ID, r.Hex(4), noun, n)
	case "GCP":
		return fmt.Sprintf("//cloudresourcemanager.googleapis.com/projects/%s/%s/%s", e.pub.ID, noun, n)
	}
	return fmt.Sprintf("%s/namespaces/ns-%s/%s/%s", e.pub.Name, r.Hex(3), noun, n)
}

func awsService(noun string) string {
	switch noun {
	case "bucket":
		return "s3"
	case "user", "role":
		return "iam"
	case "trail":
		return "cloudtrail"
	case "database":
		return "rds"
	case "key":
		return "kms"
	}
	return "ec2"
}

// Wire shapes of GET api/v1/alerts (seed 004).
type wireAlert struct {
	ID             int64          `json:"id"`
	AccountID      string         `json:"accountId"`
	AccountName    string         `json:"accountName"`
	AlertType      string         `json:"alertType"`
	AlertSummary   string         `json:"alertSummary"`
	CriticalLevel  string         `json:"criticalLevel"`
	URL            string         `json:"url"`
	AlertID        string         `json:"alertId"`
	PolicyLabel    string         `json:"policyLabel"`
	AlertDetails   string         `json:"alertDetails"`
	FirstSeen      int64          `json:"firstSeen"`
	LastSeen       int64          `json:"lastSeen"`
	Score          int            `json:"score"`
	State          string         `json:"state"`
	LastAction     string         `json:"lastAction"`
	LastActionTime string         `json:"lastActionTime"`
	JiraID         *string        `json:"jiraId"`
	Provider       string         `json:"provider"`
	RuleResult     wireRuleResult `json:"ruleResult"`
}

type wireRuleResult struct {
	AffectedResources []wireAffected `json:"affectedResources"`
	Severity          string         `json:"severity"`
	ResultPrefix      *string        `json:"resultprefix"`
	DisplayOrder      int            `json:"displayOrder"`
	ControlID         int            `json:"controlId"`
	ControlIDDesc     string         `json:"controlIdDesc"`
}

type wireAffected struct {
	ID                        int64             `json:"id"`
	AffectedResource          string            `json:"affectedResource"`
	DataMap                   map[string]string `json:"dataMap"`
	RemediateDate             *string           `json:"remediateDate"`
	Status                    string            `json:"status"`
	FailureReason             string            `json:"failureReason"`
	Comment                   *string           `json:"Comment"`
	AffectedResourceJSON      map[string]any    `json:"affectedResourceJSON"`
	RawAffectedResourceOutput any               `json:"rawAffectedResourceOutput"`
	State                     string            `json:"state"`
	SuppressionType           *string           `json:"suppressionType"`
	FirstSeen                 int64             `json:"firstSeen"`
	ClickableResources        int               `json:"clickableResources"`
	ResourceInfoList          []any             `json:"resourceInfoList"`
}

type wireCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Total    int `json:"total"`
}
