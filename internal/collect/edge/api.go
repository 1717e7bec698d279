package edge

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Paths are where the operations live. The API document gives none, so
// every one can be overridden (the tenant's lacework_edge.paths section);
// an empty field keeps its default.
type Paths struct {
	TokenLogin  string `yaml:"token_login"`  // TokenLogin: GET ?account=
	Users       string `yaml:"users"`        // Query Users
	Groups      string `yaml:"groups"`       // Query Groups
	Apps        string `yaml:"apps"`         // Query Apps
	Accesses    string `yaml:"accesses"`     // Query access objects: ?appid=&userid= (both required)
	Policies    string `yaml:"policies"`     // Query policies: ?appid=&userid=&resolveDisplayNames= (all required)
	AuditEvents string `yaml:"audit_events"` // Query Audit Events
}

// DefaultPaths are the paths used when the configuration sets none.
func DefaultPaths() Paths {
	return Paths{
		TokenLogin:  "/api/v1/tokenlogin",
		Users:       "/api/v1/users",
		Groups:      "/api/v1/groups",
		Apps:        "/api/v1/apps",
		Accesses:    "/api/v1/accesses",
		Policies:    "/api/v1/policies", // inferred: the document names no path (as for the others)
		AuditEvents: "/api/v1/auditevents",
	}
}

// WithDefaults fills the empty fields from DefaultPaths.
func (p Paths) WithDefaults() Paths {
	d := DefaultPaths()
	def := func(v *string, dv string) {
		if strings.TrimSpace(*v) == "" {
			*v = dv
		}
	}
	def(&p.TokenLogin, d.TokenLogin)
	def(&p.Users, d.Users)
	def(&p.Groups, d.Groups)
	def(&p.Apps, d.Apps)
	def(&p.Accesses, d.Accesses)
	def(&p.Policies, d.Policies)
	def(&p.AuditEvents, d.AuditEvents)
	return p
}

// Validate lists every path that is not an absolute URL path: it must start
// with "/", and carry no query, fragment, scheme or "..".
func (p Paths) Validate() error {
	var errs []error
	for _, f := range []struct{ name, v string }{
		{"token_login", p.TokenLogin}, {"users", p.Users}, {"groups", p.Groups},
		{"apps", p.Apps}, {"accesses", p.Accesses}, {"policies", p.Policies}, {"audit_events", p.AuditEvents},
	} {
		switch {
		case !strings.HasPrefix(f.v, "/") || strings.HasPrefix(f.v, "//"):
			errs = append(errs, fmt.Errorf("paths.%s %q: want an absolute path such as /api/v1/users", f.name, f.v))
		case strings.ContainsAny(f.v, "?#\\ \t\r\n"):
			errs = append(errs, fmt.Errorf("paths.%s %q: a path only, without query, fragment or spaces", f.name, f.v))
		case strings.Contains("/"+f.v+"/", "/../") || strings.Contains("/"+f.v+"/", "/./"):
			errs = append(errs, fmt.Errorf("paths.%s %q: no . or .. segments", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

// Query parameters of the document's operations.
const (
	paramAccount      = "account"             // TokenLogin (required)
	paramStatus       = "status"              // Query Users/Groups/Apps: "comma separated status to match"
	paramAppID        = "appid"               // Query access objects, Query policies (required)
	paramUserID       = "userid"              // Query access objects, Query policies (required)
	paramResolveNames = "resolveDisplayNames" // Query policies (required): "whether or not to resolve display names"
	paramStartTime    = "start_time"          // Query Audit Events (required)
	paramEndTime      = "end_time"            // Query Audit Events (optional in the document)
	paramContinuation = "continuation_token"  // the Edge paging field, sent back to get the next page
)

// allStatuses asks for every status the document lets a directory filter
// name ("INIT | ACTIVE | SUSPENDED"), so that suspended users and groups
// are in the review instead of depending on a server default.
const allStatuses = "INIT,ACTIVE,SUSPENDED"

// Limits are the budgets the client keeps. The document states none; the
// defaults are documented choices, not vendor figures.
type Limits struct {
	// RequestsPerHour per operation bucket; 0 selects the default (480, the
	// Lacework API v2 figure per functionality), < 0 means no local pacing
	// (429 Retry-After from the server is still honoured).
	RequestsPerHour int
	// AuditWindow: audit events are queried in consecutive windows of at
	// most this length, so no single response covers a whole month.
	// Default 24h.
	AuditWindow time.Duration
	// TokenTTL is assumed when a TokenLogin response states neither ttl_sec
	// nor expire_time_sec. Default 15 minutes.
	TokenTTL time.Duration
	// MaxLookups bounds the (app, user) pairs Accesses and Policies look up
	// (the document's Query access objects and Query policies require both
	// appid and userid: one request per pair and page). A directory with
	// more pairs is refused before the first lookup, with the count, rather
	// than read for hours or in part. 0 selects DefaultMaxLookups, < 0
	// means no bound.
	MaxLookups int
}

// Default limit values.
const (
	DefaultRequestsPerHour = 480
	DefaultAuditWindow     = 24 * time.Hour
	DefaultTokenTTL        = 15 * time.Minute
	// DefaultMaxLookups: our choice, 2000 pairs (e.g. 20 apps × 100 users)
	// take about 4 h per operation at the default 480 requests per hour.
	DefaultMaxLookups = 2000
)

func (l Limits) withDefaults() Limits {
	switch {
	case l.RequestsPerHour < 0:
		l.RequestsPerHour = 0
	case l.RequestsPerHour == 0:
		l.RequestsPerHour = DefaultRequestsPerHour
	}
	if l.AuditWindow <= 0 {
		l.AuditWindow = DefaultAuditWindow
	}
	if l.TokenTTL <= 0 {
		l.TokenTTL = DefaultTokenTTL
	}
	if l.MaxLookups == 0 {
		l.MaxLookups = DefaultMaxLookups
	}
	return l
}
