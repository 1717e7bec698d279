package sophos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The wire shapes below follow the Sophos Cloud Optix API document (seed
// 004). The document writes every value as a type name in quotes ("number",
// "int", "Boolean"), so the real types are not certain: identifiers and
// counters are decoded with the tolerant Text, Int and Time types, which
// accept a JSON string, a number or null. Unknown fields are ignored.

// Text is a value the API may send as a string, a number or a boolean; it
// holds the value's text ("" for null).
type Text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a string or a number, got %s", truncate(string(b), 30))
	default:
		var n json.Number
		if string(b) == "true" || string(b) == "false" {
			*t = Text(b)
			return nil
		}
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*t = Text(n.String())
	}
	return nil
}

// Int is a counter the API may send as a number or a numeric string;
// fractions are dropped, null and "" are 0.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	var t Text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	s := strings.TrimSpace(string(t))
	if s == "" {
		*n = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = Int(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f > math.MaxInt64 || f < math.MinInt64 {
		return fmt.Errorf("not an integer: %q", truncate(s, 30))
	}
	*n = Int(f)
	return nil
}

// Time is a timestamp as the API writes it: epoch milliseconds (the
// document's "number" for firstSeen and lastSeen), as a number or a quoted
// number, or an ISO 8601 string (RFC 3339, or the document's
// yyyy-MM-dd'T'HH:mm:ss[+hh:mm] where a missing offset means UTC). null and
// "" decode to the zero Time. It always holds UTC.
type Time struct{ time.Time }

// maxEpochMilli is 9999-12-31T23:59:59.999Z: later instants have no RFC 3339
// form. Times before the epoch are refused in every form, as negative epoch
// numbers are, so every Time marshals (as RFC 3339) and reads back.
const maxEpochMilli = 253402300799999

// isoLayouts are the forms of ISO 8601 the API document describes, plus
// RFC 3339 with fractions (Spring's default serialisation of dates).
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05-07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02-07:00",
	"2006-01-02",
}

// secondsBelow: the document never says whether epoch numbers (firstSeen,
// lastSeen, "<<epoch time>>") are seconds or milliseconds, so the
// magnitude decides, as the Edge decoder does (edge/types.go): below 1e11
// is seconds (up to the year 5138), from there milliseconds (1973 on).
const secondsBelow = 100_000_000_000

// epoch reads an epoch number of unstated unit by its magnitude.
func epoch(n int64) time.Time {
	if n < secondsBelow {
		return time.Unix(n, 0).UTC()
	}
	return time.UnixMilli(n).UTC()
}

// ParseTime parses the forms Time accepts.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxEpochMilli {
			return time.Time{}, fmt.Errorf("epoch milliseconds %q out of range", truncate(s, 30))
		}
		return epoch(n), nil
	}
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t = t.UTC(); t.Before(time.UnixMilli(0)) || t.Year() > 9999 {
				return time.Time{}, fmt.Errorf("time %q out of range", truncate(s, 40))
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", truncate(s, 40))
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if b[0] != '"' {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("time: want epoch milliseconds or a string, got %s", truncate(string(b), 30))
		}
		if math.IsNaN(f) || f < 0 || f > maxEpochMilli {
			return fmt.Errorf("epoch milliseconds %s out of range", truncate(string(b), 30))
		}
		t.Time = epoch(int64(f))
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// MarshalJSON writes epoch milliseconds, or null for the zero Time, so a
// Time survives a round trip through this package's own encoding.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	// RFC 3339 rather than an epoch number: epoch numbers below 1e11 read
	// as seconds, so a millisecond number of the early 1970s would not
	// read back as itself.
	return []byte(`"` + t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano) + `"`), nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Page is the envelope of the paginated endpoints: alerts (pages from 1)
// and the inventory endpoints (pages from 0), which add errorMessage.
type Page[T any] struct {
	ErrorMessage string `json:"errorMessage"`
	Data         []T    `json:"data"`
	CurrentPage  Int    `json:"currentPage"`
	HasNext      bool   `json:"hasNext"`
	HasPrevious  bool   `json:"hasPrevious"`
	TotalPages   Int    `json:"totalPages"`
	Size         Int    `json:"size"`
}

// Alert is one element of GET api/v1/alerts. One alert is one rule failing
// in one environment; the failing resources are RuleResult.AffectedResources.
type Alert struct {
	ID             Text       `json:"id"`
	AccountID      Text       `json:"accountId"`
	AccountName    string     `json:"accountName"`
	AlertType      string     `json:"alertType"` // Policy, Anomaly, GuardDuty
	AlertSummary   string     `json:"alertSummary"`
	CriticalLevel  string     `json:"criticalLevel"` // CRITICAL, HIGH, MEDIUM, LOW
	URL            string     `json:"url"`
	AlertID        string     `json:"alertId"`
	PolicyLabel    string     `json:"policyLabel"`
	AlertDetails   string     `json:"alertDetails"`
	FirstSeen      Time       `json:"firstSeen"`
	LastSeen       Time       `json:"lastSeen"`
	Score          Int        `json:"score"`
	State          string     `json:"state"` // OPEN, SUPPRESS
	LastAction     string     `json:"lastAction"`
	LastActionTime Text       `json:"lastActionTime"`
	JiraID         Text       `json:"jiraId"`
	Provider       string     `json:"provider"`
	RuleResult     RuleResult `json:"ruleResult"`
}

// RuleResult is an alert's rule evaluation.
type RuleResult struct {
	AffectedResources []AffectedResource `json:"affectedResources"`
	Severity          string             `json:"severity"`
	ResultPrefix      json.RawMessage    `json:"resultprefix"`
	DisplayOrder      Int                `json:"displayOrder"`
	ControlID         Text               `json:"controlId"`
	ControlIDDesc     string             `json:"controlIdDesc"`
}

// AffectedResource is one resource an alert's rule fails on.
type AffectedResource struct {
	ID                        Text            `json:"id"`
	AffectedResource          Text            `json:"affectedResource"`
	DataMap                   json.RawMessage `json:"dataMap"`
	RemediateDate             Time            `json:"remediateDate"`
	Status                    string          `json:"status"`
	FailureReason             string          `json:"failureReason"`
	Comment                   string          `json:"Comment"`
	AffectedResourceJSON      json.RawMessage `json:"affectedResourceJSON"`
	RawAffectedResourceOutput json.RawMessage `json:"rawAffectedResourceOutput"`
	State                     string          `json:"state"`
	SuppressionType           string          `json:"suppressionType"`
	FirstSeen                 Time            `json:"firstSeen"`
	ClickableResources        Int             `json:"clickableResources"`
	ResourceInfoList          json.RawMessage `json:"resourceInfoList"`
}

// Region returns the resource's region from its dataMap ("region" or
// "Region"), or "".
func (r AffectedResource) Region() string {
	var m map[string]json.RawMessage
	if json.Unmarshal(r.DataMap, &m) != nil {
		return ""
	}
	for _, k := range []string{"region", "Region", "location"} {
		var s string
		if json.Unmarshal(m[k], &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// AlertCounts is the response of GET api/v1/alerts/count.
type AlertCounts struct {
	Critical Int `json:"critical"`
	High     Int `json:"high"`
	Medium   Int `json:"medium"`
	Low      Int `json:"low"`
	Total    Int `json:"total"`
}

// Account is one environment (AWS account, Azure subscription, GCP
// project, Kubernetes cluster, Docker registry) of GET api/v1/accounts.
// Raw is the element as received, for the inventory's configuration column.
type Account struct {
	AccountID            Text     `json:"accountId"`
	AccountType          string   `json:"accountType"`
	Name                 string   `json:"name"`
	RegisteredDate       Text     `json:"registeredDate"`
	CloudAssets          Int      `json:"cloudAssets"`
	Status               string   `json:"status"`
	IsEnabled            *bool    `json:"isEnabled"`
	IsSubAccount         bool     `json:"isSubAccount"`
	SubAccounts          []Text   `json:"subAccounts"`
	Tags                 []string `json:"tags"`
	AccountSyncBenchmark struct {
		LatestSuccessSyncTime         Time `json:"latestSuccessSyncTime"`
		LatestSuccessBenchmarkRunTime Time `json:"latestSuccessBenchmarkRunTime"`
	} `json:"accountSyncBenchmark"`
	CloudLogStatus string `json:"cloudLogStatus"`
	FlowLogStatus  string `json:"flowLogStatus"`

	Raw json.RawMessage `json:"-"`
}

// Enabled reports whether Cloud Optix monitors the environment; an absent
// isEnabled counts as enabled.
func (a Account) Enabled() bool { return a.IsEnabled == nil || *a.IsEnabled }

// Cloud is the account type in the spelling the rest of the pack uses.
func (a Account) Cloud() string { return NormalizeCloud(a.AccountType) }

// AccountIDOf is an environment's id as its provider writes it. An AWS
// account id is 12 digits, and the API may send one as a JSON number, which
// drops its leading zeros (012345678901 arrives as 12345678901): they are
// put back, so that the pack, the filters and the environment list agree.
func AccountIDOf(provider string, id Text) string {
	s := string(id)
	if NormalizeCloud(provider) == "AWS" && len(s) < 12 && isDigits(s) {
		return strings.Repeat("0", 12-len(s)) + s
	}
	return s
}

// NormalizeCloud maps the API's spellings of a provider (AWS, aws, AZURE,
// Azure, GCP, Kubernetes, …) to AWS, Azure, GCP, Kubernetes or Docker;
// anything else is returned trimmed.
func NormalizeCloud(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "aws":
		return "AWS"
	case "azure":
		return "Azure"
	case "gcp":
		return "GCP"
	case "kubernetes", "native", "k8s":
		return "Kubernetes"
	case "docker":
		return "Docker"
	}
	return s
}

// Host is one element of GET api/v1/vms. MoreInfo differs per provider
// (see the document); it is kept raw.
type Host struct {
	AccountType string          `json:"accountType"`
	AccountID   Text            `json:"accountId"`
	InstanceID  Text            `json:"instanceId"`
	MoreInfo    json.RawMessage `json:"moreInfo"`
}

// User is one element of GET api/v1/users.
type User struct {
	AccountType string          `json:"accountType"`
	AccountID   Text            `json:"accountId"`
	Name        string          `json:"name"`
	MoreInfo    json.RawMessage `json:"moreInfo"`
}

// Function is one element of GET api/v1/serverless (a Lambda function or
// an Azure Function).
type Function struct {
	AccountType  string          `json:"accountType"`
	AccountID    Text            `json:"accountId"`
	FunctionName string          `json:"functionName"`
	Region       string          `json:"region"`
	MoreInfo     json.RawMessage `json:"moreInfo"`
}

// ContainerObject is one element of GET api/v1/containers: a cluster,
// node, pod or container, depending on the query's container type.
type ContainerObject struct {
	AccountType string          `json:"accountType"`
	AccountID   Text            `json:"accountId"`
	ObjectID    Text            `json:"objectId"`
	Name        string          `json:"name"`
	MoreInfo    json.RawMessage `json:"moreInfo"`
}

// MoreInfo is the subset of the inventory endpoints' moreInfo objects that
// the pack's inventory columns use.
type MoreInfo struct {
	Region      string          `json:"region"`
	Zone        string          `json:"zone"`
	Name        string          `json:"name"`
	ARN         string          `json:"arn"`
	FunctionARN string          `json:"functionArn"`
	Tags        json.RawMessage `json:"tags"`
	MappedTags  json.RawMessage `json:"mappedTags"`
}

// ParseMoreInfo decodes the fields of MoreInfo from raw; a raw value that
// is not an object gives the zero MoreInfo.
func ParseMoreInfo(raw json.RawMessage) MoreInfo {
	var m MoreInfo
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return MoreInfo{}
	}
	return m
}

// TagsJSON returns the resource's tags as a JSON document, or "" when it
// has none. The API sends tags as an object, or as a string holding JSON
// (AWS hosts: "{ \"key\":\"value\" }"), or as another string (mappedTags).
func (m MoreInfo) TagsJSON() string {
	for _, raw := range []json.RawMessage{m.Tags, m.MappedTags} {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			s = strings.TrimSpace(s)
			if s == "" || s == "null" {
				continue
			}
			if json.Valid([]byte(s)) {
				return s
			}
			b, _ := json.Marshal(s)
			return string(b)
		}
		if json.Valid(raw) {
			return string(raw)
		}
	}
	return ""
}
