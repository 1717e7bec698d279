package emulator

import (
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Config configures a Server. The zero value of every field selects its
// default; data is a pure function of Seed and Now.
type Config struct {
	Seed   int64
	APIKey string // the one key accepted; default DefaultAPIKey

	// Environments are the customer's accounts; default: two AWS accounts,
	// one Azure subscription, one GCP project, one Kubernetes cluster and a
	// disabled AWS account, with ids derived from Seed. Entries with an
	// empty, duplicate or comma-holding id, or another type than AWS, Azure,
	// GCP, Kubernetes or Docker, are dropped. Disabled and Docker
	// environments hold no alerts and no inventory.
	Environments []Environment

	AlertsPerEnvironment int // alerts of each enabled cloud/Kubernetes environment; default 240
	Rules                int // rules in the catalog; default 40
	HistoryDays          int // alerts' lastSeen spread evenly over this many days before Now; default 400

	HostsPerEnvironment     int // vms per AWS/Azure/GCP environment; default 30
	UsersPerEnvironment     int // users per AWS/Azure/GCP environment; default 12
	FunctionsPerEnvironment int // serverless functions per AWS/Azure environment; default 8
	ContainerObjectsPerType int // clusters, nodes, pods, containers per environment; default 6

	// AccountsPageSize, when > 0, serves GET api/v1/accounts in pages of
	// this many environments, in the inventory endpoints' envelope (pages
	// from 0, page and size parameters): the document says "This api is
	// paginated" yet shows one array, its default here.
	AccountsPageSize int
	// ServerlessPagesFromOne makes api/v1/serverless refuse page 0 with
	// "Page number should be greater than 0" and count its pages from 1:
	// the document says inventory pages start at 0, yet lists that error
	// for serverless. Default: pages from 0.
	ServerlessPagesFromOne bool

	// Now is the emulated clock; default time.Now. Alerts are laid out
	// backwards from Now as it was when New ran; "days" and the default
	// 365-day window are measured from Now at each request. Retry-After
	// blocks use the real clock.
	Now func() time.Time

	Faults Faults
}

// Faults injects misbehaviour. The counters run over API requests that
// passed routing, authentication and the rate-limit check, so the cadence
// is deterministic for a given request sequence.
type Faults struct {
	// ErrorEvery: every k-th API request gets a 5xx, cycling 500, 502, 503
	// (503 carries Retry-After).
	ErrorEvery int
	// DropEvery: every k-th API request has its connection dropped,
	// alternating "before any byte" and "after the headers and half the body".
	DropEvery int
	// RateLimitEvery: every k-th API request gets 429 with Retry-After and
	// blocks its endpoint for RetryAfter; requests arriving at a blocked
	// endpoint are violations (Violations) and get 429 again.
	RateLimitEvery int
	// RetryAfter is the wait announced by 429 and 503 responses; default 1s.
	// Sub-second values are sent as decimal seconds ("0.05"), which speeds
	// up tests; a real server sends whole seconds.
	RetryAfter time.Duration
}

// Environment is one account of the customer.
type Environment struct {
	ID       string
	Name     string
	Type     string // AWS, Azure, GCP, Kubernetes or Docker
	Disabled bool
}

// Request is one entry of the request log (the common fields of
// emulatorkit.Entry). PageID is path?canonical-query for pages of the
// paginated endpoints; Violation means the request arrived while its
// endpoint was blocked by a Retry-After; Fault is "500", "502", "503",
// "429", "drop-before" or "drop-mid".
type Request struct {
	emulatorkit.Entry
}

// Defaults.
const (
	DefaultAPIKey                  = "emulator-optix-api-key-0123456789"
	DefaultAlertsPerEnvironment    = 240
	DefaultRules                   = 40
	DefaultHistoryDays             = 400
	DefaultHostsPerEnvironment     = 30
	DefaultUsersPerEnvironment     = 12
	DefaultFunctionsPerEnvironment = 8
	DefaultContainerObjectsPerType = 6
)

const msPerDay = int64(24 * time.Hour / time.Millisecond)

// Server is the emulator. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	cfg    Config
	root   emulatorkit.Key
	rules  []rule
	envs   []*env
	byID   map[string]*env
	anchor int64 // ms: alert i of every environment was last seen at anchor-(i+1)*step
	step   int64 // ms between consecutive alerts of an environment
	period int   // alert attributes repeat with this period: 8 phases × rules

	log    emulatorkit.Log[Request, *Request]
	faults emulatorkit.FaultCounter
	blocks emulatorkit.Blocks // endpoint -> end of its Retry-After block
}

// env is an environment with its derived state.
type env struct {
	pub Environment
	idx int
	key emulatorkit.Key
	off int // residue offset: alert i has attributes of residue (i+off) % period
}

// alerting reports whether the environment holds alerts.
func (e *env) alerting() bool { return !e.pub.Disabled && e.pub.Type != "Docker" }

// New returns an emulator for cfg (see Config for the defaults).
func New(cfg Config) *Server {
	cfg = normalize(cfg)
	root := newKey(cfg.Seed)
	s := &Server{
		cfg:    cfg,
		root:   root,
		rules:  buildRules(root, cfg.Rules),
		byID:   map[string]*env{},
		anchor: cfg.Now().UTC().Truncate(time.Second).UnixMilli(),
		step:   max(int64(cfg.HistoryDays)*msPerDay/int64(cfg.AlertsPerEnvironment), 1),
		period: phases * cfg.Rules,
	}
	for i, e := range cfg.Environments {
		k := root.Str("env").Str(e.ID)
		x := &env{pub: e, idx: i, key: k, off: int(uint64(k) % uint64(s.period))}
		s.envs = append(s.envs, x)
		s.byID[e.ID] = x
	}
	return s
}

func normalize(c Config) Config {
	if c.APIKey == "" {
		c.APIKey = DefaultAPIKey
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.AlertsPerEnvironment, DefaultAlertsPerEnvironment)
	def(&c.Rules, DefaultRules)
	def(&c.HistoryDays, DefaultHistoryDays)
	def(&c.HostsPerEnvironment, DefaultHostsPerEnvironment)
	def(&c.UsersPerEnvironment, DefaultUsersPerEnvironment)
	def(&c.FunctionsPerEnvironment, DefaultFunctionsPerEnvironment)
	def(&c.ContainerObjectsPerType, DefaultContainerObjectsPerType)
	c.Rules = max(c.Rules, minRules)
	// Keep alerts at distinct milliseconds.
	c.AlertsPerEnvironment = int(min(int64(c.AlertsPerEnvironment), int64(c.HistoryDays)*msPerDay))
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Faults.RetryAfter <= 0 {
		c.Faults.RetryAfter = time.Second
	}
	if c.Environments == nil {
		c.Environments = defaultEnvironments(newKey(c.Seed))
	}
	var envs []Environment
	seen := map[string]bool{}
	for _, e := range c.Environments {
		e.ID = strings.TrimSpace(e.ID)
		if e.ID == "" || seen[e.ID] || strings.Contains(e.ID, ",") || !slices.Contains(accountTypes, e.Type) {
			continue
		}
		seen[e.ID] = true
		if e.Name == "" {
			e.Name = e.ID
		}
		envs = append(envs, e)
	}
	c.Environments = envs
	return c
}

// minRules leaves, after the anomaly and GuardDuty rules (2 in 10), at
// least one policy rule per framework.
const minRules = 16

// accountTypes are the provider values of GET api/v1/accounts (case-sensitive).
var accountTypes = []string{"AWS", "Azure", "GCP", "Kubernetes", "Docker"}

func defaultEnvironments(k emulatorkit.Key) []Environment {
	r := k.Str("environments").Rng()
	return []Environment{
		{ID: r.Digits(12), Name: "Production", Type: "AWS"},
		{ID: r.Digits(12), Name: "Staging", Type: "AWS"},
		{ID: r.UUID(), Name: "Corporate subscription", Type: "Azure"},
		{ID: "analytics-" + r.Digits(6), Name: "Analytics", Type: "GCP"},
		{ID: r.UUID(), Name: "prod-cluster", Type: "Kubernetes"},
		{ID: r.Digits(12), Name: "Legacy (monitoring off)", Type: "AWS", Disabled: true},
	}
}

// APIKey returns the key the emulator accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// Environments returns the customer's environments, in the order the API
// lists them.
func (s *Server) Environments() []Environment { return slices.Clone(s.cfg.Environments) }

// PolicyTags returns the frameworks (policyTagList values) the emulator
// knows: the document's list.
func PolicyTags() []string { return slices.Clone(policyTags) }

// Requests returns a copy of the request log, in completion order. Like
// Violations and DuplicatePages, it first waits (at most 2 s) for responses
// already being written, so a response the client has just read is logged.
func (s *Server) Requests() []Request { return s.log.Requests() }

// Violations returns the requests that arrived while a Retry-After block
// was in force for their endpoint.
func (s *Server) Violations() []Request { return s.log.Violations() }

// DuplicatePages returns, sorted, the page ids that were served completely
// (200, body fully written) more than once.
func (s *Server) DuplicatePages() []string { return s.log.DuplicatePages() }
