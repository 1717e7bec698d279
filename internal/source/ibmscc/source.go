package ibmscc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/ibmscc"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/source"
)

// Name is the source's name: a tenant's "source:" and its section's key.
const Name = "ibm_scc"

// DefaultAPIKeyEnv is the IBM Cloud CLI's variable for an API key.
const DefaultAPIKeyEnv = "IBMCLOUD_API_KEY"

// Config is a tenant's ibm_scc section. Secrets never appear in it: the API
// key is read from the variable named by APIKeyEnv.
type Config struct {
	Region     string `yaml:"region"`      // e.g. us-south; gives https://<region>.security-compliance-secure.cloud.ibm.com
	APIURL     string `yaml:"api_url"`     // overrides region (private endpoints, emulator)
	IAMURL     string `yaml:"iam_url"`     // default https://iam.cloud.ibm.com/identity/token
	InstanceID string `yaml:"instance_id"` // the Workload Protection instance GUID (IBMInstanceID)
	TeamID     string `yaml:"team_id"`     // optional SysdigTeamID header
	APIKeyEnv  string `yaml:"api_key_env"` // default IBMCLOUD_API_KEY

	Frameworks []string `yaml:"frameworks"` // policy names or ids; default all
	Zones      []string `yaml:"zones"`      // zone names; default all
	Accounts   []string `yaml:"accounts"`   // cloud accounts of the inventory; default all

	PageSize          int `yaml:"page_size"`           // CSPM page size; default 50
	AuditLimit        int `yaml:"audit_limit"`         // activity-audit page size, 1..9999; default 1000
	RequestsPerMinute int `yaml:"requests_per_minute"` // per endpoint family; default 300, negative: no client-side pacing
}

var regionRE = regexp.MustCompile(`^[a-z]{2}-[a-z]+(-[0-9]+)?$`)

// url is the API base URL the section selects.
func (c Config) url() string {
	if c.APIURL != "" {
		return c.APIURL
	}
	if c.Region != "" {
		return ibmscc.RegionURL(c.Region)
	}
	return ""
}

// validate lists every problem, each naming the tenant.
func (c Config) validate(tenant string, getenv func(string) string) error {
	var errs []error
	add := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("tenant %s: %s section: %s", tenant, Name, fmt.Sprintf(format, a...)))
	}
	switch {
	case c.Region == "" && c.APIURL == "":
		add("set region (e.g. us-south) or api_url")
	case c.APIURL == "" && !regionRE.MatchString(c.Region):
		add("region %q: want an IBM Cloud region such as us-south or eu-de", c.Region)
	}
	if c.APIURL != "" {
		if _, err := httpx.ParseBase(c.APIURL); err != nil {
			add("api_url: %v", err)
		}
	}
	if c.IAMURL != "" {
		if _, err := httpx.ParseBase(c.IAMURL); err != nil {
			add("iam_url: %v", err)
		}
	}
	if strings.TrimSpace(c.InstanceID) == "" {
		add("instance_id is not set (the Workload Protection instance GUID: ibmcloud resource service-instance <NAME> --output json | jq -r '.[].guid')")
	}
	if getenv(c.APIKeyEnv) == "" {
		add("the API key variable %s is empty or not set", c.APIKeyEnv)
	}
	if c.PageSize < 0 {
		add("page_size %d: want a positive number", c.PageSize)
	}
	if c.AuditLimit < 0 || c.AuditLimit > ibmscc.MaxAuditLimit {
		add("audit_limit %d: want 1..%d", c.AuditLimit, ibmscc.MaxAuditLimit)
	}
	return errors.Join(errs...)
}

// Source is one Workload Protection instance.
type Source struct {
	tenant string
	cfg    Config
	client *ibmscc.Client
	env    source.Env
	log    *slog.Logger
	// credential names the API key for the manifest (source.Info).
	credential string
}

var _ source.Source = (*Source)(nil)

// Open decodes the tenant's ibm_scc section (strictly: an unknown key is an
// error naming the tenant), reads the API key from the environment and
// returns the source. It makes no request: Plan authenticates.
func Open(ctx context.Context, t config.Tenant, env source.Env) (source.Source, error) {
	_ = ctx // nothing to do before Plan; the signature is the registry's
	var cfg Config
	if err := source.DecodeSection(t, &cfg); err != nil {
		return nil, err
	}
	if cfg.APIKeyEnv == "" {
		cfg.APIKeyEnv = DefaultAPIKeyEnv
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if err := cfg.validate(t.Name, getenv); err != nil {
		return nil, err
	}
	// Server text may echo it: the pipeline redacts it.
	env.Redactor.Add(getenv(cfg.APIKeyEnv))
	opts := env.HTTP()
	log := opts.Logger
	client, err := ibmscc.New(ibmscc.Credentials{
		APIKey:     httpx.Secret(getenv(cfg.APIKeyEnv)),
		InstanceID: cfg.InstanceID,
		TeamID:     cfg.TeamID,
		BaseURL:    cfg.url(),
		IAMURL:     cfg.IAMURL,
	}, ibmscc.Options{Options: opts,
		Limits: ibmscc.Limits{PageSize: cfg.PageSize, AuditLimit: cfg.AuditLimit, RequestsPerMinute: cfg.RequestsPerMinute}})
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	return &Source{tenant: t.Name, cfg: cfg, client: client, env: env,
		credential: "IAM API key " + source.Fingerprint(getenv(cfg.APIKeyEnv)) + ", instance " + cfg.InstanceID,
		log:        log.With("source", Name, "tenant", t.Name)}, nil
}

// Info implements source.Source.
func (s *Source) Info() source.Info {
	return source.Info{System: Name, API: "IBM Cloud SCC Workload Protection API", BaseURL: s.client.BaseURL(),
		// The IAM API key has no public id the run learns without another
		// service (IAM's API key details): a fingerprint names it, beside
		// the instance it reads.
		Credential: s.credential}
}

// Stats implements source.Source.
func (s *Source) Stats() *httpx.Stats { return s.client.Stats() }

// Client returns the API client (for tests and tools).
func (s *Source) Client() *ibmscc.Client { return s.client }

// subAccount is the scope every unit is read from: the instance.
func (s *Source) subAccount() string { return s.client.InstanceID() }

// Plan implements source.Source. It authenticates and reads the compliance
// views (one request), then lists the units: a report unit per (policy,
// zone) when reports are wanted, the inventory and the audit log when
// those are. Refused credentials (IAM or instance) return an error
// wrapping httpx.ErrAuth; views that cannot be read otherwise (403, 5xx
// after retries) are a Plan failure when reports are wanted, a warning when
// not.
func (s *Source) Plan(ctx context.Context, req source.Request) (*source.Plan, error) {
	sub := s.subAccount()
	plan := &source.Plan{SubAccounts: []string{sub}}
	if err := s.client.Authenticate(ctx); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", s.tenant, err)
	}
	views, err := s.client.Views(ctx)
	switch {
	case err != nil && (errors.Is(err, httpx.ErrAuth) || ctx.Err() != nil):
		return nil, fmt.Errorf("tenant %s: %w", s.tenant, err)
	case err != nil && req.Wants(dataset.Reports):
		plan.Failures = append(plan.Failures, source.Failure{Unit: "discover compliance views", SubAccount: sub, Err: err})
	case err != nil:
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("%s: compliance views: %v", Name, err))
	case req.Wants(dataset.Reports):
		s.planReports(plan, views, req)
	}
	if err := s.matchAccounts(ctx, plan, req); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", s.tenant, err)
	}
	if req.Wants(dataset.Evaluations) {
		plan.Warnings = append(plan.Warnings, Name+": there is no evaluations dataset in IBM SCC Workload Protection; the posture results are in the framework reports")
	}
	if req.Wants(dataset.Inventory) && req.Has("inventory|"+sub) {
		plan.Tables = append(plan.Tables, source.TableUnit{
			Table: dataset.Inventory, SubAccount: sub, Window: req.Period, Rows: s.inventoryRows(s.accounts(req)),
			Call: source.Call{Method: http.MethodGet, Path: ibmscc.PathInventory, Params: map[string]string{"accounts": cmp.Or(strings.Join(s.accounts(req), ","), "all")}},
		})
	}
	if req.Wants(dataset.AuditLogs) && req.Has("audit_logs|"+sub) {
		w := req.Audit
		plan.Tables = append(plan.Tables, source.TableUnit{
			Table: dataset.AuditLogs, SubAccount: sub, Window: w,
			Call: source.Call{Method: http.MethodGet, Path: ibmscc.PathAuditEvents, Params: map[string]string{
				"from": strconv.FormatInt(w.From.UnixNano(), 10), "to": strconv.FormatInt(w.To.UnixNano(), 10), "windows": "at most 2 weeks per request"}},
			Rows: func(ctx context.Context, st *httpx.QueryStats) iterRecords { return s.auditRows(ctx, w, st) },
		})
	}
	return plan, nil
}

// zoneRef is a zone a policy is applied to.
type zoneRef struct {
	id, name string
	policy   ibmscc.ViewPolicy
}

// planReports adds a framework per selected policy, with a report unit per
// selected zone, in a stable order (policies, then zones, by name).
func (s *Source) planReports(plan *source.Plan, views []ibmscc.View, req source.Request) {
	sub := s.subAccount()
	byPolicy := map[string][]zoneRef{}
	ids := map[string]string{}
	zonesSeen := map[string]bool{}
	for _, v := range views {
		zonesSeen[v.ZoneName] = true
		if len(s.cfg.Zones) > 0 && !containsFold(s.cfg.Zones, v.ZoneName) {
			continue
		}
		for _, p := range v.Policies {
			if p.Name == "" {
				continue
			}
			byPolicy[p.Name] = append(byPolicy[p.Name], zoneRef{id: v.ZoneID.String(), name: v.ZoneName, policy: p})
			ids[p.Name] = p.ID.String()
		}
	}
	for _, z := range s.cfg.Zones {
		if !containsFoldKeys(zonesSeen, z) {
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("%s: zone %q is not among the instance's compliance views", Name, z))
		}
	}
	names := make([]string, 0, len(byPolicy))
	for n := range byPolicy {
		names = append(names, n)
	}
	slices.Sort(names)
	wanted := s.cfg.Frameworks
	if len(wanted) == 0 {
		wanted = req.Frameworks // --framework
	}
	// What --framework matched here (the policies of the selected zones).
	f := &source.Filters{Frameworks: names}
	for _, want := range req.Frameworks {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, want) || ids[n] == want }) {
			f.UnmatchedFrameworks = append(f.UnmatchedFrameworks, want)
		}
	}
	plan.Filters = f
	if len(wanted) > 0 {
		var keep []string
		for _, want := range wanted {
			i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, want) || ids[n] == want })
			if i < 0 {
				plan.Warnings = append(plan.Warnings, fmt.Sprintf("%s: framework %q is not a compliance policy of the selected zones", Name, want))
				continue
			}
			if !slices.Contains(keep, names[i]) {
				keep = append(keep, names[i])
			}
		}
		slices.Sort(keep)
		names = keep
	}
	accounts := map[string]bool{}
	for _, name := range names {
		zones := byPolicy[name]
		slices.SortFunc(zones, func(a, b zoneRef) int { return strings.Compare(a.name, b.name) })
		fw := source.Framework{Name: name}
		for _, z := range zones {
			if !req.Has("report|" + name + "|" + sub + "|" + z.name) {
				continue
			}
			fw.Units = append(fw.Units, source.ReportUnit{
				SubAccount: sub,
				Account:    z.name,
				Call: source.Call{Method: http.MethodGet, Path: ibmscc.PathRequirements,
					Params: map[string]string{"policy.name": name, "zones.id": z.id, "zone": z.name}},
				Fetch: func(ctx context.Context) (source.Report, error) {
					return s.fetchReport(ctx, name, z)
				},
			})
			accounts[sub+"/zone:"+z.name] = true
		}
		if len(fw.Units) > 0 {
			plan.Frameworks = append(plan.Frameworks, fw)
		}
	}
	for a := range accounts {
		plan.Accounts = append(plan.Accounts, a)
	}
	slices.Sort(plan.Accounts)
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), s) })
}

func containsFoldKeys(m map[string]bool, s string) bool {
	for k := range m {
		if strings.EqualFold(k, strings.TrimSpace(s)) {
			return true
		}
	}
	return false
}

// matchAccounts reports which --account values name no cloud account of
// the instance, so that a run filtered on a mistyped account is refused
// rather than published empty. The API lists no cloud accounts in a
// documented shape (seed 002's List Accounts has no sample), so each value
// is looked up in the inventory, whose documented filter selects by
// account (`account in ("285211435247")`): one request of one row per
// value. The section's own accounts replace --account (see accounts) and
// are not checked. An error other than refused credentials leaves the
// values unjudged (Filters.UnmatchedAccounts empty): the run goes on and
// the inventory unit reports it.
func (s *Source) matchAccounts(ctx context.Context, plan *source.Plan, req source.Request) error {
	if len(req.Accounts) == 0 || len(s.cfg.Accounts) > 0 {
		return nil
	}
	if plan.Filters == nil {
		plan.Filters = &source.Filters{}
	}
	for _, a := range req.Accounts {
		found := false
		for _, err := range s.client.Inventory(ctx, ibmscc.InventoryQuery{Accounts: []string{a}, PageSize: 1}) {
			switch {
			case err != nil && (errors.Is(err, httpx.ErrAuth) || ctx.Err() != nil):
				return err
			case err != nil:
				plan.Warnings = append(plan.Warnings, fmt.Sprintf("%s: cannot tell whether --account %q names a cloud account: %v", Name, a, err))
				found = true
			default:
				found = true
			}
			break
		}
		if !found {
			plan.Filters.UnmatchedAccounts = append(plan.Filters.UnmatchedAccounts, a)
		}
	}
	return nil
}

// accounts narrows the inventory: the section's accounts, else --account.
// Empty means all.
func (s *Source) accounts(req source.Request) []string {
	if len(s.cfg.Accounts) > 0 {
		return s.cfg.Accounts
	}
	return req.Accounts
}
