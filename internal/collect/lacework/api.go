package lacework

import "time"

// Endpoint paths (seed 000). Each is also the name of its rate-limit bucket:
// the document gives every API functionality its own bucket of 480 tokens.
const (
	pathTokens             = "/api/v2/access/tokens"
	pathUserProfile        = "/api/v2/UserProfile"
	pathCloudAccounts      = "/api/v2/CloudAccounts"
	pathAzureSubscriptions = "/api/v2/Configs/AzureSubscriptions"
	pathGcpProjects        = "/api/v2/Configs/GcpProjects"
	pathReportDefinitions  = "/api/v2/ReportDefinitions"
	pathReports            = "/api/v2/Reports"
	pathEvaluations        = "/api/v2/Configs/ComplianceEvaluations/search"
	pathInventory          = "/api/v2/Inventory/search"
	pathAuditLogs          = "/api/v2/AuditLogs"
)

// Limits of the Lacework API v2, as the document states them. They are
// values, not constants, so tests and the emulator can scale them down.
type Limits struct {
	// PageRows: "Row limit per page: 5,000 rows" (Overview › Pagination).
	PageRows int
	// ResultCap: "Row limit of all pages of one result set: 500,000 rows".
	// A query whose totalRows reaches it is re-run as smaller windows.
	ResultCap int
	// RequestsPerHour: "480 API requests per hour per user", per
	// functionality bucket (Overview › Rate Limiting).
	RequestsPerHour int
	// Burst is the bucket's capacity: requests that may go at once before
	// the hourly rate paces them. Default RequestsPerHour (a full hour's
	// budget, as the server grants); tests scale time down with a higher
	// rate and the documented burst.
	Burst int
	// EvaluationWindow: "The maximum time range per API request is 7 days"
	// (Search Compliance Evaluations).
	EvaluationWindow time.Duration
	// EvaluationHistory: evaluations are searchable "within the last 90 days".
	EvaluationHistory time.Duration
	// MinWindow: the smallest window a capped result set is split into
	// before giving up.
	MinWindow time.Duration
	// AuditWindow: the window of one AuditLogs request. Our choice (the
	// document states no window limit): a day of an account's audit log is
	// far below a page, and an answer that reaches a page is split anyway.
	AuditWindow time.Duration
	// TokenExpiry: the access token lifetime asked for; "Maximum value:
	// 86400 (24 hours)" (Access Tokens).
	TokenExpiry time.Duration
}

// Endpoints, exported for the manifest's record of each unit's call.
const (
	PathEvaluations = pathEvaluations
	PathInventory   = pathInventory
	PathAuditLogs   = pathAuditLogs
	PathReports     = pathReports
)

// Documented limit values.
const (
	MaxTokenExpiry = 24 * time.Hour
	MaxPostBody    = 1 << 20 // "POST body content is limited to 1 MB"
)

// DefaultLimits returns the limits the document states.
func DefaultLimits() Limits {
	return Limits{
		PageRows:          5000,
		ResultCap:         500_000,
		RequestsPerHour:   480,
		EvaluationWindow:  7 * 24 * time.Hour,
		EvaluationHistory: 90 * 24 * time.Hour,
		MinWindow:         time.Minute,
		AuditWindow:       24 * time.Hour,
		TokenExpiry:       time.Hour,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.PageRows <= 0 {
		l.PageRows = d.PageRows
	}
	if l.ResultCap <= 0 {
		l.ResultCap = d.ResultCap
	}
	if l.RequestsPerHour < 0 {
		l.RequestsPerHour = 0
	} else if l.RequestsPerHour == 0 {
		l.RequestsPerHour = d.RequestsPerHour
	}
	if l.Burst <= 0 {
		l.Burst = l.RequestsPerHour
	}
	if l.EvaluationWindow <= 0 {
		l.EvaluationWindow = d.EvaluationWindow
	}
	if l.EvaluationHistory <= 0 {
		l.EvaluationHistory = d.EvaluationHistory
	}
	if l.AuditWindow <= 0 {
		l.AuditWindow = d.AuditWindow
	}
	if l.MinWindow <= 0 {
		l.MinWindow = d.MinWindow
	}
	if l.TokenExpiry <= 0 {
		l.TokenExpiry = d.TokenExpiry
	}
	l.TokenExpiry = min(l.TokenExpiry, MaxTokenExpiry)
	return l
}

// EvaluationDatasets are the datasets of Configs/ComplianceEvaluations/search.
func EvaluationDatasets() []string {
	return []string{"AwsCompliance", "AzureCompliance", "GcpCompliance", "K8sCompliance"}
}

// InventoryCSPs are the csp values of Inventory/search.
func InventoryCSPs() []string { return []string{"AWS", "Azure", "GCP"} }
