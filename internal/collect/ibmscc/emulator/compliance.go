package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// controlDef is a control of requirement r of policy p, evaluated in zone z.
type controlDef struct {
	id, name, description string
	target                string // AWS, GCP, Azure, Kubernetes, Linux
	provider              string // cloud controls: AWS, GCP, Azure
	resourceKind          string
	path                  string // its resources endpoint
	severity              string
	manual                bool
	failing               int // failing, risk not accepted
	accepted              int // failed, risk accepted (listed as passed, with an acceptance)
	passing               int
}

func (d controlDef) pass() bool { return !d.manual && d.failing == 0 && d.accepted == 0 }

func (d controlDef) total() int { return d.failing + d.accepted + d.passing }

// severities are the values of a requirement's and a control's "severity":
// the names of seed 002's three levels (1=low, 2=medium, 3=high), as its
// inventory filter writes them (control.severity in ("High")). That the
// responses carry names rather than the numbers is inferred.
var severities = []string{"High", "Medium", "Low"}

// severityNumber is the filter's number for a severity (1=low, 2=medium,
// 3=high, as the document states).
func severityNumber(s string) string {
	switch s {
	case "High":
		return "3"
	case "Medium":
		return "2"
	}
	return "1"
}

var cloudKinds = map[string][]string{
	"AWS":   {"AWS_S3_BUCKET", "AWS_POLICY", "AWS_NETWORK_ACL", "AWS_SECURITY_GROUP", "AWS_S3_VERSIONING_CONFIGURATION"},
	"GCP":   {"GCP_STORAGE_BUCKET", "GCP_PROJECT", "GCP_FIREWALL"},
	"Azure": {"AZURE_STORAGE_ACCOUNT", "AZURE_KEY_VAULT", "AZURE_NETWORK_SECURITY_GROUP"},
}

var controlSubjects = []string{
	"Enabled Versioning", "Enabled MFA Delete", "No Full Administrative Privileges Policies",
	"Disallowed Public Access to Administration Ports", "Encryption at Rest", "Logging Enabled",
	"Restricted Privileged Containers", "Read-only Root Filesystem", "Audit Log Retention",
	"Password Policy Strength", "Key Rotation", "No Default Service Account",
}

var requirementTitles = []string{
	"Ensure MFA Delete is enabled on S3 buckets", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached",
	"Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports",
	"Minimize the admission of privileged containers", "Ensure audit logging is configured",
	"Ensure permissions on /etc/passwd are configured", "Access Control Policy", "Change Management",
	"Encryption of data at rest", "Logical access security software",
}

// controlCount is the number of controls of requirement r of policy p.
func (s *Server) controlCount(p, r int) int {
	return 1 + s.root.Str("ctl-count").Num(int64(p)).Num(int64(r)).Mod(s.cfg.ControlsPerRequirement)
}

// controlID encodes (p, r, c) so a resources request can find its control.
func controlID(p, r, c int) string { return strconv.Itoa(1_000_000 + p*100_000 + r*100 + c) }

func (s *Server) decodeControlID(id string) (p, r, c int, ok bool) {
	v, err := strconv.Atoi(id)
	if err != nil || v < 1_000_000 {
		return 0, 0, 0, false
	}
	v -= 1_000_000
	p, r, c = v/100_000, (v%100_000)/100, v%100
	if p >= len(s.policies) || r >= s.cfg.RequirementsPerPolicy || c >= s.controlCount(p, r) {
		return 0, 0, 0, false
	}
	return p, r, c, true
}

// control returns control c of requirement r of policy p in zone z.
func (s *Server) control(z, p, r, c int) controlDef {
	rg := s.root.Str("control").Num(int64(p)).Num(int64(r)).Num(int64(c)).Rng()
	d := controlDef{id: controlID(p, r, c), severity: emulatorkit.Pick(&rg, severities)}
	kind := s.policies[p].kind
	if kind == kindMixed {
		kind = []int{kindAWS, kindKube, kindHost, kindAWS}[rg.Intn(4)]
	}
	subject := emulatorkit.Pick(&rg, controlSubjects)
	switch kind {
	case kindAWS:
		d.provider = emulatorkit.Pick(&rg, []string{"AWS", "AWS", "GCP", "Azure"})
		if s.policies[p].kind == kindAWS {
			d.provider = "AWS"
		}
		d.target = d.provider
		d.resourceKind = emulatorkit.Pick(&rg, cloudKinds[d.provider])
		d.path = pathCloudResources
		d.name = strings.TrimPrefix(strings.SplitN(d.resourceKind, "_", 2)[1], "_") + " - " + subject
	case kindKube:
		d.target, d.resourceKind, d.path = "Kubernetes", "workload", pathKubeResources
		d.name = "Workload - " + subject
	default:
		d.target, d.resourceKind, d.path = "Linux", "host", pathClusterResources
		d.name = "Host - " + subject
	}
	d.description = "Checks that resources satisfy: " + subject + "."
	if s.cfg.Tricky && (p+r+c)%7 == 0 {
		d.name = "=HYPERLINK(\"http://x\") " + d.name + " — تحقق 検査"
	}
	k := s.root.Str("counts").Num(int64(z)).Num(int64(p)).Num(int64(r)).Num(int64(c)).Rng()
	if k.Intn(17) == 0 {
		d.manual = true
		return d
	}
	t := k.Intn(s.cfg.ResourcesPerControl + 1)
	if k.Intn(5) >= 2 {
		d.failing = k.Intn(t + 1)
	}
	if rest := t - d.failing; rest > 0 && k.Intn(4) == 0 {
		d.accepted = 1 + k.Intn(rest)
	}
	d.passing = t - d.failing - d.accepted
	return d
}

// endpoint is the control's resourceApiEndpoint, unencoded as the API
// writes it.
func (s *Server) endpoint(d controlDef, z, p int) string {
	filter := "policyId=" + s.policies[p].id + " and zones.id=" + s.zones[z].id
	switch d.path {
	case pathCloudResources:
		return fmt.Sprintf("%s?controlId=%s&providerType=%s&resourceKind=%s&filter=%s", d.path, d.id, d.provider, d.resourceKind, filter)
	case pathKubeResources:
		return fmt.Sprintf("%s?controlId=%s&resourceKind=%s&filter=%s", d.path, d.id, d.resourceKind, filter)
	}
	return fmt.Sprintf("%s?controlId=%s&benchmarkType=0&resourceKind=%s&filter=%s", d.path, d.id, d.resourceKind, filter)
}

// evaluatedAt is when the emulated posture was last evaluated: the hour
// before Now, truncated.
func (s *Server) evaluatedAt(now time.Time) time.Time {
	return now.Truncate(time.Hour).Add(-evaluationHoursBackward * time.Hour)
}

// requirementDef summarises requirement r of policy p in zone z.
type requirementDef struct {
	id, name, severity       string
	pass                     bool
	failedControls           int
	high, medium, low        int64
	accepted, passing, total int64
}

func (s *Server) requirement(z, p, r int) requirementDef {
	rg := s.root.Str("requirement").Num(int64(p)).Num(int64(r)).Rng()
	d := requirementDef{
		id:       strconv.Itoa(16000 + p*1000 + r),
		name:     fmt.Sprintf("%d.%d %s", r/5+1, r%5+1, emulatorkit.Pick(&rg, requirementTitles)),
		severity: emulatorkit.Pick(&rg, severities),
		pass:     true,
	}
	if s.cfg.Tricky && r%5 == 3 {
		d.name += " +cmd|' /C calc'!A0 \x07 «ملاحظة»"
	}
	for c := range s.controlCount(p, r) {
		ct := s.control(z, p, r, c)
		if !ct.pass() {
			d.pass = false
			d.failedControls++
		}
		switch ct.severity {
		case "High":
			d.high += int64(ct.failing)
		case "Medium":
			d.medium += int64(ct.failing)
		default:
			d.low += int64(ct.failing)
		}
		d.accepted += int64(ct.accepted)
		d.passing += int64(ct.passing)
		d.total += int64(ct.total())
	}
	return d
}

type zoneJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (s *Server) handleViews(c *call) *response {
	if len(c.q) > 0 {
		return s.fail(errorf(http.StatusBadRequest, "This method does not accept any request parameters"))
	}
	type history struct {
		Date                    string `json:"date"`
		RequirementPassingScore int    `json:"requirementPassingScore"`
		FailedRequirements      int    `json:"failedRequirements"`
		EvaluatedResources      int64  `json:"evaluatedResources"`
	}
	type viewPolicy struct {
		ID                       string `json:"id"`
		Name                     string `json:"name"`
		FailedControls           int    `json:"failedControls"`
		ResourceViolationSummary struct {
			HighSeverity   int64 `json:"highSeverity"`
			MediumSeverity int64 `json:"mediumSeverity"`
			LowSeverity    int64 `json:"lowSeverity"`
		} `json:"resourceViolationSummary"`
		RequirementsHistory []history `json:"requirementsHistory"`
	}
	type view struct {
		ZoneID   string       `json:"zoneId"`
		ZoneName string       `json:"zoneName"`
		Policies []viewPolicy `json:"policies"`
	}
	date := strconv.FormatInt(s.evaluatedAt(c.now).Unix(), 10)
	out := struct {
		Data []view `json:"data"`
	}{Data: []view{}}
	for z, zn := range s.zones {
		v := view{ZoneID: zn.id, ZoneName: zn.name, Policies: []viewPolicy{}}
		for p, pol := range s.policies {
			if !s.applies(z, p) {
				continue
			}
			vp := viewPolicy{ID: pol.id, Name: pol.name}
			h := history{Date: date}
			for r := range s.cfg.RequirementsPerPolicy {
				rd := s.requirement(z, p, r)
				vp.FailedControls += rd.failedControls
				vp.ResourceViolationSummary.HighSeverity += rd.high
				vp.ResourceViolationSummary.MediumSeverity += rd.medium
				vp.ResourceViolationSummary.LowSeverity += rd.low
				if rd.pass {
					h.RequirementPassingScore++
				} else {
					h.FailedRequirements++
				}
				h.EvaluatedResources += rd.total
			}
			vp.RequirementsHistory = []history{h}
			v.Policies = append(v.Policies, vp)
		}
		out.Data = append(out.Data, v)
	}
	return s.jsonResp(http.StatusOK, out)
}

type controlJSON struct {
	ID                     string `json:"id"`
	Name                   string `json:"name"`
	Description            string `json:"description"`
	Target                 string `json:"target"`
	Type                   int    `json:"type"`
	Pass                   bool   `json:"pass"`
	Severity               string `json:"severity"`
	ObjectsCount           int    `json:"objectsCount"`
	RemediationID          string `json:"remediationId"`
	LastUpdate             string `json:"lastUpdate"`
	AcceptedCount          int    `json:"acceptedCount"`
	ResourceKind           string `json:"resourceKind"`
	IsManual               bool   `json:"isManual"`
	ResourceAPIEndpoint    string `json:"resourceApiEndpoint"`
	SupportedDistributions []any  `json:"supportedDistributions"`
	Platform               string `json:"platform"`
	Authors                string `json:"authors"`
	PassingCount           int    `json:"passingCount"`
}

type requirementJSON struct {
	Name                string        `json:"name"`
	Pass                bool          `json:"pass"`
	Severity            string        `json:"severity"`
	PolicyID            string        `json:"policyId"`
	PolicyName          string        `json:"policyName"`
	Controls            []controlJSON `json:"controls,omitempty"`
	FailedControls      int           `json:"failedControls"`
	HighSeverityCount   int64         `json:"highSeverityCount"`
	MediumSeverityCount int64         `json:"mediumSeverityCount"`
	LowSeverityCount    int64         `json:"lowSeverityCount"`
	AcceptedCount       int64         `json:"acceptedCount"`
	Description         string        `json:"description"`
	RequirementID       string        `json:"requirementId"`
	Zone                zoneJSON      `json:"zone"`
	PassingCount        int64         `json:"passingCount"`
}

// handleRequirements serves GET /api/cspm/v1/compliance/requirements.
// Filter fields: name, policy.name, zone.name, pass, severity (1..3).
// Every requirement carries its controls: the document names no parameter
// for them (an includeControls parameter, which older versions of our
// client sent, is accepted and changes nothing).
func (s *Server) handleRequirements(c *call) *response {
	if err := c.checkQuery("filter", "pageNumber", "pageSize", "includeControls"); err != nil {
		return s.fail(err)
	}
	page, size, aerr := s.paging(c, 10)
	if aerr != nil {
		return s.fail(aerr)
	}
	conds, err := parseFilter(c.q.Get("filter"), "name", "policy.name", "zone.name", "pass", "severity")
	if err != nil {
		return s.fail(errorf(http.StatusBadRequest, "%v", err))
	}
	lastUpdate := strconv.FormatInt(s.evaluatedAt(c.now).Unix(), 10)
	lo, hi := window(page, size, 1<<62)
	var data []requirementJSON
	var total int64
	for z, zn := range s.zones {
		for p, pol := range s.policies {
			if !s.applies(z, p) || !matchAll(conds, map[string]string{"policy.name": pol.name, "zone.name": zn.name}) {
				continue
			}
			for r := range s.cfg.RequirementsPerPolicy {
				rd := s.requirement(z, p, r)
				if !matchAll(conds, map[string]string{"name": rd.name, "pass": strconv.FormatBool(rd.pass), "severity": severityNumber(rd.severity)}) {
					continue
				}
				if total >= lo && total < hi {
					data = append(data, s.requirementJSON(z, p, r, rd, lastUpdate))
				}
				total++
			}
		}
	}
	if data == nil {
		data = []requirementJSON{}
	}
	// totalCount is a string here, as the API sends it for this endpoint.
	return s.jsonResp(http.StatusOK, struct {
		Data       []requirementJSON `json:"data"`
		TotalCount string            `json:"totalCount"`
	}{data, strconv.FormatInt(total, 10)})
}

// matchAll reports whether every condition on a field present in vals holds.
func matchAll(conds []cond, vals map[string]string) bool {
	for _, c := range conds {
		if v, ok := vals[c.field]; ok && !c.match(v) {
			return false
		}
	}
	return true
}

func (s *Server) requirementJSON(z, p, r int, rd requirementDef, lastUpdate string) requirementJSON {
	pol, zn := s.policies[p], s.zones[z]
	out := requirementJSON{
		RequirementID: rd.id, Name: rd.name, Pass: rd.pass, Severity: rd.severity,
		PolicyID: pol.id, PolicyName: pol.name, Zone: zoneJSON{zn.id, zn.name},
		FailedControls: rd.failedControls, HighSeverityCount: rd.high, MediumSeverityCount: rd.medium,
		LowSeverityCount: rd.low, AcceptedCount: rd.accepted, PassingCount: rd.passing,
		Description: "Requirement " + rd.name + " of " + pol.name + ".",
	}
	for ci := range s.controlCount(p, r) {
		d := s.control(z, p, r, ci)
		out.Controls = append(out.Controls, controlJSON{
			ID: d.id, Name: d.name, Description: d.description, Target: d.target, Type: 8, Pass: d.pass(),
			Severity: d.severity, ObjectsCount: d.failing, RemediationID: d.id, LastUpdate: lastUpdate,
			AcceptedCount: d.accepted, ResourceKind: d.resourceKind, IsManual: d.manual,
			ResourceAPIEndpoint: s.endpoint(d, z, p), SupportedDistributions: []any{}, Authors: "Sysdig",
			PassingCount: d.passing,
		})
	}
	return out
}

// span is a run of resource indices of one state.
type span struct {
	lo, hi           int
	passed, accepted bool
}

// handleResources serves the three control-resource endpoints. The filter
// must select the control's policy and zone (policyId=… and zones.id=…, as
// the controls' resourceApiEndpoint does); pass and accepted narrow it.
func (s *Server) handleResources(c *call) *response {
	path := c.r.URL.Path
	allowed := []string{"controlId", "resourceKind", "filter", "pageNumber", "pageSize"}
	switch path {
	case pathCloudResources:
		allowed = append(allowed, "providerType")
	case pathClusterResources:
		allowed = append(allowed, "benchmarkType")
	}
	if err := c.checkQuery(allowed...); err != nil {
		return s.fail(err)
	}
	page, size, aerr := s.paging(c, 50)
	if aerr != nil {
		return s.fail(aerr)
	}
	p, r, ci, ok := s.decodeControlID(c.q.Get("controlId"))
	if !ok {
		return s.fail(errorf(http.StatusBadRequest, "controlId %q: no such control", c.q.Get("controlId")))
	}
	def := s.control(0, p, r, ci)
	if def.path != path {
		return s.fail(errorf(http.StatusBadRequest, "control %s has no resources at %s", def.id, path))
	}
	if rk := c.q.Get("resourceKind"); rk != def.resourceKind {
		return s.fail(errorf(http.StatusBadRequest, "resourceKind %q: control %s evaluates %s", rk, def.id, def.resourceKind))
	}
	if path == pathCloudResources && c.q.Get("providerType") != def.provider {
		return s.fail(errorf(http.StatusBadRequest, "providerType %q: control %s is a %s control", c.q.Get("providerType"), def.id, def.provider))
	}
	if bt := c.q.Get("benchmarkType"); path == pathClusterResources && bt != "" && bt != "0" {
		return s.fail(errorf(http.StatusBadRequest, "benchmarkType %q: control %s is a Linux (0) control", bt, def.id))
	}
	conds, err := parseFilter(c.q.Get("filter"), "policyId", "zones.id", "pass", "accepted")
	if err != nil {
		return s.fail(errorf(http.StatusBadRequest, "%v", err))
	}
	var policyID, zoneID string
	for _, cd := range conds {
		switch cd.field {
		case "policyId":
			policyID, err = cd.single()
		case "zones.id":
			zoneID, err = cd.single()
		}
		if err != nil {
			return s.fail(errorf(http.StatusBadRequest, "%v", err))
		}
	}
	if policyID == "" || zoneID == "" {
		return s.fail(errorf(http.StatusUnprocessableEntity, "the filter must select policyId and zones.id (the emulator serves a control's results per policy and zone)"))
	}
	z := -1
	for i, zn := range s.zones {
		if zn.id == zoneID {
			z = i
		}
	}
	var spans []span
	if z >= 0 && policyID == s.policies[p].id && s.applies(z, p) {
		d := s.control(z, p, r, ci)
		// Accepted resources carry "passed": true and an acceptance, so
		// pass=false does not find them: inferred from the document's
		// example filter "pass=false or accepted=true", whose "or
		// accepted=true" would add nothing if it did. A client that
		// reads pass=false alone loses them.
		for _, sp := range []span{{0, d.failing, false, false}, {d.failing, d.failing + d.accepted, true, true}, {d.failing + d.accepted, d.total(), true, false}} {
			if sp.hi > sp.lo && matchAll(conds, map[string]string{"pass": strconv.FormatBool(sp.passed), "accepted": strconv.FormatBool(sp.accepted)}) {
				spans = append(spans, sp)
			}
		}
	}
	var total int64
	for _, sp := range spans {
		total += int64(sp.hi - sp.lo)
	}
	lo, hi := window(page, size, total)
	data := make([]any, 0, hi-lo)
	off := int64(0)
	for _, sp := range spans {
		for j := max(lo-off, 0); j < int64(sp.hi-sp.lo) && off+j < hi; j++ {
			data = append(data, s.controlResource(c.now, def, z, p, r, ci, sp.lo+int(j), sp))
		}
		off += int64(sp.hi - sp.lo)
	}
	return s.jsonResp(http.StatusOK, struct {
		Data       []any `json:"data"`
		TotalCount int64 `json:"totalCount"`
	}{data, total})
}

type acceptanceJSON struct {
	Reason      string `json:"reason"`
	Description string `json:"description"`
	Username    string `json:"username"`
	ExpiresAt   string `json:"expiresAt"`
}

// controlResource renders resource j of a control.
func (s *Server) controlResource(now time.Time, def controlDef, z, p, r, c, j int, sp span) any {
	rg := s.root.Str("resource").Num(int64(p)).Num(int64(r)).Num(int64(c)).Num(int64(j)).Rng()
	zones := []zoneJSON{{s.zones[z].id, s.zones[z].name}}
	var acc *acceptanceJSON
	if sp.accepted {
		expires := now.Add(90 * 24 * time.Hour)
		if s.cfg.Tricky && j%4 == 1 {
			// Seed 002 does not say whether an acceptance past its
			// expiresAt is still returned; Tricky returns some, so that
			// the register's "expired" flag is exercised.
			expires = now.Add(-10 * 24 * time.Hour)
		}
		acc = &acceptanceJSON{Reason: emulatorkit.Pick(&rg, []string{"Risk Owned", "Risk Transferred", "Risk Mitigated"}),
			Description: "Accepted by the security team", Username: "secops@example.com",
			ExpiresAt: strconv.FormatInt(expires.UnixMilli(), 10)}
	}
	hash := rg.Hex(16)
	seen := now.Add(-time.Duration(rg.Intn(86400)) * time.Second)
	name := ""
	switch def.path {
	case pathCloudResources:
		acct := s.cloudAccount(def.provider, &rg)
		name = strings.ToLower(strings.ReplaceAll(def.resourceKind, "_", "-")) + "-" + rg.Hex(8)
		if s.cfg.Tricky && j%11 == 5 {
			name = "@SUM(1+1) " + name + " 名前"
		}
		return struct {
			Name         string          `json:"name"`
			Passed       bool            `json:"passed"`
			Hash         string          `json:"hash"`
			Type         string          `json:"type"`
			Account      string          `json:"account"`
			Location     string          `json:"location"`
			Organization string          `json:"organization"`
			Acceptance   *acceptanceJSON `json:"acceptance"`
			Zones        []zoneJSON      `json:"zones"`
			LastSeenDate string          `json:"lastSeenDate"`
			LabelValues  []string        `json:"labelValues"`
			GlobalID     string          `json:"globalId"`
		}{name, sp.passed, hash, strings.ReplaceAll(def.resourceKind, "_", " "), acct.ID, acct.Region, "o-" + rg.Hex(10), acc, zones,
			strconv.FormatInt(seen.UnixMilli(), 10), []string{}, ""}
	case pathKubeResources:
		name = emulatorkit.Pick(&rg, []string{"payments", "checkout", "catalog", "frontend"}) + "-" + rg.Hex(5)
		return struct {
			Name                string          `json:"name"`
			Passed              bool            `json:"passed"`
			Hash                string          `json:"hash"`
			Type                string          `json:"type"`
			ClusterName         string          `json:"clusterName"`
			Namespace           string          `json:"namespace"`
			Acceptance          *acceptanceJSON `json:"acceptance"`
			Zones               []zoneJSON      `json:"zones"`
			LastSeenDate        string          `json:"lastSeenDate"`
			LabelValues         []string        `json:"labelValues"`
			DistributionName    string          `json:"distributionName"`
			DistributionVersion string          `json:"distributionVersion"`
		}{name, sp.passed, hash, emulatorkit.Pick(&rg, []string{"Deployment", "DaemonSet", "StatefulSet"}), "iks-prod-cluster",
			emulatorkit.Pick(&rg, []string{"default", "payments", "kube-system"}), acc, zones, strconv.FormatInt(seen.UnixMilli(), 10),
			[]string{"app:" + name}, "IKS", "1.29"}
	}
	return struct {
		Name             string          `json:"name"`
		Type             string          `json:"type"`
		Passed           bool            `json:"passed"`
		ConfigError      string          `json:"configError"`
		OSName           string          `json:"osName"`
		OSImage          string          `json:"osImage"`
		ClusterName      string          `json:"clusterName"`
		Acceptance       *acceptanceJSON `json:"acceptance"`
		Hash             string          `json:"hash"`
		Zones            []zoneJSON      `json:"zones"`
		LastSeenDate     string          `json:"lastSeenDate"`
		DistributionName string          `json:"distributionName"`
		CloudRegion      string          `json:"cloudRegion"`
		AgentTags        []string        `json:"agentTags"`
	}{"host-" + rg.Hex(8) + ".internal", "Host", sp.passed, "", "linux", "Red Hat Enterprise Linux 9.4", "N/A", acc, hash, zones,
		strconv.FormatInt(seen.Unix(), 10), "Linux", "us-south", []string{}}
}

// cloudAccount picks an inventory account of the provider.
func (s *Server) cloudAccount(provider string, rg *emulatorkit.Rng) Account {
	var of []Account
	for _, a := range accounts {
		if a.Platform == provider {
			of = append(of, a)
		}
	}
	return emulatorkit.Pick(rg, of)
}
