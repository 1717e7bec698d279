package emulator

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Config configures a Server. A zero field selects its default; all data is
// a pure function of Seed, the catalogue sizes and Now.
type Config struct {
	Seed       int64
	APIKey     string   // the one API key the IAM endpoint accepts; default DefaultAPIKey
	InstanceID string   // the instance GUID (IBMInstanceID); default DefaultInstanceID
	Teams      []string // SysdigTeamID values accepted; default {DefaultTeamID}. No SysdigTeamID header is fine too (a "TeamID" one is ignored).

	Zones                  []string // zone names; default DefaultZones. The first one holds every policy.
	Policies               []string // policy names; default DefaultPolicies
	RequirementsPerPolicy  int      // default 12, at most 999
	ControlsPerRequirement int      // at most this many controls per requirement; default 3, at most 99
	ResourcesPerControl    int      // at most this many evaluated resources per control and zone; default 30
	InventoryResources     int      // default 500
	AuditEventsPerDay      int      // activity-audit events per UTC day, evenly spaced; default 2000

	// MaxPageSize is the largest pageSize served (the document states no
	// maximum); larger values get 400. Default 1000.
	MaxPageSize int

	// Now is the emulated clock for data (inventory lastSeen, evaluation
	// times, the audit-event horizon); default time.Now. Token lifetimes and
	// Retry-After blocks use the real clock.
	Now func() time.Time

	// Tricky puts hostile values into some rows: formula-like cells (=, +,
	// -, @), right-to-left and CJK text, control characters, quotes and
	// backslashes; and some risk acceptances already past their expiresAt.
	Tricky bool

	Faults Faults
}

// Faults injects misbehaviour. The Every counters run over API requests
// (every /api request that passed routing, authentication and the instance
// and team checks), so a given request sequence meets the same faults.
type Faults struct {
	// RefuseAPIKey makes the IAM endpoint refuse every key, as it refuses a
	// wrong one: 400 with errorCode BXNIM0415E.
	RefuseAPIKey bool
	// TokenTTL shortens the access tokens' lifetime (expires_in) from the
	// IAM default of 3600 s (real clock).
	TokenTTL time.Duration
	// ExpireTokenEvery: every k-th API request finds its token expired: 401,
	// and the token stays revoked, so the client must get a new one.
	ExpireTokenEvery int
	// ErrorEvery: every k-th API request gets a 5xx, cycling 500, 502, 503
	// (503 with Retry-After: 1).
	ErrorEvery int
	// RateLimitEvery: every k-th API request gets 429 with Retry-After: 1,
	// and its endpoint family refuses requests for that second; requests
	// that arrive meanwhile are violations (Violations).
	RateLimitEvery int
	// DropEvery: every k-th API request has its connection dropped,
	// alternating before any byte and after the headers and half the body.
	DropEvery int
}

// Defaults.
const (
	DefaultAPIKey     = "emulator-ibmcloud-api-key-0123456789"
	DefaultInstanceID = "5b1e8f64-3a2d-4c7b-9e51-0d6f2a9c4e11"
	DefaultTeamID     = "10011"
	DefaultRegion     = "us-south"

	defaultRequirements     = 12
	defaultControls         = 3
	defaultResources        = 30
	defaultInventory        = 500
	defaultAuditPerDay      = 2000
	defaultMaxPageSize      = 1000
	defaultTokenLifetime    = time.Hour
	auditRetention          = 90 * 24 * time.Hour
	maxRequirements         = 999
	maxControls             = 99
	nanosPerDay             = int64(24 * time.Hour)
	maxAuditEventsPerDay    = 86_400_000 // one per millisecond
	evaluationHoursBackward = 1
)

// DefaultZones are the zones of the default catalogue.
var DefaultZones = []string{"Entire Infrastructure", "Production", "Kubernetes Clusters"}

// DefaultPolicies are the policies of the default catalogue. The last name
// carries a quote and a backslash, which filters must escape.
var DefaultPolicies = []string{
	"CIS Amazon Web Services Foundations Benchmark v3.0.0",
	"CIS Kubernetes V1.24 Benchmark",
	"CIS Distribution Independent Linux Benchmark (Level 1 - Server)",
	"SOC 2",
	`Custom "Prod" Policy \ v1`,
}

// Account is a cloud account (AWS account, GCP project, Azure subscription,
// Kubernetes cluster) of the inventory.
type Account struct {
	ID       string
	Platform string // AWS, GCP, Azure, Kubernetes
	Region   string
}

// accounts are the inventory's accounts; resource i belongs to
// accounts[i % len(accounts)].
var accounts = []Account{
	{"123456789012", "AWS", "us-east-1"},
	{"210987654321", "AWS", "eu-west-1"},
	{"prj-evidence-prod", "GCP", "europe-west1"},
	{"8f0e2f9a-1c5b-4c9e-9f25-2c7f3a1d9e10", "Azure", "westeurope"},
	{"iks-prod-cluster", "Kubernetes", "us-south"},
}

// Accounts returns the inventory's accounts.
func Accounts() []Account { return slices.Clone(accounts) }

// Request is one entry of the request log: the common fields of
// emulatorkit.Entry and the instance and team headers. PageID is the path
// and sorted query of a page of a paged list; Violation means the request
// arrived while its endpoint family was blocked by a Retry-After; Fault is
// "expire", "500", "502", "503", "429", "drop-before" or "drop-mid".
type Request struct {
	emulatorkit.Entry
	Instance string // IBMInstanceID header
	Team     string // SysdigTeamID header
}

// Server is the emulator: an http.Handler, safe for concurrent use.
type Server struct {
	cfg      Config
	root     emulatorkit.Key
	zones    []zone
	policies []policy
	long     string

	log    emulatorkit.Log[Request, *Request]
	faults emulatorkit.FaultCounter
	blocks emulatorkit.Blocks // family → end of its Retry-After block
	bufs   emulatorkit.BufferPool

	mu      sync.Mutex
	tokens  map[string]time.Time
	revoked map[string]bool
	issued  int
}

type zone struct {
	id, name string
}

type policy struct {
	id, name string
	kind     int
}

// Policy kinds: what the controls of a policy check.
const (
	kindAWS = iota
	kindKube
	kindHost
	kindMixed
)

// New returns an emulator for cfg.
func New(cfg Config) *Server {
	cfg = normalize(cfg)
	root := newKey(cfg.Seed)
	s := &Server{
		cfg:     cfg,
		root:    root,
		tokens:  map[string]time.Time{},
		revoked: map[string]bool{},
		long:    strings.Repeat("evidence-", 4000), // > 32,767 characters
	}
	for i, name := range cfg.Zones {
		r := root.Str("zone").Num(int64(i)).Rng()
		// Zone ids are integers: seed 002's resource filters type zones.id
		// "integer" ("zones.id=1"). Sent as JSON strings of digits
		// (inferred: the type of the response fields is not documented).
		s.zones = append(s.zones, zone{id: strconv.Itoa(10_000_000 + i*1_000_000 + r.Intn(1_000_000)), name: name})
	}
	for i, name := range cfg.Policies {
		s.policies = append(s.policies, policy{id: strconv.Itoa(15 + 7*i), name: name, kind: i % 4})
	}
	return s
}

func normalize(c Config) Config {
	if c.APIKey == "" {
		c.APIKey = DefaultAPIKey
	}
	if c.InstanceID == "" {
		c.InstanceID = DefaultInstanceID
	}
	if c.Teams == nil {
		c.Teams = []string{DefaultTeamID}
	}
	if len(c.Zones) == 0 {
		c.Zones = DefaultZones
	}
	if len(c.Policies) == 0 {
		c.Policies = DefaultPolicies
	}
	def := func(v *int, d, hi int) {
		if *v <= 0 {
			*v = d
		}
		*v = min(*v, hi)
	}
	def(&c.RequirementsPerPolicy, defaultRequirements, maxRequirements)
	def(&c.ControlsPerRequirement, defaultControls, maxControls)
	def(&c.ResourcesPerControl, defaultResources, 1<<30)
	def(&c.InventoryResources, defaultInventory, 1<<40)
	def(&c.AuditEventsPerDay, defaultAuditPerDay, maxAuditEventsPerDay)
	def(&c.MaxPageSize, defaultMaxPageSize, 1<<20)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Zones returns the zone names, in catalogue order.
func (s *Server) Zones() []string { return slices.Clone(s.cfg.Zones) }

// Policies returns the policy names, in catalogue order.
func (s *Server) Policies() []string { return slices.Clone(s.cfg.Policies) }

// ZonePolicies returns the names of the policies applied to zone, in
// catalogue order (nil for an unknown zone).
func (s *Server) ZonePolicies(zoneName string) []string {
	z := slices.IndexFunc(s.zones, func(z zone) bool { return z.name == zoneName })
	if z < 0 {
		return nil
	}
	var out []string
	for p := range s.policies {
		if s.applies(z, p) {
			out = append(out, s.policies[p].name)
		}
	}
	return out
}

// applies reports whether policy p is applied to zone z: the first zone
// holds every policy, the others every second one.
func (s *Server) applies(z, p int) bool { return z == 0 || (z+p)%2 == 0 }

// ReportCounts is what a correct client reads for one policy in one zone.
type ReportCounts struct {
	Requirements int
	Controls     int   // (requirement, control) pairs
	Failing      int64 // failing resources whose risk is not accepted (violations)
	Accepted     int64 // failing resources whose risk is accepted
	Passing      int64
	Manual       int // controls that need a manual assessment
}

// CountReport returns the counts of policy in zone (zero for an unknown
// pair or a policy not applied to the zone).
func (s *Server) CountReport(policyName, zoneName string) ReportCounts {
	z := slices.IndexFunc(s.zones, func(z zone) bool { return z.name == zoneName })
	p := slices.IndexFunc(s.policies, func(p policy) bool { return p.name == policyName })
	var rc ReportCounts
	if z < 0 || p < 0 || !s.applies(z, p) {
		return rc
	}
	for r := range s.cfg.RequirementsPerPolicy {
		rc.Requirements++
		for c := range s.controlCount(p, r) {
			ct := s.control(z, p, r, c)
			rc.Controls++
			rc.Failing += int64(ct.failing)
			rc.Accepted += int64(ct.accepted)
			rc.Passing += int64(ct.passing)
			if ct.manual {
				rc.Manual++
			}
		}
	}
	return rc
}

// CountInventory returns the inventory rows a correct client reads, for
// the given accounts (all when none).
func (s *Server) CountInventory(accountIDs ...string) int64 {
	var conds []cond
	if len(accountIDs) > 0 {
		conds = []cond{{field: "account", op: "in", values: accountIDs}}
	}
	return s.inventoryTotal(s.accountSet(conds))
}

// CountAuditEvents returns the activity-audit events in [from, to): the
// events stamped in the window and in the data horizon [Now-90d, Now).
func (s *Server) CountAuditEvents(from, to time.Time) int64 {
	lo, hi := s.auditSpan(from.UnixNano(), to.UnixNano())
	return hi - lo
}

// TokensIssued returns how many access tokens the IAM endpoint issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// Requests returns a copy of the request log, in completion order. Like
// Violations and DuplicatePages it first waits (at most 2 s) for responses
// already being written, so a response the client has just read is logged.
func (s *Server) Requests() []Request { return s.log.Requests() }

// Violations returns the requests that arrived while a Retry-After block was
// in force for their endpoint family.
func (s *Server) Violations() []Request { return s.log.Violations() }

// DuplicatePages returns, sorted, the pages of paged lists that were served
// completely (200, body written in full) more than once.
func (s *Server) DuplicatePages() []string { return s.log.DuplicatePages() }

// Faults returns the number of requests that met each injected fault.
func (s *Server) Faults() map[string]int {
	out := map[string]int{}
	for _, r := range s.Requests() {
		for f := range strings.SplitSeq(r.Fault, ",") {
			if f != "" {
				out[f]++
			}
		}
	}
	return out
}
