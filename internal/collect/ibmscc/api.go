package ibmscc

import "strings"

// Endpoint paths (seed 002, "Methods"). They start with /api below the
// regional host ("https://us-south.security-compliance-secure.cloud.ibm.com/api").
const (
	pathViews            = "/api/cspm/v1/compliance/views"
	pathRequirements     = "/api/cspm/v1/compliance/requirements"
	pathCloudResources   = "/api/cspm/v1/cloud/resources"
	pathKubeResources    = "/api/cspm/v1/kube/resources"
	pathClusterResources = "/api/cspm/v1/clusteranalysis/resources"
	pathInventory        = "/api/cspm/v1/inventory/resources"
	pathAuditEvents      = "/api/v2/activityAudit/events"

	// Exported for the manifest's record of each unit's call.
	PathRequirements = pathRequirements
	PathInventory    = pathInventory
	PathAuditEvents  = pathAuditEvents
)

// Rate-limit buckets, one per endpoint family. The document states no rate
// limits; the buckets keep a burst on one family (thousands of
// failing-resource pages) from starving the others.
const (
	bucketIAM        = "iam"
	bucketCompliance = "cspm/compliance"
	bucketResources  = "cspm/resources"
	bucketInventory  = "cspm/inventory"
	bucketAudit      = "activityAudit"
)

// Values the document fixes.
const (
	// DefaultIAMURL is the IAM token endpoint (section Authentication).
	DefaultIAMURL = "https://iam.cloud.ibm.com/identity/token"
	// GrantTypeAPIKey is the grant type of an API-key exchange.
	GrantTypeAPIKey = "urn:ibm:params:oauth:grant-type:apikey"
	// MaxAuditLimit: "Limit the number of results to return. Possible
	// values: 1 ≤ value ≤ 9999" (Retrieves a list of audit events).
	MaxAuditLimit = 9999
	// HeaderInstance is the document's instance header. HeaderTeam is
	// "SysdigTeamID", not the seed's "TeamID": that part of the seed is
	// copied from IBM Cloud Monitoring, while IBM's Workload Protection
	// and Monitoring curl examples send "SysdigTeamID: $TEAM_ID", and so
	// does Sysdig's own IBM client (sysdiglabs/terraform-provider-sysdig,
	// sysdig/internal/client/v2/ibm.go: sysdigTeamIDHeader). A "TeamID"
	// header is presumably ignored, the data then the user's default team's.
	HeaderInstance = "IBMInstanceID"
	HeaderTeam     = "SysdigTeamID"
)

// RegionURL returns the public endpoint of a region ("us-south" →
// https://us-south.security-compliance-secure.cloud.ibm.com): section
// Endpoint URL. The "/api" of the document's form is part of every path.
func RegionURL(region string) string {
	return "https://" + strings.ToLower(strings.TrimSpace(region)) + ".security-compliance-secure.cloud.ibm.com"
}

// Limits are the client's paging and pacing values. They are values, not
// constants, so tests and configurations can change them.
type Limits struct {
	// PageSize is the pageSize of the CSPM lists. The document gives the
	// defaults (requirements 10, resources 50, inventory 20) and "Example:
	// 50", no maximum; 50 is the largest value it shows.
	PageSize int
	// AuditLimit is the limit of an activity-audit page, 1..MaxAuditLimit.
	AuditLimit int
	// RequestsPerMinute paces each bucket (token bucket, burst Burst). The
	// document states no limit: 300 a minute (5 a second) is our default,
	// low enough for a batch job and well under what the UI itself sends.
	// The server's 429 and Retry-After still pace on top. Negative: no
	// client-side pacing.
	RequestsPerMinute int
	Burst             int
}

// DefaultLimits returns the limits used when a field is zero.
func DefaultLimits() Limits {
	return Limits{PageSize: 50, AuditLimit: 1000, RequestsPerMinute: 300, Burst: 10}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.PageSize <= 0 {
		l.PageSize = d.PageSize
	}
	if l.AuditLimit <= 0 {
		l.AuditLimit = d.AuditLimit
	}
	l.AuditLimit = min(l.AuditLimit, MaxAuditLimit)
	if l.RequestsPerMinute == 0 {
		l.RequestsPerMinute = d.RequestsPerMinute
	}
	if l.Burst <= 0 {
		l.Burst = d.Burst
	}
	return l
}
