package sophos

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/sophos"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

// Name is the source's name: a tenant's "source:" and its section's key.
const Name = "sophos"

// URLEnv overrides the default API base URL when the section sets none.
const URLEnv = "SOPHOS_OPTIX_API_URL"

// Config is a tenant's sophos: section. Secrets are never read from it:
// the API key comes from the environment variable APIKeyEnv names.
type Config struct {
	// APIURL is the API's base URL; default $SOPHOS_OPTIX_API_URL, then
	// https://optix.sophos.com.
	APIURL string `yaml:"api_url,omitempty"`
	// APIKeyEnv names the variable holding the API key; default
	// SOPHOS_OPTIX_API_KEY.
	APIKeyEnv string `yaml:"api_key_env,omitempty"`
	// Environments narrows collection to these environment (account) ids.
	Environments []string `yaml:"environments,omitempty"`
	// Frameworks narrows the framework reports to these policyTagList
	// values; default every framework the API document lists.
	Frameworks []string `yaml:"frameworks,omitempty"`
}

// src is one Cloud Optix tenant.
type src struct {
	tenant string
	cfg    Config
	client *sophos.Client
	log    *slog.Logger
	now    func() time.Time
	spool  string
	// credential names the API key for the manifest (source.Info).
	credential string
}

var _ source.Opener = Open

// Open decodes the tenant's sophos: section (strictly: an unknown key is an
// error naming the tenant), reads the API key from the environment and
// returns the tenant's Source. It sends no request.
func Open(_ context.Context, t config.Tenant, env source.Env) (source.Source, error) {
	if node, ok := t.Sections[Name]; ok {
		for i := 0; i+1 < len(node.Content); i += 2 {
			if k := node.Content[i].Value; k == "api_key" || k == "apikey" || k == "key" {
				return nil, fmt.Errorf("tenant %s: sophos.%s: the API key is never read from the config file; put it in %s (or name another variable with api_key_env)",
					t.Name, k, sophos.DefaultKeyEnv)
			}
		}
	}
	var cfg Config
	if err := source.DecodeSection(t, &cfg); err != nil {
		return nil, err
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if cfg.APIKeyEnv == "" {
		cfg.APIKeyEnv = sophos.DefaultKeyEnv
	}
	if cfg.APIURL == "" {
		cfg.APIURL = getenv(URLEnv)
	}
	var errs []error
	for _, list := range []struct {
		name string
		vs   []string
	}{{"environments", cfg.Environments}, {"frameworks", cfg.Frameworks}} {
		for _, v := range list.vs {
			if strings.TrimSpace(v) == "" || strings.Contains(v, ",") {
				errs = append(errs, fmt.Errorf("tenant %s: sophos.%s: %q must be non-empty and without commas", t.Name, list.name, v))
			}
		}
	}
	key := strings.TrimSpace(getenv(cfg.APIKeyEnv))
	if key == "" {
		errs = append(errs, fmt.Errorf("tenant %s: sophos: %s is empty or unset: put the Cloud Optix API key there (Cloud Optix: Settings > Integrations > Sophos Cloud Optix API)",
			t.Name, cfg.APIKeyEnv))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// Server text may echo it: the pipeline redacts it.
	env.Redactor.Add(key)
	opts := env.HTTP()
	log, now := opts.Logger, opts.Now
	client, err := sophos.New(httpx.Secret(key), sophos.Options{Options: opts, BaseURL: cfg.APIURL, Tenant: t.Name, KeyEnv: cfg.APIKeyEnv})
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	return &src{
		tenant: t.Name,
		cfg:    cfg,
		client: client,
		log:    log.With("source", Name, "tenant", t.Name),
		now:    now,
		spool:  env.SpoolDir,
		// The API key is the only credential (seed 004): a fingerprint
		// names it.
		credential: "API key " + source.Fingerprint(key),
	}, nil
}

func (s *src) Info() source.Info {
	// Alerts are raised for failing rules only: no rule is ever reported
	// as passing (seed 004, Alerts).
	return source.Info{System: Name, API: "Sophos Cloud Optix API v1", BaseURL: s.client.BaseURL(), Credential: s.credential, FailingOnly: true}
}

func (s *src) Stats() *httpx.Stats { return s.client.Stats() }

// Plan discovers the environments and returns the units the request asks
// for. A refused key fails the plan (httpx.ErrAuth); a configured
// environment the API does not list is a Plan.Failure.
func (s *src) Plan(ctx context.Context, req source.Request) (*source.Plan, error) {
	all, err := s.client.Accounts(ctx, sophos.AccountQuery{})
	if err != nil {
		return nil, fmt.Errorf("discover environments: %w", err)
	}
	p := &source.Plan{SubAccounts: []string{s.tenant}}
	accts := s.accounts(all)
	envs := s.environments(req)
	var selected []sophos.Account
	for _, a := range all {
		id := string(a.AccountID)
		if len(envs) > 0 && !slices.Contains(envs, id) {
			continue
		}
		if !a.Enabled() {
			p.Warnings = append(p.Warnings, fmt.Sprintf("sophos: environment %s (%s) is disabled in Cloud Optix: only its inventory entry is collected", id, a.Name))
			p.Excluded = append(p.Excluded, fmt.Sprintf("environment %s (%s): disabled in Cloud Optix; no alerts or reports", id, a.Name))
			continue
		}
		selected = append(selected, a)
		p.Accounts = append(p.Accounts, s.tenant+"/"+a.Cloud()+":"+id)
	}
	for _, id := range s.cfg.Environments {
		if _, ok := accts[id]; !ok {
			p.Failures = append(p.Failures, source.Failure{Unit: "discover environment " + id, SubAccount: s.tenant,
				Err: fmt.Errorf("%w: sophos tenant %s: environment %s is not in Cloud Optix: remove it from sophos.environments, or use the API key of the customer that holds it",
					sophos.ErrEnvironmentNotFound, s.tenant, id)})
		}
	}
	// What the request's --account and --framework values matched here.
	f := &source.Filters{Frameworks: sophos.PolicyTags()}
	for _, a := range all {
		f.Accounts = append(f.Accounts, string(a.AccountID))
	}
	for _, id := range req.Accounts {
		if _, ok := accts[id]; !ok {
			f.UnmatchedAccounts = append(f.UnmatchedAccounts, id)
		}
	}
	for _, fw := range req.Frameworks {
		if !slices.ContainsFunc(sophos.PolicyTags(), func(t string) bool { return strings.EqualFold(t, fw) }) {
			f.UnmatchedFrameworks = append(f.UnmatchedFrameworks, fw)
		}
	}
	p.Filters = f
	if req.Wants(dataset.Reports) {
		p.Frameworks = s.planFrameworks(req, p, selected, accts)
	}
	if req.Wants(dataset.Evaluations) {
		for _, a := range selected {
			id := string(a.AccountID)
			if !req.Has("evaluations|" + s.tenant + "|" + id) {
				continue
			}
			p.Tables = append(p.Tables, source.TableUnit{
				Table: dataset.Evaluations, Sheet: "Alerts", Partition: "dataset=" + datasetPrefix(a.Cloud()) + "Alerts",
				SubAccount: s.tenant, Account: id, Window: req.Period,
				Call: source.Call{Method: http.MethodGet, Path: sophos.PathAlerts, Params: alertFilter(id, req.Period).Params()},
				Rows: s.evaluationRows(a, req.Period),
			})
		}
	}
	if req.Wants(dataset.Inventory) {
		p.Tables = append(p.Tables, s.inventoryUnits(req, all, selected, accts)...)
	}
	if req.Wants(dataset.AuditLogs) {
		p.Tables = append(p.Tables, s.auditUnits(req, selected, accts)...)
		if !slices.ContainsFunc(selected, func(a sophos.Account) bool { return sophos.ActivityLogKey(a.Cloud()) != "" }) {
			p.Warnings = append(p.Warnings, "sophos: no AWS, Azure or GCP environment is selected: there are no cloud activity logs to collect (audit_logs)")
		}
	}
	return p, nil
}

// environments is the environment filter: the section's, else --account
// (which may name accounts of other tenants: those are not failures here).
// Empty means all.
func (s *src) environments(req source.Request) []string {
	if len(s.cfg.Environments) > 0 {
		return s.cfg.Environments
	}
	return req.Accounts
}

// accounts indexes the environments by id.
func (s *src) accounts(all []sophos.Account) map[string]sophos.Account {
	m := make(map[string]sophos.Account, len(all))
	for _, a := range all {
		m[string(a.AccountID)] = a
	}
	return m
}

func (s *src) planFrameworks(req source.Request, p *source.Plan, selected []sophos.Account, accts map[string]sophos.Account) []source.Framework {
	names := s.cfg.Frameworks
	if len(names) == 0 {
		names = req.Frameworks
	}
	if len(names) == 0 {
		names = sophos.PolicyTags()
	}
	var out []source.Framework
	for i, fw := range names {
		if slices.Contains(names[:i], fw) {
			continue // a tag asked for twice is collected once
		}
		if !slices.Contains(sophos.PolicyTags(), fw) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("sophos: framework %q is not a policy tag the API document lists (%s); it is collected as given, and an unknown tag yields no alerts",
				fw, strings.Join(sophos.PolicyTags(), ", ")))
		}
		f := source.Framework{Name: fw}
		for _, a := range selected {
			id := string(a.AccountID)
			if !req.Has("report|" + fw + "|" + s.tenant + "|" + id) {
				continue
			}
			rf := alertFilter(id, req.Period)
			rf.PolicyTags = []string{fw}
			f.Units = append(f.Units, source.ReportUnit{
				SubAccount: s.tenant,
				Account:    id,
				Cloud:      a.Cloud(),
				Call:       source.Call{Method: http.MethodGet, Path: sophos.PathAlerts, Params: rf.Params()},
				Fetch: func(ctx context.Context) (source.Report, error) {
					return s.fetchReport(ctx, fw, accts[id], req.Period)
				},
			})
		}
		if len(f.Units) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// alertFilter selects the alerts of one environment whose lastSeen falls in
// w; a zero window leaves the API's default (the last 365 days).
func alertFilter(accountID string, w period.Window) sophos.AlertFilter {
	return sophos.AlertFilter{AccountIDs: []string{accountID}, LastSeenFrom: w.From, LastSeenTo: w.To}
}

func (s *src) evaluationRows(a sophos.Account, w period.Window) func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
	return func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
		return func(yield func(dataset.Record, error) bool) {
			q := sophos.AlertQuery{AlertFilter: alertFilter(string(a.AccountID), w), Stats: st}
			for al, err := range s.client.Alerts(ctx, q) {
				if err != nil {
					yield(nil, err)
					return
				}
				for _, ev := range evaluations(al, a) {
					if !yield(ev, nil) {
						return
					}
				}
			}
		}
	}
}
