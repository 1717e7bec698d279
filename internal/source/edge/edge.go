// Package edge is the Lacework Edge source: access-review evidence for one
// Edge account, over internal/collect/edge.
//
// A tenant with source: lacework_edge is configured by its lacework_edge:
// section (Config) and the environment (secrets only from there). Plan logs
// in (refused credentials wrap httpx.ErrAuth) and returns:
//
//   - reports: the "Access review" framework, one unit per account; see
//     review.go for how access policies become controls;
//   - inventory: one unit per kind, each its own sheet and Parquet
//     partition: Users, Groups, Apps, Access policies (access objects),
//     Policies (resource_type user, group, app, access_policy, policy; csp
//     LaceworkEdge). Access objects and policies are per-(app, user)
//     lookups in the document, so those two units look every pair up;
//     see edge.Client.Accesses;
//   - audit_logs: the account's audit events over the request's audit
//     window.
//
// Edge has no compliance evaluations: the evaluations dataset yields no
// unit. Inventory rows (dataset.Resource) map:
//
//	csp            "LaceworkEdge"
//	account_id     the Edge account name
//	resource_id    the object's uuid
//	resource_type  user | group | app | access_policy | policy
//	urn            laceworkedge:<account>:<resource_type>/<uuid>
//	collected_*    when the unit started reading (the snapshot time)
//	tags           the object's tags, as a JSON array
//	config         the object as the API returned it (secret fields
//	               excluded), times in RFC 3339, plus status_name; for
//	               access policies the assignments (user_list, app_list,
//	               revoked_user_list); for groups user_count and
//	               sub_group_count (the API lists no members)
//
// Audit events (dataset.AuditEvent) map: time ← create_time, account ←
// account_name, user ← user_login (else user_display_name, else
// auth_uuid), event ← op (else method and matched path), action ← method
// and path, description ← response status, client IP and auth type. The
// audited call's request_body is never read: it may hold secrets.
package edge

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/edge"
	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

// Name is the source's name in configurations.
const Name = "lacework_edge"

// Environment variables, in the style of the lacework CLI's LW_* names.
const (
	EnvAPIURL    = "LW_EDGE_API_URL"    // api_url when the section sets none
	EnvAccount   = "LW_EDGE_ACCOUNT"    // account when the section sets none
	EnvAPIToken  = "LW_EDGE_API_TOKEN"  // the long-lived API token (default of api_token_env; login api_token)
	EnvAPIKey    = "LW_EDGE_API_KEY"    // the API token's uuid (default of api_key_env; login basic)
	EnvAPISecret = "LW_EDGE_API_SECRET" // the API token's secret (default of api_secret_env; login basic)
)

// CSP is the inventory's csp column for Edge objects.
const CSP = "LaceworkEdge"

// Config is a tenant's lacework_edge: section. Secrets are never in it: it
// names the environment variables that hold them.
type Config struct {
	APIURL  string `yaml:"api_url,omitempty"` // default $LW_EDGE_API_URL
	Account string `yaml:"account,omitempty"` // default $LW_EDGE_ACCOUNT
	// Login is how TokenLogin gets the API token: "api_token" (default;
	// the one long-lived token the public EdgeGuardian client logs in
	// with) or "basic" (the token's uuid and secret as HTTP Basic
	// credentials: a guess no source documents). A section that sets
	// api_key_env or api_secret_env and no login keeps the basic login it
	// had before api_token existed.
	Login        string     `yaml:"login,omitempty"`
	APITokenEnv  string     `yaml:"api_token_env,omitempty"`  // login api_token; default LW_EDGE_API_TOKEN
	APIKeyEnv    string     `yaml:"api_key_env,omitempty"`    // login basic; default LW_EDGE_API_KEY
	APISecretEnv string     `yaml:"api_secret_env,omitempty"` // login basic; default LW_EDGE_API_SECRET
	Paths        edge.Paths `yaml:"paths,omitempty"`          // overrides of edge.DefaultPaths
	// RequestsPerHour paces each operation; 0 is the default (480), -1
	// turns local pacing off (the server's 429s still pace).
	RequestsPerHour int `yaml:"requests_per_hour,omitempty"`
	// MaxAccessLookups bounds the (app, user) pairs the access review and
	// the access and policy inventories look up; 0 is the default (2000),
	// -1 no bound.
	MaxAccessLookups int `yaml:"max_access_lookups,omitempty"`
}

// login resolves the login mode; implied tells a basic login that comes
// from api_key_env/api_secret_env rather than from login: basic.
func (c Config) login() (mode edge.Login, implied bool, err error) {
	basicKeys := strings.TrimSpace(c.APIKeyEnv) != "" || strings.TrimSpace(c.APISecretEnv) != ""
	tokenKey := strings.TrimSpace(c.APITokenEnv) != ""
	switch strings.ToLower(strings.TrimSpace(c.Login)) {
	case "":
		switch {
		case basicKeys && tokenKey:
			return "", false, fmt.Errorf("%s: api_token_env and api_key_env/api_secret_env name two different credentials; keep one, or set login: %s or login: %s", Name, edge.LoginAPIToken, edge.LoginBasic)
		case basicKeys:
			return edge.LoginBasic, true, nil
		}
		return edge.LoginAPIToken, false, nil
	case string(edge.LoginAPIToken):
		if basicKeys {
			return "", false, fmt.Errorf("%s: api_key_env and api_secret_env are read only with login: %s; the %s login sends the API token of api_token_env (default %s)", Name, edge.LoginBasic, edge.LoginAPIToken, EnvAPIToken)
		}
		return edge.LoginAPIToken, false, nil
	case string(edge.LoginBasic):
		if tokenKey {
			return "", false, fmt.Errorf("%s: api_token_env is read only with login: %s; login: %s sends the token uuid and secret of api_key_env and api_secret_env", Name, edge.LoginAPIToken, edge.LoginBasic)
		}
		return edge.LoginBasic, false, nil
	}
	return "", false, fmt.Errorf("%s.login %q: want %s (default) or %s", Name, c.Login, edge.LoginAPIToken, edge.LoginBasic)
}

// credentials resolves the section and the environment, listing every
// problem.
func (c Config) credentials(getenv func(string) string) (edge.Credentials, bool, error) {
	creds := edge.Credentials{
		BaseURL: strings.TrimSpace(or(c.APIURL, getenv(EnvAPIURL))),
		Account: strings.TrimSpace(or(c.Account, getenv(EnvAccount))),
	}
	var errs []error
	if creds.BaseURL == "" {
		errs = append(errs, fmt.Errorf("%s.api_url is not set (nor %s)", Name, EnvAPIURL))
	} else if _, err := httpx.ParseBase(creds.BaseURL); err != nil {
		errs = append(errs, fmt.Errorf("%s.api_url: %w", Name, err))
	}
	if creds.Account == "" {
		errs = append(errs, fmt.Errorf("%s.account is not set (nor %s)", Name, EnvAccount))
	}
	mode, implied, err := c.login()
	creds.Login = mode
	switch {
	case err != nil:
		errs = append(errs, err)
	case mode == edge.LoginBasic:
		keyEnv, secretEnv := or(c.APIKeyEnv, EnvAPIKey), or(c.APISecretEnv, EnvAPISecret)
		creds.KeyID = strings.TrimSpace(getenv(keyEnv))
		creds.Secret = httpx.Secret(getenv(secretEnv))
		if creds.KeyID == "" {
			errs = append(errs, fmt.Errorf("%s: %s (the API token's uuid, login basic) is empty or unset", Name, keyEnv))
		}
		if creds.Secret == "" {
			errs = append(errs, fmt.Errorf("%s: %s (the API token's secret, login basic) is empty or unset", Name, secretEnv))
		}
	default:
		tokenEnv := or(c.APITokenEnv, EnvAPIToken)
		creds.APIToken = httpx.Secret(strings.TrimSpace(getenv(tokenEnv)))
		if creds.APIToken == "" {
			msg := fmt.Sprintf("%s: %s (the long-lived API token) is empty or unset", Name, tokenEnv)
			if getenv(EnvAPIKey) != "" || getenv(EnvAPISecret) != "" {
				msg += fmt.Sprintf("; %s/%s are set, but they are read only with login: %s (HTTP Basic uuid:secret, a guess no source documents): set login: %s to use them", EnvAPIKey, EnvAPISecret, edge.LoginBasic, edge.LoginBasic)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	if err := c.Paths.WithDefaults().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", Name, err))
	}
	if c.RequestsPerHour < -1 {
		errs = append(errs, fmt.Errorf("%s.requests_per_hour %d: want -1 (off), 0 (default) or more", Name, c.RequestsPerHour))
	}
	if c.MaxAccessLookups < -1 {
		errs = append(errs, fmt.Errorf("%s.max_access_lookups %d: want -1 (no bound), 0 (default %d) or more", Name, c.MaxAccessLookups, edge.DefaultMaxLookups))
	}
	return creds, implied, errors.Join(errs...)
}

func or(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// Open builds the Source of a lacework_edge tenant. It makes no request;
// every configuration problem is reported at once, naming the tenant.
func Open(ctx context.Context, t config.Tenant, env source.Env) (source.Source, error) {
	t.Source = Name
	var cfg Config
	if err := source.DecodeSection(t, &cfg); err != nil {
		return nil, err
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	creds, implied, err := cfg.credentials(getenv)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	// Server text may echo them: the pipeline redacts them.
	if creds.Login == edge.LoginBasic {
		env.Redactor.AddBasic(creds.KeyID, creds.Secret.Reveal())
	} else {
		env.Redactor.Add(creds.APIToken.Reveal())
	}
	opts := env.HTTP()
	log, now := opts.Logger, opts.Now
	if implied {
		log.Warn("lacework_edge: api_key_env/api_secret_env select login basic (HTTP Basic uuid:secret), a guess no source documents; the documented credential is one API token (api_token_env)",
			"tenant", t.Name)
	}
	opts.Logger = log.With("tenant", t.Name)
	limits := edge.Limits{RequestsPerHour: cfg.RequestsPerHour, MaxLookups: cfg.MaxAccessLookups}
	c, err := edge.New(creds, edge.Options{Options: opts, Limits: limits, Paths: cfg.Paths})
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	credential := "API token " + source.Fingerprint(creds.APIToken.Reveal())
	if creds.Login == edge.LoginBasic {
		credential = "API token " + source.MaskID(creds.KeyID) // the token's uuid, a public id
	}
	return &Source{tenant: t.Name, client: c, now: now, spoolDir: env.SpoolDir, credential: credential,
		log: log.With("source", Name, "tenant", t.Name)}, nil
}

// Source is one Lacework Edge account.
type Source struct {
	tenant   string
	client   *edge.Client
	now      func() time.Time
	spoolDir string
	log      *slog.Logger
	// credential names the token for the manifest (source.Info).
	credential string
}

var _ source.Source = (*Source)(nil)

// Info implements source.Source.
func (s *Source) Info() source.Info {
	return source.Info{System: Name, API: "Lacework Edge API", BaseURL: s.client.BaseURL(), Credential: s.credential}
}

// Stats implements source.Source.
func (s *Source) Stats() *httpx.Stats { return s.client.Stats() }

// kind is one inventory table part.
type kind struct {
	resourceType, sheet string
	rows                func(ctx context.Context, s *Source, st *httpx.QueryStats, at time.Time) iter.Seq2[dataset.Record, error]
}

func kinds() []kind {
	return []kind{
		{"user", "Users", func(ctx context.Context, s *Source, st *httpx.QueryStats, at time.Time) iter.Seq2[dataset.Record, error] {
			return source.Records(s.client.Users(ctx, st), func(u edge.User) dataset.Record {
				return s.resource("user", u.UUID, u.Tags, struct {
					edge.User
					StatusName string `json:"status_name"`
				}{u, edge.StatusName(u.Status)}, at)
			})
		}},
		{"group", "Groups", func(ctx context.Context, s *Source, st *httpx.QueryStats, at time.Time) iter.Seq2[dataset.Record, error] {
			return source.Records(s.client.Groups(ctx, st), func(g edge.Group) dataset.Record {
				return s.resource("group", g.UUID, g.Tags, struct {
					edge.Group
					StatusName string `json:"status_name"`
				}{g, edge.StatusName(g.Status)}, at)
			})
		}},
		{"app", "Apps", func(ctx context.Context, s *Source, st *httpx.QueryStats, at time.Time) iter.Seq2[dataset.Record, error] {
			return source.Records(s.client.Apps(ctx, st), func(a edge.App) dataset.Record {
				return s.resource("app", a.UUID, a.Tags, struct {
					edge.App
					StatusName string `json:"status_name"`
				}{a, edge.StatusName(a.Status)}, at)
			})
		}},
		{"access_policy", "Access policies", func(ctx context.Context, s *Source, st *httpx.QueryStats, at time.Time) iter.Seq2[dataset.Record, error] {
			return source.Records(s.client.Accesses(ctx, st), func(a edge.Access) dataset.Record {
				return s.resource("access_policy", a.UUID, nil, struct {
					edge.Access
					StatusName string `json:"status_name"`
				}{a, edge.StatusName(a.Status)}, at)
			})
		}},
		{"policy", "Policies", func(ctx context.Context, s *Source, st *httpx.QueryStats, at time.Time) iter.Seq2[dataset.Record, error] {
			return source.Records(s.client.Policies(ctx, st), func(p edge.Policy) dataset.Record {
				return s.resource("policy", p.UUID, nil, struct {
					edge.Policy
					StatusName string `json:"status_name"`
				}{p, edge.StatusName(p.Status)}, at)
			})
		}},
	}
}

// Plan logs in and plans the units the request wants. Refused credentials
// wrap httpx.ErrAuth.
func (s *Source) Plan(ctx context.Context, req source.Request) (*source.Plan, error) {
	if err := s.client.Authenticate(ctx); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", s.tenant, err)
	}
	acct := s.client.Account()
	p := &source.Plan{SubAccounts: []string{acct}}
	// The account has one framework (the access review) and is its own
	// only account: what --framework and --account matched here.
	f := &source.Filters{Frameworks: []string{FrameworkName}, Accounts: []string{acct}}
	for _, fw := range req.Frameworks {
		if !strings.EqualFold(fw, FrameworkName) {
			f.UnmatchedFrameworks = append(f.UnmatchedFrameworks, fw)
		}
	}
	for _, a := range req.Accounts {
		if !strings.EqualFold(a, acct) {
			f.UnmatchedAccounts = append(f.UnmatchedAccounts, a)
		}
	}
	p.Filters = f
	if req.Wants(dataset.Reports) && req.Has("report|"+FrameworkName+"|"+acct) {
		p.Frameworks = []source.Framework{{Name: FrameworkName, Units: []source.ReportUnit{{
			SubAccount: acct, Account: acct,
			Call: source.Call{Method: http.MethodGet, Path: s.client.Paths().Accesses, Params: lookupParams(s.client.Paths())},
			Fetch: func(ctx context.Context) (source.Report, error) {
				rep, err := s.review(ctx)
				if err != nil {
					return nil, err
				}
				return rep, nil
			},
		}}}}
	}
	if req.Wants(dataset.Inventory) {
		for _, k := range kinds() {
			if !req.Has("inventory|" + k.resourceType + "|" + acct) {
				continue
			}
			paths := s.client.Paths()
			path := map[string]string{"user": paths.Users, "group": paths.Groups, "app": paths.Apps,
				"access_policy": paths.Accesses, "policy": paths.Policies}[k.resourceType]
			params := map[string]string{"status": "INIT,ACTIVE,SUSPENDED", "paging": "continuation_token until empty"}
			if k.resourceType == "access_policy" || k.resourceType == "policy" {
				params = lookupParams(paths)
				if k.resourceType == "policy" {
					params["resolveDisplayNames"] = "true"
				}
			}
			p.Tables = append(p.Tables, source.TableUnit{Table: dataset.Inventory, Sheet: k.sheet,
				Partition: "resource_type=" + k.resourceType, SubAccount: acct, Account: acct, Window: req.Period,
				Call: source.Call{Method: http.MethodGet, Path: path, Params: params},
				Rows: func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
					return k.rows(ctx, s, st, s.now().UTC())
				}})
		}
	}
	if req.Wants(dataset.AuditLogs) && req.Has("audit_logs|"+acct) {
		w := req.Audit
		p.Tables = append(p.Tables, source.TableUnit{Table: dataset.AuditLogs, SubAccount: acct, Account: acct, Window: w,
			Call: source.Call{Method: http.MethodGet, Path: s.client.Paths().AuditEvents, Params: map[string]string{
				"start_time": strconv.FormatInt(w.From.UnixMilli(), 10), "end_time": strconv.FormatInt(w.To.UnixMilli(), 10),
				"windows": fmt.Sprintf("at most %s per request", s.client.Limits().AuditWindow)}},
			Rows: func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
				seq := s.client.AuditEvents(ctx, edge.AuditQuery{Window: period.Window{From: w.From, To: w.To}, Stats: st})
				return source.Records(seq, auditEvent)
			}})
	}
	return p, nil
}

// lookupParams describe a per-(app, user) lookup for the manifest.
func lookupParams(p edge.Paths) map[string]string {
	return map[string]string{"appid": "<each app uuid of " + p.Apps + ">", "userid": "<each user uuid of " + p.Users + ">",
		"dedup": "by uuid", "paging": "continuation_token until empty"}
}

// resource builds an inventory row; cfg (the API object and its status
// name) is the row's config.
func (s *Source) resource(typ, id string, tags []string, cfg any, at time.Time) dataset.Resource {
	acct := s.client.Account()
	r := dataset.Resource{CSP: CSP, AccountID: acct, ResourceID: id, ResourceType: typ,
		URN: "laceworkedge:" + acct + ":" + typ + "/" + id, CollectedFrom: at, CollectedTo: at}
	if len(tags) > 0 {
		if b, err := json.Marshal(tags); err == nil {
			r.Tags = string(b)
		}
	}
	// Marshalling decoded API values cannot fail (Time only holds years
	// 1-9999); an empty config is the fallback, never a panic.
	if b, err := json.Marshal(cfg); err == nil {
		r.Config = string(b)
	}
	return r
}

func auditEvent(e edge.AuditEvent) dataset.Record {
	event := e.Op
	path := cmp.Or(e.MatchedPath, e.Path)
	if event == "" {
		event = strings.TrimSpace(e.Method + " " + path)
	}
	var desc []string
	if e.ResponseStatus != 0 {
		desc = append(desc, strings.TrimSpace(fmt.Sprintf("HTTP %d %s", e.ResponseStatus, e.ResponseStatusText)))
	}
	if e.ClientIP != "" {
		desc = append(desc, "from "+e.ClientIP)
	}
	if e.AuthType != "" {
		desc = append(desc, "auth "+e.AuthType)
	}
	return dataset.AuditEvent{Time: e.CreateTime.Time, AccountName: cmp.Or(e.AccountName, e.AuthAccountName),
		UserName: cmp.Or(e.UserLogin, e.UserDisplayName, e.AuthUUID), EventName: event,
		UserAction: strings.TrimSpace(e.Method + " " + e.Path), Description: strings.Join(desc, "; ")}
}
