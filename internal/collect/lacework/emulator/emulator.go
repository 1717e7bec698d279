package emulator

import (
	"crypto/sha256"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Config configures a Server. The zero value of every field selects its
// default; data is a pure function of Seed (and Now for the data horizon).
type Config struct {
	Seed    int64  // all data derives from it deterministically
	Account string // primary account, default "acme"
	KeyID   string // API key id, default "EMULATOR_KEY_ID"
	Secret  string // API key secret (X-LW-UAKS), default "_emulatorsecret"
	// MoreKeys are other users' API keys (key id → secret) of the same
	// account: each gets its own rate-limit buckets, as seed 000's "480
	// API requests per hour per user" has it.
	MoreKeys    map[string]string
	SubAccounts []string // default {"acme-prod", "acme-dev"}; names are lower-cased
	Forbidden   []string // sub-accounts whose requests get 403

	EvaluationsPerDay int // rows per (sub-account, dataset) per UTC day; default 2000
	InventoryPerCSP   int // resources per (sub-account, csp) snapshot; default 1000
	AuditLogsPerDay   int // audit-log rows per sub-account per UTC day; default 500
	Recommendations   int // recommendations per report; default 40

	// GovCloud gives every sub-account one more AWS account, integrated as
	// AwsUsGovCfg: its account id sits at data.accessKeyCredentials.accountId
	// (lacework/go-sdk api/cloud_accounts_aws_gov_cfg.go), not awsAccountId.
	GovCloud bool
	// GCPProjectLevel gives every sub-account one more GCP project,
	// integrated at project level (GcpCfg idType PROJECT, no organization):
	// its reports take primaryQueryId "n/a" as the lacework CLI sends it
	// (go-sdk cli/cmd/compliance_gcp.go, extractGcpProjects).
	GCPProjectLevel bool
	// MoreAWSAccounts gives every sub-account that many more enabled AWS
	// accounts (a large organisation, for the scale benchmark).
	MoreAWSAccounts int
	// MoreAWSFrameworks enables two more AWS frameworks (HIPAA, NIST
	// CSF): five for every AWS account, as the large organisation
	// has. Off by default, so the default catalogue (and every pack made
	// from it) stays as it was.
	MoreAWSFrameworks bool

	PageSize  int // rows per page; default 5000 (API document: 5,000)
	ResultCap int // rows per result set; default 500000 (API document: 500,000)

	// Now is the emulated clock; default time.Now. Data exists for the 120
	// days before Now. Rate limiting, Retry-After and access-token expiry
	// use Clock, so they behave with a fixed Now.
	Now func() time.Time
	// Clock is the clock of rate limiting, Retry-After blocks and
	// access-token expiry: the real one (default time.Now), which clients
	// sleeping on Retry-After share; tests of the emulator's own timing
	// pass a fake one and advance it instead of sleeping.
	Clock func() time.Time

	Faults Faults
}

// Faults injects misbehaviour. Counters run over API requests (every
// /api/v2 request except access/tokens that passed routing, authentication,
// the account check and rate limiting), so the cadence is deterministic for a
// given request sequence.
type Faults struct {
	// RateLimit is the size of every token bucket, refilled continuously over
	// RateWindow; 0 means unlimited (RateLimit-* headers are still sent).
	RateLimit  int
	RateWindow time.Duration // default time.Hour

	// TokenTTL caps the lifetime of access tokens (0: as requested).
	TokenTTL time.Duration

	// ErrorEvery: every k-th API request gets a 5xx, cycling 500, 502, 503
	// (503 carries Retry-After: 1).
	ErrorEvery int
	// DropEvery: every k-th API request has its connection dropped,
	// alternating "before any byte" and "after the headers and half the body".
	DropEvery int
	// RateLimitEvery: every k-th API request gets 429 with Retry-After: 1 and
	// blocks its bucket for one second.
	RateLimitEvery int
	// SlowEvery: every k-th API request is delayed by SlowDelay (the delay
	// ends early when the client goes away).
	SlowEvery int
	SlowDelay time.Duration

	// Tricky puts hostile values in rows: non-Latin and RTL text, values
	// starting with = + - @, control characters, one value longer than
	// 32,767 characters per result set and JSON nulls in optional fields.
	Tricky bool
}

// Request is one entry of the request log: the common fields of
// emulatorkit.Entry, the sub-account and the rate-limit functionality.
// PageID is "<bucket>|<sub>|<dataset or csp>|<start>|<end>|<offset>" for
// pages of a result set; Violation means the request arrived while its
// bucket was blocked by a Retry-After; Fault is "500", "502", "503",
// "429", "drop-before", "drop-mid" or "slow", and may combine them (e.g.
// "slow,500").
type Request struct {
	emulatorkit.Entry
	AccountName string // resolved sub-account (lower-case); raw header value when it was rejected; "" for access/tokens
	KeyID       string // the API key of the request's token (of the token request's body for access/tokens)
	Bucket      string // rate-limit functionality; "" when the path is unknown
}

// Defaults.
const (
	DefaultAccount           = "acme"
	DefaultKeyID             = "EMULATOR_KEY_ID"
	DefaultSecret            = "_emulatorsecret"
	DefaultEvaluationsPerDay = 2000
	DefaultInventoryPerCSP   = 1000
	DefaultAuditLogsPerDay   = 500
	DefaultRecommendations   = 40
	DefaultPageSize          = 5000
	DefaultResultCap         = 500000
)

// maxPerDay keeps row timestamps distinct at millisecond resolution.
const maxPerDay = int(msPerDay)

// Server is the emulator; it implements http.Handler and is safe for
// concurrent use.
type Server struct {
	cfg     Config
	root    emulatorkit.Key
	cat     *catalog
	tenant  Tenant
	subs    map[string]*subAccount
	pageKey []byte
	long    string
	bufs    emulatorkit.BufferPool

	log    emulatorkit.Log[Request, *Request]
	faults emulatorkit.FaultCounter

	mu      sync.Mutex
	tokens  map[string]accessToken
	buckets map[string]*bucket
}

// New returns an emulator for cfg (see Config for the defaults).
func New(cfg Config) *Server {
	cfg = normalize(cfg)
	root := newKey(cfg.Seed)
	cat := buildCatalog(root, cfg.Recommendations, cfg.MoreAWSFrameworks)
	t, subs := buildTenant(&cfg, root, cat)
	pk := sha256.Sum256([]byte("lacework-emulator-page-token|" + strconv.FormatInt(cfg.Seed, 10)))
	s := &Server{
		cfg:     cfg,
		root:    root,
		cat:     cat,
		tenant:  t,
		subs:    subs,
		pageKey: pk[:],
		long:    longValue(),
		tokens:  map[string]accessToken{},
		buckets: map[string]*bucket{},
	}
	return s
}

func normalize(c Config) Config {
	c.Account = strings.ToLower(strings.TrimSpace(c.Account))
	if c.Account == "" {
		c.Account = DefaultAccount
	}
	if c.KeyID == "" {
		c.KeyID = DefaultKeyID
	}
	if c.Secret == "" {
		c.Secret = DefaultSecret
	}
	if c.SubAccounts == nil {
		c.SubAccounts = []string{c.Account + "-prod", c.Account + "-dev"}
	}
	var subs []string
	for _, s := range c.SubAccounts {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && s != c.Account && !slices.Contains(subs, s) {
			subs = append(subs, s)
		}
	}
	c.SubAccounts = subs
	var forb []string
	for _, s := range c.Forbidden {
		forb = append(forb, strings.ToLower(strings.TrimSpace(s)))
	}
	c.Forbidden = forb
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.EvaluationsPerDay, DefaultEvaluationsPerDay)
	def(&c.InventoryPerCSP, DefaultInventoryPerCSP)
	def(&c.AuditLogsPerDay, DefaultAuditLogsPerDay)
	def(&c.Recommendations, DefaultRecommendations)
	def(&c.PageSize, DefaultPageSize)
	def(&c.ResultCap, DefaultResultCap)
	c.EvaluationsPerDay = min(c.EvaluationsPerDay, maxPerDay)
	c.AuditLogsPerDay = min(c.AuditLogsPerDay, maxPerDay)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Faults.RateWindow <= 0 {
		c.Faults.RateWindow = time.Hour
	}
	return c
}

// Requests returns a copy of the request log, in completion order. Like
// Violations and DuplicatePages, it first waits (at most 2 s) for responses
// already being written, so a response the client has just read is logged.
func (s *Server) Requests() []Request { return s.log.Requests() }

// Violations returns the requests that arrived while a Retry-After block
// (after a 429) was in force for their bucket.
func (s *Server) Violations() []Request { return s.log.Violations() }

// DuplicatePages returns, sorted, the page ids that were served completely
// (200, body fully written) more than once.
func (s *Server) DuplicatePages() []string { return s.log.DuplicatePages() }

// Tenant returns a copy of what exists: accounts, cloud integrations and
// frameworks.
func (s *Server) Tenant() Tenant { return s.tenant.clone() }

// ReportRecommendations is the number of recommendations of every report
// (before any severity/status query filter).
func (s *Server) ReportRecommendations() int { return s.cfg.Recommendations }

// CountEvaluations returns the rows a correct client receives for an
// unfiltered ComplianceEvaluations search of dataset in [from, to) for the
// sub-account: the rows stamped in the window and in the data horizon
// [Now-120d, Now), at most ResultCap. The 7-day and 90-day request limits
// are not applied. Unknown sub-account or dataset: 0.
func (s *Server) CountEvaluations(subAccount, dataset string, from, to time.Time) int {
	sa := s.subs[strings.ToLower(strings.TrimSpace(subAccount))]
	cl, ok := datasets[dataset]
	if sa == nil || !ok || len(sa.refs[cl]) == 0 {
		return 0
	}
	lo, hi := s.seriesSpan(int64(s.cfg.EvaluationsPerDay), from, to, s.cfg.Now())
	return int(min(hi-lo, int64(s.cfg.ResultCap)))
}

// CountInventory returns the rows a correct client receives for an
// unfiltered Inventory search of csp ("AWS", "Azure", "GCP") in [from, to):
// InventoryPerCSP (at most ResultCap) when a daily collection (02:00 UTC)
// falls in the window and the data horizon, else 0.
func (s *Server) CountInventory(subAccount, csp string, from, to time.Time) int {
	sa := s.subs[strings.ToLower(strings.TrimSpace(subAccount))]
	cl, ok := inventoryCSPs[csp]
	if sa == nil || !ok || len(sa.refs[cl]) == 0 {
		return 0
	}
	if _, ok := s.collection(from, to, s.cfg.Now()); !ok {
		return 0
	}
	return min(s.cfg.InventoryPerCSP, s.cfg.ResultCap)
}

// CountAuditLogs returns the rows a correct client receives for an
// unfiltered AuditLogs query of the sub-account in [from, to), at most
// ResultCap.
func (s *Server) CountAuditLogs(subAccount string, from, to time.Time) int {
	if s.subs[strings.ToLower(strings.TrimSpace(subAccount))] == nil {
		return 0
	}
	lo, hi := s.seriesSpan(int64(s.cfg.AuditLogsPerDay), from, to, s.cfg.Now())
	return int(min(hi-lo, int64(s.cfg.ResultCap)))
}

// horizon clips [from, to) to the data horizon [now-120d, now), in ms.
func horizon(from, to, now time.Time) (int64, int64) {
	return max(msCeil(from), msCeil(now.Add(-dataRetention))), min(msCeil(to), msCeil(now))
}

func (s *Server) seriesSpan(perDay int64, from, to, now time.Time) (int64, int64) {
	a, b := horizon(from, to, now)
	if b <= a {
		return 0, 0
	}
	return series{perDay}.span(a, b)
}

// collection returns the inventory collection served for [from, to).
func (s *Server) collection(from, to, now time.Time) (int64, bool) {
	a, b := horizon(from, to, now)
	return lastCollection(a, b)
}
