package ibmscc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The wire shapes below follow the public Sysdig Secure API that IBM hosts
// (the document lists status codes but no schemas). Unknown fields are
// ignored. Fields whose type the sources disagree on decode leniently: ids
// and small numbers as FlexString, counts as FlexInt, instants as EpochTime.

// FlexInt is a count sent as a JSON number or a numeric string
// ("totalCount": 40 or "40"). null and "" decode to 0.
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *FlexInt) UnmarshalJSON(b []byte) error {
	s, _, err := scalar(b)
	if err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = FlexInt(v)
		return nil
	}
	// A whole number written as a float (12.0, 1e3) is still a count.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return fmt.Errorf("not an integer: %q", truncate(s, 30))
	}
	*n = FlexInt(f)
	return nil
}

// FlexString is a scalar (string, number or boolean) kept as its text: ids
// are "15" in one response and 15 in another. null decodes to "".
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	s, _, err := scalar(b)
	if err != nil {
		return err
	}
	*f = FlexString(s)
	return nil
}

// String returns the text.
func (f FlexString) String() string { return string(f) }

// scalar returns the text of a JSON string, number or boolean, and whether
// it was a string; null is "". Objects and arrays are an error.
func scalar(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", false, nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		return strings.TrimSpace(s), true, nil
	case b[0] == '{' || b[0] == '[':
		return "", false, errors.New("want a scalar, got an object or array")
	}
	return string(b), false, nil
}

// EpochTime is an instant sent as a count since the Unix epoch, a JSON
// number or a numeric string, in seconds, milliseconds, microseconds or
// nanoseconds: the Sysdig APIs use all four (lastSeen in seconds,
// lastSeenDate in milliseconds, audit timestamps in nanoseconds). The unit
// is told by magnitude: below 10¹¹ seconds (year 5138), below 10¹⁴
// milliseconds, below 10¹⁷ microseconds, otherwise nanoseconds; a
// nanosecond count before 1973 would therefore be misread, which no API
// value is. null, "" and 0 decode to the zero Time. It always holds UTC.
type EpochTime struct{ time.Time }

// maxEpoch is the last instant with a nanosecond count (2262-04-11):
// later values are refused rather than overflow.
var maxEpoch = time.Unix(0, math.MaxInt64).UTC()

// ParseEpoch parses the text EpochTime accepts.
func ParseEpoch(s string) (time.Time, error) {
	t, err := parseEpoch(s)
	if err == nil && t.After(maxEpoch) {
		return time.Time{}, fmt.Errorf("epoch time %q is after %d", truncate(strings.TrimSpace(s), 30), maxEpoch.Year())
	}
	return t, err
}

func parseEpoch(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Seconds with a fraction ("1759355449.5").
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < 0 || f >= 1e11 || math.IsNaN(f) || strings.ContainsAny(s, "eE") {
			return time.Time{}, fmt.Errorf("epoch time %q: not a non-negative integer", truncate(s, 30))
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	switch {
	case v < 0:
		return time.Time{}, fmt.Errorf("epoch time %q is negative", truncate(s, 30))
	case v < 1e11:
		return time.Unix(v, 0).UTC(), nil
	case v < 1e14:
		return time.UnixMilli(v).UTC(), nil
	case v < 1e17:
		return time.UnixMicro(v).UTC(), nil
	}
	return time.Unix(0, v).UTC(), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *EpochTime) UnmarshalJSON(b []byte) error {
	s, _, err := scalar(b)
	if err != nil {
		return err
	}
	v, err := ParseEpoch(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON writes epoch nanoseconds, or 0 for the zero Time.
func (t EpochTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("0"), nil
	}
	return []byte(strconv.FormatInt(t.UnixNano(), 10)), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// listPage is the envelope of the CSPM lists: {"data": [...], "totalCount": n}.
type listPage struct {
	Data       json.RawMessage `json:"data"`
	TotalCount FlexInt         `json:"totalCount"`
}

// Zone is a Sysdig zone: a named scope of resources ("Entire Infrastructure").
type Zone struct {
	ID   FlexString `json:"id"`
	Name string     `json:"name"`
}

// viewsResponse is GET /api/cspm/v1/compliance/views.
type viewsResponse struct {
	Data []View `json:"data"`
}

// View is the compliance of one zone: the policies applied to it.
type View struct {
	ZoneID   FlexString   `json:"zoneId"`
	ZoneName string       `json:"zoneName"`
	Policies []ViewPolicy `json:"policies"`
}

// ViewPolicy is one policy (framework) of a zone with its latest scores.
type ViewPolicy struct {
	ID                       FlexString               `json:"id"`
	Name                     string                   `json:"name"`
	FailedControls           FlexInt                  `json:"failedControls"`
	ResourceViolationSummary ResourceViolationSummary `json:"resourceViolationSummary"`
	RequirementsHistory      []RequirementsHistory    `json:"requirementsHistory"`
}

// ResourceViolationSummary counts violating resources per severity.
type ResourceViolationSummary struct {
	HighSeverity   FlexInt `json:"highSeverity"`
	MediumSeverity FlexInt `json:"mediumSeverity"`
	LowSeverity    FlexInt `json:"lowSeverity"`
}

// RequirementsHistory is one evaluation of a policy in a zone.
type RequirementsHistory struct {
	Date                    EpochTime `json:"date"`
	RequirementPassingScore FlexInt   `json:"requirementPassingScore"`
	FailedRequirements      FlexInt   `json:"failedRequirements"`
	EvaluatedResources      FlexInt   `json:"evaluatedResources"`
}

// LastEvaluated returns the latest history date, or the zero Time.
func (p ViewPolicy) LastEvaluated() time.Time {
	var t time.Time
	for _, h := range p.RequirementsHistory {
		if h.Date.After(t) {
			t = h.Date.Time
		}
	}
	return t
}

// Requirement is one element of GET /api/cspm/v1/compliance/requirements:
// a requirement of a policy in a zone, with its controls.
type Requirement struct {
	RequirementID       FlexString `json:"requirementId"`
	Name                string     `json:"name"`
	Description         string     `json:"description"`
	Pass                bool       `json:"pass"`
	Severity            FlexString `json:"severity"` // "High", or 3 in filters
	PolicyID            FlexString `json:"policyId"`
	PolicyName          string     `json:"policyName"`
	Zone                Zone       `json:"zone"`
	FailedControls      FlexInt    `json:"failedControls"`
	HighSeverityCount   FlexInt    `json:"highSeverityCount"`
	MediumSeverityCount FlexInt    `json:"mediumSeverityCount"`
	LowSeverityCount    FlexInt    `json:"lowSeverityCount"`
	AcceptedCount       FlexInt    `json:"acceptedCount"`
	PassingCount        FlexInt    `json:"passingCount"`
	Controls            []Control  `json:"controls"`
}

// Control is a control of a requirement. ObjectsCount counts the failing
// resources whose risk is not accepted, AcceptedCount those whose risk is,
// PassingCount the passing ones; their sum is what was evaluated. The
// document has no response schema: the field names follow the public Sysdig
// Secure API, and that the three counts do not overlap is inferred (see
// FailingResources). Severity is the document's 1=low, 2=medium, 3=high, or
// the names of those levels (the inventory filter's control.severity in
// ("High")).
type Control struct {
	ID                  FlexString `json:"id"`
	Name                string     `json:"name"`
	Description         string     `json:"description"`
	Target              string     `json:"target"`
	Type                FlexString `json:"type"`
	Pass                bool       `json:"pass"`
	Severity            FlexString `json:"severity"`
	ObjectsCount        FlexInt    `json:"objectsCount"`
	AcceptedCount       FlexInt    `json:"acceptedCount"`
	PassingCount        FlexInt    `json:"passingCount"`
	RemediationID       FlexString `json:"remediationId"`
	LastUpdate          EpochTime  `json:"lastUpdate"`
	ResourceKind        string     `json:"resourceKind"`
	IsManual            bool       `json:"isManual"`
	ResourceAPIEndpoint string     `json:"resourceApiEndpoint"`
	Platform            string     `json:"platform"`
	Authors             string     `json:"authors"`
}

// Assessed is the number of resources the control was evaluated on.
func (c Control) Assessed() int64 {
	return int64(c.ObjectsCount) + int64(c.AcceptedCount) + int64(c.PassingCount)
}

// ControlResource is a resource of GET /api/cspm/v1/{cloud,kube,
// clusteranalysis}/resources: its result for one control.
type ControlResource struct {
	Name         string      `json:"name"`
	Passed       bool        `json:"passed"`
	Hash         string      `json:"hash"`
	Type         string      `json:"type"`
	Account      FlexString  `json:"account"`
	Location     string      `json:"location"`
	Organization FlexString  `json:"organization"`
	Acceptance   *Acceptance `json:"acceptance"`
	Zones        []Zone      `json:"zones"`
	LastSeenDate EpochTime   `json:"lastSeenDate"`
	LabelValues  []string    `json:"labelValues"`
	GlobalID     string      `json:"globalId"`

	// Kubernetes workloads and hosts (kube, clusteranalysis).
	ClusterName         string     `json:"clusterName"`
	Namespace           string     `json:"namespace"`
	OSName              string     `json:"osName"`
	OSImage             string     `json:"osImage"`
	DistributionName    string     `json:"distributionName"`
	DistributionVersion FlexString `json:"distributionVersion"`
	PlatformAccountID   FlexString `json:"platformAccountId"`
	CloudResourceID     string     `json:"cloudResourceId"`
	CloudRegion         string     `json:"cloudRegion"`
}

// Acceptance is a risk acceptance on a failing resource: present (even
// empty) means the risk was accepted.
type Acceptance struct {
	Reason        string     `json:"reason"`
	Description   string     `json:"description"`
	Justification string     `json:"justification"`
	Username      string     `json:"username"`
	ExpiresAt     FlexString `json:"expiresAt"`
}

// InventoryResource is one element of GET /api/cspm/v1/inventory/resources.
// Metadata holds the platform's identifiers (account, region, cluster …)
// under keys whose case differs between platforms; see Meta.
type InventoryResource struct {
	ID                    FlexString                 `json:"id"`
	Hash                  string                     `json:"hash"`
	Name                  string                     `json:"name"`
	Platform              string                     `json:"platform"`
	Type                  string                     `json:"type"`
	Category              string                     `json:"category"`
	LastSeen              EpochTime                  `json:"lastSeen"`
	Metadata              map[string]json.RawMessage `json:"metadata"`
	Labels                json.RawMessage            `json:"labels"`
	Zones                 []Zone                     `json:"zones"`
	Configuration         json.RawMessage            `json:"configuration"`
	KeyValueConfigs       json.RawMessage            `json:"keyValueConfigs"`
	PosturePolicySummary  json.RawMessage            `json:"posturePolicySummary"`
	PostureControlSummary json.RawMessage            `json:"postureControlSummary"`
	ResourceOrigin        string                     `json:"resourceOrigin"`
}

// Meta returns the first metadata value among keys (compared
// case-insensitively) as text; objects and arrays are skipped.
func (r InventoryResource) Meta(keys ...string) string {
	for _, want := range keys {
		for k, raw := range r.Metadata {
			if !strings.EqualFold(k, want) {
				continue
			}
			if s, _, err := scalar(raw); err == nil && s != "" {
				return s
			}
		}
	}
	return ""
}

// inventoryFields are the fields asked of the inventory: the document's
// default set plus the identifiers the pack needs ("Fields that are not
// specified will return empty").
const inventoryFields = "id,hash,name,platform,type,category,configuration,keyvalueconfigs,labels,lastseen,metadata,zones,posturepolicysummary,posturecontrolsummary,resourceorigin"

// auditPage is GET /api/v2/activityAudit/events.
type auditPage struct {
	Data []AuditEvent `json:"data"`
	Page struct {
		Prev  string  `json:"prev"`
		Next  string  `json:"next"`
		Total FlexInt `json:"total"`
	} `json:"page"`
}

// AuditEvent is an activity-audit event: a command, a network connection,
// a file access or a kubectl exec/attach (Type command, connection,
// fileaccess, kubernetes). Timestamp is in nanoseconds.
type AuditEvent struct {
	ID          string     `json:"id"`
	Cursor      string     `json:"cursor"`
	Timestamp   EpochTime  `json:"timestamp"`
	Type        string     `json:"type"`
	Hostname    string     `json:"hostname"`
	ContainerID string     `json:"containerId"`
	Labels      Labels     `json:"labels"`
	Comm        string     `json:"comm"`
	PID         FlexString `json:"pid"`
	TTY         FlexString `json:"tty"`

	// command
	Cmdline            string     `json:"cmdline"`
	Pcomm              string     `json:"pcomm"`
	PPID               FlexString `json:"ppid"`
	UID                FlexString `json:"uid"`
	Cwd                string     `json:"cwd"`
	LoginShellID       FlexString `json:"loginShellId"`
	LoginShellDistance FlexString `json:"loginShellDistance"`
	UserLoginUID       FlexString `json:"userLoginUid"`
	UserLoginName      string     `json:"userLoginName"`
	ProcExepath        string     `json:"procExepath"`

	// connection
	ProcessName string     `json:"processName"`
	ClientIPv4  string     `json:"clientIpv4"`
	ClientPort  FlexString `json:"clientPort"`
	ServerIPv4  string     `json:"serverIpv4"`
	ServerPort  FlexString `json:"serverPort"`
	Direction   string     `json:"direction"`
	L4Protocol  string     `json:"l4protocol"`
	DNSDomains  []string   `json:"dnsDomains"`

	// fileaccess
	Directory   string `json:"directory"`
	Filename    string `json:"filename"`
	Permissions string `json:"permissions"`

	// kubernetes
	Resource        string          `json:"resource"`
	SubResource     string          `json:"subResource"`
	Namespace       string          `json:"namespace"`
	Name            string          `json:"name"`
	SourceAddresses []string        `json:"sourceAddresses"`
	User            KubeUser        `json:"user"`
	UserAgent       string          `json:"userAgent"`
	Args            json.RawMessage `json:"args"`
}

// KubeUser is the user of a kubernetes audit event: an object
// {"username", "groups"} or, in older events, the bare name.
type KubeUser struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

// UnmarshalJSON implements json.Unmarshaler.
func (u *KubeUser) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		type plain KubeUser
		var p plain
		if err := json.Unmarshal(b, &p); err != nil {
			return err
		}
		*u = KubeUser(p)
		return nil
	}
	s, _, err := scalar(b)
	if err != nil {
		return err
	}
	*u = KubeUser{Username: s}
	return nil
}

// Labels are an event's scope labels ("kubernetes.cluster.name": …).
// Values that are not strings keep their JSON text.
type Labels map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (l *Labels) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*l = nil
		return nil
	}
	out := make(Labels, len(raw))
	for k, v := range raw {
		if s, _, err := scalar(v); err == nil {
			out[k] = s
		} else {
			out[k] = string(bytes.TrimSpace(v))
		}
	}
	*l = out
	return nil
}

// tokenResponse is the IAM token endpoint's answer.
type tokenResponse struct {
	AccessToken string  `json:"access_token"`
	TokenType   string  `json:"token_type"`
	ExpiresIn   FlexInt `json:"expires_in"` // seconds
	Expiration  FlexInt `json:"expiration"` // epoch seconds
}
