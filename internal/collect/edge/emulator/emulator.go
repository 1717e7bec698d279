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

// Paths place the emulated operations.
type Paths struct {
	TokenLogin, Users, Groups, Apps, Accesses, Policies, AuditEvents string
}

// DefaultPaths are the collector's default paths.
func DefaultPaths() Paths {
	return Paths{
		TokenLogin:  "/api/v1/tokenlogin",
		Users:       "/api/v1/users",
		Groups:      "/api/v1/groups",
		Apps:        "/api/v1/apps",
		Accesses:    "/api/v1/accesses",
		Policies:    "/api/v1/policies",
		AuditEvents: "/api/v1/auditevents",
	}
}

// Config configures a Server. The zero value of every field selects its
// default; data is a pure function of Seed (and Now for audit events).
type Config struct {
	Seed    int64
	Account string // account name (TokenLogin's account), default DefaultAccount
	// APIToken is the long-lived API token TokenLogin accepts as
	// "Authorization: Bearer <token>", default DefaultAPIToken.
	APIToken string
	// AcceptBasic makes TokenLogin also accept KeyID and Secret as HTTP
	// Basic credentials (the client's configurable guess, login: basic).
	// Off, Basic credentials are refused (401).
	AcceptBasic bool
	KeyID       string // API token uuid (AcceptBasic), default DefaultKeyID
	Secret      string // API token secret (AcceptBasic), default DefaultSecret
	Paths       Paths  // default DefaultPaths(); empty fields keep their default

	Users             int // default 60
	Groups            int // default 12
	Apps              int // default 10
	Accesses          int // default 20
	Policies          int // default 8
	AuditEventsPerDay int // default 240
	// AuditTimesInSeconds reads start_time and end_time as epoch seconds
	// instead of milliseconds: a server whose unit the client has wrong.
	AuditTimesInSeconds bool

	// PageSize > 0 pages lists with continuation_token; 0 answers each list
	// in one response, as the document shows.
	PageSize int
	// TokenTTL is the session lifetime (real clock); default one hour.
	TokenTTL time.Duration
	// Now is the data clock (audit events exist for the 120 days before it,
	// end_time of accesses is relative to it); default time.Now.
	Now func() time.Time

	Faults Faults
}

// Faults injects misbehaviour. Counters run over API requests (every
// request but TokenLogin that passed routing and authentication), so the
// cadence is deterministic for a given request sequence. Precedence when
// cadences coincide: expiry, 5xx, 429, drop.
type Faults struct {
	// ErrorEvery: every k-th API request gets a 5xx, cycling 500, 502, 503
	// (503 carries Retry-After).
	ErrorEvery int
	// RateLimitEvery: every k-th API request gets 429 with Retry-After and
	// blocks its operation for RetryAfter.
	RateLimitEvery int
	// RetryAfter is the block of an injected 429 (default 1s). Whole
	// seconds are sent as an integer; a fraction as a decimal ("0.05"),
	// which httpx accepts, to keep tests fast.
	RetryAfter time.Duration
	// DropEvery: every k-th API request has its connection dropped,
	// alternating before any byte and after the headers and half the body.
	DropEvery int
	// ExpireEvery: every k-th API request finds its session token expired:
	// 401, and the token is revoked.
	ExpireEvery int
	// Tricky puts hostile values in records: formula prefixes, RTL and CJK
	// text, control characters, and 64-bit times quoted as strings.
	Tricky bool
}

// Request is one entry of the request log: the common fields of
// emulatorkit.Entry and the operation. PageID is "<op>|<window>|<first
// index>" for list pages; Violation means the request arrived while its
// operation was blocked by a 429's Retry-After; Fault is "500", "502",
// "503", "429", "401", "drop-before" or "drop-mid".
type Request struct {
	emulatorkit.Entry
	Op string // "login", "users", "groups", "apps", "accesses", "audit_events"; "" when unrouted
}

// Defaults.
const (
	DefaultAccount  = "acme-edge"
	DefaultAPIToken = "_edge_emulator_api_token_0001"
	DefaultKeyID    = "5d1c3a70-e0e1-4c2b-9a51-000000000001"
	DefaultSecret   = "_edge_emulator_secret"
	// Users and apps are few by default: the access review looks every
	// (app, user) pair up (600 pairs here).
	DefaultUsers             = 60
	DefaultGroups            = 12
	DefaultApps              = 10
	DefaultAccesses          = 20
	DefaultPolicies          = 8
	DefaultAuditEventsPerDay = 240
)

// SecretMarker is inside every user's mfa_encrypted_secret and every audit
// event's request_body: it must never appear in a pack.
const SecretMarker = "EDGE-EMULATOR-SECRET"

// Server is the emulator; it implements http.Handler and is safe for
// concurrent use.
type Server struct {
	cfg     Config
	root    emulatorkit.Key
	pageKey []byte
	routes  map[string]string // path -> op
	bufs    emulatorkit.BufferPool

	log    emulatorkit.Log[Request, *Request]
	faults emulatorkit.FaultCounter
	blocks emulatorkit.Blocks // op -> 429 block end (real clock)

	mu     sync.Mutex
	tokens map[string]time.Time
}

// New returns an emulator for cfg (see Config for the defaults).
func New(cfg Config) *Server {
	cfg = normalize(cfg)
	pk := sha256.Sum256([]byte("edge-emulator-page-token|" + strconv.FormatInt(cfg.Seed, 10)))
	p := cfg.Paths
	s := &Server{
		cfg:     cfg,
		root:    newKey(cfg.Seed),
		pageKey: pk[:],
		routes: map[string]string{
			p.TokenLogin: opLogin, p.Users: opUsers, p.Groups: opGroups,
			p.Apps: opApps, p.Accesses: opAccesses, p.Policies: opPolicies, p.AuditEvents: opAudit,
		},
		tokens: map[string]time.Time{},
	}
	return s
}

func normalize(c Config) Config {
	c.Account = strings.TrimSpace(c.Account)
	if c.Account == "" {
		c.Account = DefaultAccount
	}
	if c.APIToken == "" {
		c.APIToken = DefaultAPIToken
	}
	if c.KeyID == "" {
		c.KeyID = DefaultKeyID
	}
	if c.Secret == "" {
		c.Secret = DefaultSecret
	}
	d := DefaultPaths()
	for _, f := range []struct {
		v *string
		d string
	}{
		{&c.Paths.TokenLogin, d.TokenLogin}, {&c.Paths.Users, d.Users}, {&c.Paths.Groups, d.Groups},
		{&c.Paths.Apps, d.Apps}, {&c.Paths.Accesses, d.Accesses}, {&c.Paths.Policies, d.Policies}, {&c.Paths.AuditEvents, d.AuditEvents},
	} {
		if *f.v == "" {
			*f.v = f.d
		}
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Users, DefaultUsers)
	def(&c.Groups, DefaultGroups)
	def(&c.Apps, DefaultApps)
	def(&c.Accesses, DefaultAccesses)
	def(&c.Policies, DefaultPolicies)
	def(&c.AuditEventsPerDay, DefaultAuditEventsPerDay)
	c.AuditEventsPerDay = min(c.AuditEventsPerDay, msPerDay)
	c.PageSize = max(c.PageSize, 0)
	if c.TokenTTL <= 0 {
		c.TokenTTL = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Faults.RetryAfter <= 0 {
		c.Faults.RetryAfter = time.Second
	}
	return c
}

// Account is the emulated account name.
func (s *Server) Account() string { return s.cfg.Account }

// Paths are where the operations are served.
func (s *Server) Paths() Paths { return s.cfg.Paths }

// CountUsers, CountGroups, CountApps and CountAccesses are the records a
// correct client receives from an unfiltered list (or one filtered on INIT,
// ACTIVE and SUSPENDED: no record is DELETED).
func (s *Server) CountUsers() int    { return s.cfg.Users }
func (s *Server) CountGroups() int   { return s.cfg.Groups }
func (s *Server) CountApps() int     { return s.cfg.Apps }
func (s *Server) CountAccesses() int { return s.cfg.Accesses }

// CountPolicies is the policies a correct client finds by looking up every
// (app, user) pair: every policy applies to at least one.
func (s *Server) CountPolicies() int { return s.cfg.Policies }

// CountLookups is the (app, user) pairs a complete lookup asks about.
func (s *Server) CountLookups() int { return s.cfg.Apps * s.cfg.Users }

// CountAuditEvents returns the audit events created in [from, to) (and in
// the data horizon, the 120 days before Now).
func (s *Server) CountAuditEvents(from, to time.Time) int {
	lo, hi := s.auditSpan(from.UnixMilli(), to.UnixMilli())
	return int(hi - lo)
}

// Requests returns a copy of the request log, in completion order. Like
// Violations and DuplicatePages, it first waits (at most 2 s) for responses
// already being written, so a response the client has just read is logged.
func (s *Server) Requests() []Request { return s.log.Requests() }

// Violations returns the requests that arrived while a 429's Retry-After
// was in force for their operation.
func (s *Server) Violations() []Request { return s.log.Violations() }

// DuplicatePages returns, sorted, the ids of pages served completely more
// than once.
func (s *Server) DuplicatePages() []string { return s.log.DuplicatePages() }

// Review is what a correct access review of the emulated account finds.
// Only ACTIVE accesses are checked; an assignment is a user_list entry that
// names a user or group ("user:<uuid>", "group:<uuid>" or a bare uuid).
type Review struct {
	Accesses    int // access objects
	Active      int // of them ACTIVE
	Assignments int // user and group entries of all accesses (tag selectors excluded)
	Suspended   int // entries of active accesses naming a SUSPENDED user or group not revoked from it
	Unknown     int // entries of active accesses naming a user that does not exist
	Expired     int // active accesses whose end_time has passed
	Guest       int // active accesses that allow guest access
	Failing     int // active accesses with at least one of the above

	Policies       int // policies
	PoliciesActive int // of them ACTIVE
	PoliciesGuest  int // active policies that allow guest access
}

// Review computes the expected findings from the data model, independently
// of any client.
func (s *Server) Review() Review {
	r := Review{Accesses: s.cfg.Accesses, Policies: s.cfg.Policies}
	for m := range s.cfg.Policies {
		if p := s.policyPlan(m); p.status == statusActive {
			r.PoliciesActive++
			if p.guest {
				r.PoliciesGuest++
			}
		}
	}
	now := s.cfg.Now().UnixMilli()
	for m := range s.cfg.Accesses {
		a := s.accessPlan(m)
		r.Assignments += len(a.groups) + len(a.users) + len(a.bare)
		if a.ghost {
			r.Assignments++
		}
		if a.status != statusActive {
			continue
		}
		r.Active++
		n := 0
		for _, g := range a.groups {
			if s.groupStatus(g) == statusSuspended {
				n++
			}
		}
		for _, u := range append(slices.Clone(a.users), a.bare...) {
			if s.userStatus(u) == statusSuspended && !slices.Contains(a.revoked, u) {
				n++
			}
		}
		r.Suspended += n
		if a.ghost {
			r.Unknown++
			n++
		}
		if a.end != 0 && a.end <= now {
			r.Expired++
			n++
		}
		if a.guest {
			r.Guest++
			n++
		}
		if n > 0 {
			r.Failing++
		}
	}
	return r
}
