package lacework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The wire shapes below follow the Lacework API v2 document (seed 000) and the
// structs of the public lacework/go-sdk, including their casing quirks
// (account.AccountId, Account_Alias, cloudDetails.accountID, UPPER_SNAKE report
// keys). Unknown fields are ignored: the document sets additionalProperties.

// Time is a timestamp as the API writes it: RFC 3339 (with or without
// milliseconds), one of the document's shorter UTC forms, or epoch
// milliseconds as a number or a quoted number. null and "" decode to the zero
// Time. It always holds UTC.
type Time struct{ time.Time }

// apiLayouts are the document's "Date & Time Formats" plus RFC 3339 variants.
var apiLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z",
	"2006-01-02T15:04:05Z",
	"2006-01-02T15",
	"2006-01-02",
	"2006-01-02 15:04:05",
}

// maxEpochMilli is 9999-12-31T23:59:59.999Z: later instants have no RFC 3339 form.
const maxEpochMilli = 253402300799999

// ParseTime parses the formats Time accepts.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if isDigits(s) {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms > maxEpochMilli {
			return time.Time{}, fmt.Errorf("epoch milliseconds %q out of range", s)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, l := range apiLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, fmt.Errorf("time %q out of range", truncate(s, 40))
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", truncate(s, 40))
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

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	var s string
	switch plain, ok := plainString(b); {
	case ok:
		s = plain
	case b[0] == '"':
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	default:
		s = string(b)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			// A number: epoch milliseconds (fractions are dropped).
			if f < 0 || f > maxEpochMilli {
				return fmt.Errorf("epoch milliseconds %s out of range", truncate(s, 30))
			}
			t.Time = time.UnixMilli(int64(f)).UTC()
			return nil
		}
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// plainString returns the text of a JSON string that has no escapes and
// only printable ASCII, which is what json.Unmarshal would make of it. A
// time is such a string on every row of a page, and json.Unmarshal (a
// decoder set up, the value scanned twice) cost more per row than the
// rest of the row's decoding; any other string goes to json.Unmarshal.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : len(b)-1] {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(b[1 : len(b)-1]), true
}

// MarshalJSON writes RFC 3339 with milliseconds, or null for the zero Time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(timeFormat) + `"`), nil
}

// timeFormat is the API's yyyy-MM-ddTHH:mm:ss.SSSZ.
const timeFormat = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Paging is the "paging" object of paged responses.
type Paging struct {
	Rows      int `json:"rows"`
	TotalRows int `json:"totalRows"`
	URLs      struct {
		NextPage *string `json:"nextPage"`
	} `json:"urls"`
}

// page is the envelope of paged search responses, and of the list
// endpoints (which have no paging). Every response sample of seed 000
// carries "data"; a body without it (null, {}, {"data": null}) is an
// error, never an empty result: a proxy's or a broken server's empty answer
// would otherwise drop every sub-account, account or framework silently.
type page[T any] struct {
	Paging *Paging
	Data   []T
}

// ErrNoEnvelope means a 200 response lacks the documented "data" key.
var ErrNoEnvelope = errors.New(`response has no "data" (the documented envelope)`)

func (p *page[T]) UnmarshalJSON(b []byte) error {
	var raw struct {
		Paging *Paging `json:"paging"`
		Data   *[]T    `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw.Data == nil {
		return ErrNoEnvelope
	}
	p.Paging, p.Data = raw.Paging, *raw.Data
	return nil
}

// userProfiles is GET /api/v2/UserProfile: a bare array in the document's
// response sample (seed 000, List Sub-accounts), a "data" envelope in
// lacework/go-sdk (api/user_profile.go, UserProfileResponse). Both are
// read; null, {} or {"data": null} is ErrNoEnvelope, never "no accounts".
type userProfiles []UserProfile

func (u *userProfiles) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, (*[]UserProfile)(u))
	}
	var p page[UserProfile]
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*u = p.Data
	return nil
}

// tokenRequest and tokenResponse are POST /api/v2/access/tokens.
type tokenRequest struct {
	KeyID      string `json:"keyId"`
	ExpiryTime int    `json:"expiryTime"`
}

type tokenResponse struct {
	Token     string `json:"token"`
	ExpiresAt Time   `json:"expiresAt"`
}

// UserProfile is one element of GET /api/v2/UserProfile's data.
type UserProfile struct {
	Username   string    `json:"username"`
	OrgAccount bool      `json:"orgAccount"`
	URL        string    `json:"url"`
	OrgAdmin   bool      `json:"orgAdmin"`
	OrgUser    bool      `json:"orgUser"`
	Accounts   []Account `json:"accounts"`
}

// Account is an account (sub-account) the user can reach.
type Account struct {
	Admin       bool   `json:"admin"`
	AccountName string `json:"accountName"`
	CustGUID    string `json:"custGuid"`
	UserGUID    string `json:"userGuid"`
	UserEnabled int    `json:"userEnabled"` // 1 = enabled
}

// CloudAccount is an integration from GET /api/v2/CloudAccounts.
type CloudAccount struct {
	IntgGUID string            `json:"intgGuid"`
	Name     string            `json:"name"`
	Type     string            `json:"type"` // AwsCfg, AzureCfg, GcpCfg, …
	Enabled  int               `json:"enabled"`
	IsOrg    int               `json:"isOrg"`
	State    *IntegrationState `json:"state"`
	Data     json.RawMessage   `json:"data"`
}

// IntegrationState is a cloud account's integration state.
type IntegrationState struct {
	OK                 bool `json:"ok"`
	LastUpdatedTime    Time `json:"lastUpdatedTime"`
	LastSuccessfulTime Time `json:"lastSuccessfulTime"`
}

// cloudAccountData holds the identifying fields of the config integrations
// (AwsCfg: awsAccountId; AzureCfg: tenantId; GcpCfg: idType + id).
type cloudAccountData struct {
	AwsAccountID string `json:"awsAccountId"`
	// AwsUsGovCfg (AWS GovCloud) keeps the account id with its access-key
	// credentials, not in awsAccountId (lacework/go-sdk
	// api/cloud_accounts_aws_gov_cfg.go, AwsUsGovCfgCredentials).
	AccessKeyCredentials struct {
		AccountID string `json:"accountId"`
	} `json:"accessKeyCredentials"`
	TenantID string `json:"tenantId"`
	IDType   string `json:"idType"` // PROJECT | ORGANIZATION
	ID       string `json:"id"`
}

// AzureConfig is one tenant of GET /api/v2/Configs/AzureSubscriptions.
// Values may carry an alias: "id (alias)".
type AzureConfig struct {
	Tenant        string   `json:"tenant"`
	Subscriptions []string `json:"subscriptions"`
}

// GcpConfig is one organization of GET /api/v2/Configs/GcpProjects.
type GcpConfig struct {
	Organization string   `json:"organization"`
	Projects     []string `json:"projects"`
}

// SplitIDAlias splits "id (alias)" into its parts; a value without
// parentheses is all id.
func SplitIDAlias(s string) (id, alias string) {
	i := strings.Index(s, "(")
	if i < 0 {
		return strings.TrimSpace(s), ""
	}
	alias = s[i+1:]
	if j := strings.LastIndex(alias, ")"); j >= 0 {
		alias = alias[:j]
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(alias)
}

// ReportDefinition is one element of GET /api/v2/ReportDefinitions.
type ReportDefinition struct {
	GUID          string `json:"reportDefinitionGuid"`
	ReportName    string `json:"reportName"`
	DisplayName   string `json:"displayName"`
	ReportType    string `json:"reportType"`    // COMPLIANCE
	SubReportType string `json:"subReportType"` // AWS | Azure | GCP
	CreatedBy     string `json:"createdBy"`     // SYSTEM for built-in frameworks
	// Enabled is nil when the definition has no "enabled" key. The seed
	// does not say what a missing key means; lacework/go-sdk's fixture of
	// a user-created definition (api/report_definitions_test.go,
	// singleMockReportDefinition) has none, so a missing key counts as
	// enabled and custom frameworks are not lost; only an explicit 0
	// excludes a framework.
	Enabled *int `json:"enabled"`
}

// IsEnabled reports whether the definition is enabled (a missing key is).
func (d ReportDefinition) IsEnabled() bool { return d.Enabled == nil || *d.Enabled == 1 }

// ReportHeader is a compliance report without its recommendations.
type ReportHeader struct {
	ReportType       string          `json:"reportType"`
	ReportTitle      string          `json:"reportTitle"`
	ReportTime       Time            `json:"reportTime"`
	AccountID        string          `json:"accountId"`
	AccountAlias     string          `json:"accountAlias"`
	TenantID         string          `json:"tenantId"`
	TenantName       string          `json:"tenantName"`
	SubscriptionID   string          `json:"subscriptionId"`
	SubscriptionName string          `json:"subscriptionName"`
	OrganizationID   string          `json:"organizationId"`
	OrganizationName string          `json:"organizationName"`
	ProjectID        string          `json:"projectId"`
	ProjectName      string          `json:"projectName"`
	Summary          []ReportSummary `json:"summary"`
}

// ReportSummary is the summary object of a report.
type ReportSummary struct {
	NumRecommendations        int `json:"NUM_RECOMMENDATIONS"`
	NumCompliant              int `json:"NUM_COMPLIANT"`
	NumNotCompliant           int `json:"NUM_NOT_COMPLIANT"`
	NumSuppressed             int `json:"NUM_SUPPRESSED"`
	NumSeverity1NonCompliance int `json:"NUM_SEVERITY_1_NON_COMPLIANCE"`
	NumSeverity2NonCompliance int `json:"NUM_SEVERITY_2_NON_COMPLIANCE"`
	NumSeverity3NonCompliance int `json:"NUM_SEVERITY_3_NON_COMPLIANCE"`
	NumSeverity4NonCompliance int `json:"NUM_SEVERITY_4_NON_COMPLIANCE"`
	NumSeverity5NonCompliance int `json:"NUM_SEVERITY_5_NON_COMPLIANCE"`
	AssessedResourceCount     int `json:"ASSESSED_RESOURCE_COUNT"`
	ViolatedResourceCount     int `json:"VIOLATED_RESOURCE_COUNT"`
	SuppressedResourceCount   int `json:"SUPPRESSED_RESOURCE_COUNT"`
}

// Recommendation is one control of a report with its violations.
type Recommendation struct {
	RecID                 string      `json:"REC_ID"`
	Title                 string      `json:"TITLE"`
	Category              string      `json:"CATEGORY"`
	Service               string      `json:"SERVICE"`
	Status                string      `json:"STATUS"`
	Severity              int         `json:"SEVERITY"` // 1 Critical … 5 Info
	AccountID             string      `json:"ACCOUNT_ID"`
	AccountAlias          string      `json:"ACCOUNT_ALIAS"`
	TenantID              string      `json:"TENANT_ID"`
	SubscriptionID        string      `json:"SUBSCRIPTION_ID"`
	OrganizationID        string      `json:"ORGANIZATION_ID"`
	ProjectID             string      `json:"PROJECT_ID"`
	StartTime             Time        `json:"START_TIME"` // epoch milliseconds on the wire
	Suppressions          []string    `json:"SUPPRESSIONS"`
	InfoLink              string      `json:"INFO_LINK"`
	AssessedResourceCount int         `json:"ASSESSED_RESOURCE_COUNT"`
	ResourceCount         int         `json:"RESOURCE_COUNT"`
	Violations            []Violation `json:"VIOLATIONS"`
}

// Violation is one non-compliant resource of a recommendation.
type Violation struct {
	Region   string   `json:"region"`
	Resource string   `json:"resource"`
	Reasons  []string `json:"reasons"`
}

// SeverityName maps the report's numeric severity to its name.
func SeverityName(n int) string {
	switch n {
	case 1:
		return "Critical"
	case 2:
		return "High"
	case 3:
		return "Medium"
	case 4:
		return "Low"
	case 5:
		return "Info"
	}
	return "Unknown"
}

// Filter is one condition of a search body.
type Filter struct {
	Field      string   `json:"field"`
	Expression string   `json:"expression"`
	Value      string   `json:"value,omitempty"`
	Values     []string `json:"values,omitempty"`
}

type timeFilter struct {
	StartTime string `json:"startTime"`
	EndTime   string `json:"endTime"`
}

type searchBody struct {
	TimeFilter timeFilter `json:"timeFilter"`
	Filters    []Filter   `json:"filters,omitempty"`
	Dataset    string     `json:"dataset,omitempty"`
	CSP        string     `json:"csp,omitempty"`
}

// Evaluation is a row of Configs/ComplianceEvaluations/search.
type Evaluation struct {
	Account        EvaluationAccount `json:"account"`
	EvalType       string            `json:"evalType"`
	ID             string            `json:"id"`
	Reason         string            `json:"reason"`
	Recommendation string            `json:"recommendation"`
	ReportTime     Time              `json:"reportTime"`
	Resource       string            `json:"resource"`
	Section        string            `json:"section"`
	Severity       string            `json:"severity"`
	Status         string            `json:"status"`
}

// EvaluationAccount identifies the cloud account of an evaluation. The AWS
// keys are go-sdk's; the others are what Azure, GCP and Kubernetes rows carry.
type EvaluationAccount struct {
	AccountID      string `json:"AccountId"`
	AccountAlias   string `json:"Account_Alias"`
	TenantID       string `json:"TenantId"`
	SubscriptionID string `json:"SubscriptionId"`
	OrganizationID string `json:"OrganizationId"`
	ProjectID      string `json:"ProjectId"`
	ClusterName    string `json:"ClusterName"`
}

// Resource is a row of Inventory/search.
type Resource struct {
	CSP            string          `json:"csp"`
	StartTime      Time            `json:"startTime"`
	EndTime        Time            `json:"endTime"`
	ResourceID     string          `json:"resourceId"`
	APIKey         string          `json:"apiKey"` // Lacework's key for the resource
	ResourceRegion string          `json:"resourceRegion"`
	ResourceType   string          `json:"resourceType"`
	Service        string          `json:"service"`
	URN            string          `json:"urn"`
	ResourceTags   json.RawMessage `json:"resourceTags"`
	ResourceConfig json.RawMessage `json:"resourceConfig"`
	CloudDetails   CloudDetails    `json:"cloudDetails"`
	Status         ResourceStatus  `json:"status"`
}

// CloudDetails identifies the account of an inventory resource.
type CloudDetails struct {
	AccountID      string `json:"accountID"`
	AccountAlias   string `json:"accountAlias"`
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	OrganizationID string `json:"organizationId"`
	ProjectID      string `json:"projectId"`
}

// ResourceStatus is the collection status of an inventory resource.
type ResourceStatus struct {
	FormatVersion int    `json:"formatVersion"`
	Status        string `json:"status"`
	ErrorMessage  string `json:"errorMessage"`
	ErrorType     string `json:"errorType"`
	// Props is what the collector recorded with the status (an object).
	Props json.RawMessage `json:"props"`
}

// AuditLog is a row of GET /api/v2/AuditLogs.
type AuditLog struct {
	CreatedTime      Time   `json:"createdTime"`
	AccountName      string `json:"accountName"`
	UserName         string `json:"userName"`
	EventName        string `json:"eventName"`
	UserAction       string `json:"userAction"`
	EventDescription string `json:"eventDescription"`
}
