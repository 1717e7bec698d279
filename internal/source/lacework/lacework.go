// Package lacework is the Lacework API v2 source: it discovers a tenant's
// sub-accounts, cloud accounts and frameworks, and plans the pack's units
// over internal/collect/lacework.
//
//   - reports: one unit per framework × sub-account × cloud account of the
//     framework's cloud (the report JSON, spooled, and the vendor's PDF);
//   - evaluations: one unit per ComplianceEvaluations dataset × sub-account
//     that has accounts of the dataset's cloud (Kubernetes always);
//   - inventory: one unit per cloud × sub-account;
//   - audit_logs: one unit per sub-account, over the request's audit window.
package lacework

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

// Name is the source's name in configurations.
const Name = "lacework"

// Opener opens Lacework tenants. limits overrides the documented API limits
// (tests and the demo scale them down); zero fields keep the documented
// values.
func Opener(limits lacework.Limits) source.Opener {
	return func(ctx context.Context, t config.Tenant, env source.Env) (source.Source, error) {
		cfg, creds, err := settings(t, env)
		if err != nil {
			return nil, err
		}
		// Server text may echo them (an error body quoting the request's
		// headers): the pipeline redacts them from all it keeps or logs.
		getenv := env.Getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		stats := &httpx.Stats{} // every key's requests add up
		s := &Source{cfg: cfg, creds: creds}
		for _, kc := range append([]lacework.Credentials{creds}, cfg.moreKeys(creds, getenv)...) {
			env.Redactor.Add(kc.KeyID, kc.Secret.Reveal())
			c, err := lacework.New(kc, lacework.Options{Options: env.HTTP(), Limits: cfg.limits(limits), Stats: stats})
			if err != nil {
				return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
			}
			s.keys = append(s.keys, &key{name: "API key " + source.MaskID(kc.KeyID), client: c})
		}
		s.all, s.client = s.keys, s.keys[0].client
		return s, nil
	}
}

// Source is one Lacework tenant.
type Source struct {
	cfg    Config
	creds  lacework.Credentials
	client *lacework.Client // the primary key's: discovery and probes
	all    []*key           // the primary key, then api_keys
	keys   []*key           // those of this plan: this shard's (shareKeys), not refused (checkKeys)
	// turn is each bucket's next key, round robin; assigned the key of
	// each unit, by the name Estimate finds it by.
	turn     map[string]int
	assigned map[string]int
}

// TenantName is the tenant's name when the configuration gives none: the
// account's (acme of acme.lacework.net).
func (s *Source) TenantName() string { return s.creds.AccountName() }

// Check refuses a period whose evaluations the API no longer keeps
// ("within the last 90 days", Search Compliance Evaluations): the client
// would refuse every evaluation unit, so the run is refused instead.
func (s *Source) Check(req source.Request, now time.Time) []error {
	h := s.client.Limits().EvaluationHistory
	if earliest := now.Add(-h); req.Wants(dataset.Evaluations) && req.Period.From.Before(earliest) {
		return []error{fmt.Errorf("the period starts %s, but Lacework keeps compliance evaluations %d days (the earliest start now is %s): choose a later --from, or leave evaluations out (--dataset)",
			req.Period.From.UTC().Format(time.RFC3339), int(h.Hours()/24), earliest.UTC().Format(time.RFC3339))}
	}
	return nil
}

// Client is the tenant's API client (for `evidence frameworks`).
func (s *Source) Client() *lacework.Client { return s.client }

func (s *Source) Info() source.Info {
	var names []string
	for _, k := range s.keys {
		names = append(names, strings.TrimPrefix(k.name, "API key "))
	}
	what := "API key "
	if len(names) > 1 {
		what = "API keys "
	}
	return source.Info{System: Name, API: "Lacework API v2", BaseURL: s.client.BaseURL(), Credential: what + strings.Join(names, ", ")}
}

func (s *Source) Stats() *httpx.Stats { return s.client.Stats() }

// hostHint says, when the API's host name does not exist, what names it.
func hostHint(err error) error {
	if errors.Is(err, httpx.ErrNoSuchHost) {
		return fmt.Errorf("%w; the account (LW_ACCOUNT or lacework.account) names the host, LW_API_URL or lacework.api_url replaces it", err)
	}
	return err
}

// sub is one reachable sub-account with what discovery found in it.
type sub struct {
	name       string
	client     *lacework.Client
	targets    []lacework.Target
	frameworks []lacework.Framework
}

// reportTypeRE recognises an API report type (AWS_CIS_14) given where a
// framework name is expected.
var reportTypeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_.:\-]+$`)

// Plan authenticates and discovers: sub-accounts, then each one's cloud
// accounts and frameworks. Refused credentials are fatal; a sub-account that
// fails discovery (403) becomes a failure and the others go on.
func (s *Source) Plan(ctx context.Context, req source.Request) (*source.Plan, error) {
	p := &source.Plan{}
	s.shareKeys(req)
	var names []string
	var err error
	if one := s.creds.SubAccount; one != "" {
		names = []string{strings.ToLower(one)}
	} else if names, err = s.client.SubAccounts(ctx); err != nil {
		return nil, hostHint(err)
	}
	if len(s.cfg.SubAccounts) > 0 {
		names = slices.DeleteFunc(names, func(n string) bool { return !containsFold(s.cfg.SubAccounts, n) })
		if len(names) == 0 {
			return nil, fmt.Errorf("none of the configured sub-accounts %v is reachable with this key", s.cfg.SubAccounts)
		}
	}
	if err := s.checkKeys(ctx, p); err != nil {
		return nil, err
	}
	var subs []*sub
	fs := &filterState{known: &source.Filters{}, matched: map[string]bool{}}
	for _, name := range names {
		sc, err := s.client.SubAccount(name)
		if err != nil {
			return nil, err
		}
		sb := &sub{name: name, client: sc}
		if err := s.discover(ctx, req, sb, p, fs); err != nil {
			if errors.Is(err, lacework.ErrAuth) || errors.Is(err, httpx.ErrNoSuchHost) || ctx.Err() != nil {
				return nil, hostHint(err)
			}
			p.Failures = append(p.Failures, source.Failure{Unit: "discover " + name, SubAccount: name, Err: err})
			continue
		}
		subs = append(subs, sb)
		p.SubAccounts = append(p.SubAccounts, name)
		for _, t := range sb.targets {
			p.Accounts = append(p.Accounts, name+"/"+t.String())
		}
	}
	if err := s.prepareKeys(subs); err != nil {
		return nil, err
	}
	// A sub-account that could not be discovered may hold what a filter
	// names: then the plan does not say what matched.
	if len(p.Failures) == 0 {
		p.Filters = fs.report(s.wantedAccounts(req), s.wantedFrameworks(req), req.Wants(dataset.Reports))
	}
	if req.Wants(dataset.Reports) {
		p.Frameworks = s.planReports(req, subs)
		if !s.cfg.vendorPDF(req) && len(p.Frameworks) > 0 {
			p.Excluded = append(p.Excluded, "Lacework's own PDF of each report: left out as asked (vendor_pdf: false or --no-vendor-pdf); the report's JSON is in the pack")
		}
	}
	if req.Wants(dataset.Evaluations) {
		p.Tables = append(p.Tables, s.evaluationUnits(req, subs)...)
	}
	if req.Wants(dataset.Inventory) {
		p.Tables = append(p.Tables, s.inventoryUnits(req, subs)...)
	}
	if req.Wants(dataset.AuditLogs) {
		p.Tables = append(p.Tables, s.auditUnits(req, subs)...)
	}
	return p, nil
}

// filterState gathers, across sub-accounts, what the filters matched.
type filterState struct {
	known   *source.Filters
	matched map[string]bool // "account\x00<value>", "framework\x00<value>", lower-case
}

func (f *filterState) match(kind, value string) { f.matched[kind+"\x00"+strings.ToLower(value)] = true }

// report lists the wanted values that matched nothing.
func (f *filterState) report(accounts, frameworks []string, reports bool) *source.Filters {
	out := *f.known
	for _, a := range accounts {
		if !f.matched["account\x00"+strings.ToLower(a)] {
			out.UnmatchedAccounts = append(out.UnmatchedAccounts, a)
		}
	}
	for _, w := range frameworks {
		if reports && !f.matched["framework\x00"+strings.ToLower(w)] {
			out.UnmatchedFrameworks = append(out.UnmatchedFrameworks, w)
		}
	}
	return &out
}

// wantedAccounts are the cloud accounts to collect: --account, else the
// section's accounts; empty means all.
func (s *Source) wantedAccounts(req source.Request) []string {
	if len(req.Accounts) > 0 {
		return req.Accounts
	}
	return s.cfg.Accounts
}

// wantedFrameworks are the frameworks to collect: --framework, else the
// section's frameworks; empty means all.
func (s *Source) wantedFrameworks(req source.Request) []string {
	if len(req.Frameworks) > 0 {
		return req.Frameworks
	}
	return s.cfg.Frameworks
}

func (s *Source) discover(ctx context.Context, req source.Request, sb *sub, p *source.Plan, fs *filterState) error {
	targets, excluded, err := sb.client.TargetsAndExcluded(ctx)
	if err != nil {
		return err
	}
	for _, x := range excluded {
		p.Excluded = append(p.Excluded, sb.name+": "+x)
	}
	for _, t := range targets {
		fs.known.Accounts = append(fs.known.Accounts, t.ID())
	}
	if accounts := s.wantedAccounts(req); len(accounts) > 0 {
		targets = slices.DeleteFunc(targets, func(t lacework.Target) bool {
			for _, a := range accounts {
				if strings.EqualFold(a, t.ID()) || strings.EqualFold(a, t.Primary) {
					fs.match("account", a)
					return false
				}
			}
			return true
		})
	}
	sb.targets = targets
	if !req.Wants(dataset.Reports) {
		return nil
	}
	fws, err := sb.client.Frameworks(ctx)
	if err != nil {
		return err
	}
	for _, f := range fws {
		fs.known.Frameworks = append(fs.known.Frameworks, f.Name)
	}
	if want := s.wantedFrameworks(req); len(want) > 0 {
		fws = selectFrameworks(fws, want, p)
		for _, w := range want {
			if reportTypeRE.MatchString(w) || slices.ContainsFunc(fws, func(f lacework.Framework) bool {
				return strings.EqualFold(f.Name, w) || strings.EqualFold(f.DisplayName, w)
			}) {
				fs.match("framework", w)
			}
		}
	}
	sb.frameworks = fws
	return nil
}

// selectFrameworks keeps the wanted frameworks: report names (or display
// names), compared case-insensitively, or API report types (AWS_CIS_14).
func selectFrameworks(all []lacework.Framework, want []string, p *source.Plan) []lacework.Framework {
	var out []lacework.Framework
	for _, w := range want {
		i := slices.IndexFunc(all, func(f lacework.Framework) bool {
			return strings.EqualFold(f.Name, w) || strings.EqualFold(f.DisplayName, w)
		})
		var f lacework.Framework
		switch {
		case i >= 0:
			f = all[i]
		case reportTypeRE.MatchString(w):
			f = lacework.Framework{Name: w, ReportType: w, Cloud: cloudOfReportType(w)}
		default:
			msg := fmt.Sprintf("framework %q is not among the report definitions of this sub-account; run `evidence frameworks` to list them", w)
			if !slices.Contains(p.Warnings, msg) {
				p.Warnings = append(p.Warnings, msg)
			}
			continue
		}
		// The same framework asked for twice (a name and its display name)
		// is collected once.
		if !slices.ContainsFunc(out, func(o lacework.Framework) bool { return o.Name == f.Name && o.Cloud == f.Cloud }) {
			out = append(out, f)
		}
	}
	return out
}

func cloudOfReportType(t string) lacework.Cloud {
	switch {
	case strings.HasPrefix(t, "AZURE"):
		return lacework.Azure
	case strings.HasPrefix(t, "GCP"):
		return lacework.GCP
	}
	return lacework.AWS
}

// planReports groups report units by framework: every target of the
// framework's cloud in every sub-account that has the framework.
func (s *Source) planReports(req source.Request, subs []*sub) []source.Framework {
	byKey := map[string]*source.Framework{}
	var keys []string
	for _, sb := range subs {
		for _, fw := range sb.frameworks {
			key := string(fw.Cloud) + "\x00" + fw.Name
			f, ok := byKey[key]
			if !ok {
				f = &source.Framework{Name: fw.Name, Cloud: string(fw.Cloud)}
				byKey[key] = f
				keys = append(keys, key)
			}
			for _, t := range sb.targets {
				if t.Cloud != fw.Cloud || !req.Has("report|"+fw.Name+"|"+sb.name+"|"+t.String()) {
					continue
				}
				q := lacework.ReportQuery{Target: t, Framework: fw.Name, ReportType: fw.ReportType}
				id := reportID(fw.Name, sb.name, t.ID())
				client, vendor := s.assign(bucketReports, sb.name, id), s.cfg.vendorPDF(req)
				f.Units = append(f.Units, source.ReportUnit{SubAccount: sb.name, Account: t.ID(), Cloud: string(t.Cloud),
					Call: source.Call{Method: http.MethodGet, Path: lacework.PathReports, Params: q.Params()}, Lane: s.lane(id),
					Fetch: func(ctx context.Context) (source.Report, error) {
						rep, err := client.Report(ctx, q)
						if err != nil {
							return nil, err
						}
						return &report{rep: rep, client: client, query: q, vendor: vendor}, nil
					}})
			}
		}
	}
	slices.Sort(keys)
	var out []source.Framework
	for _, k := range keys {
		if f := byKey[k]; len(f.Units) > 0 {
			out = append(out, *f)
		}
	}
	return out
}

// report adapts a spooled Lacework report.
type report struct {
	rep    *lacework.Report
	client *lacework.Client
	query  lacework.ReportQuery
	vendor bool // Vendor fetches Lacework's PDF (Config.VendorPDF)
}

func (r *report) AccountAlias() string {
	h := r.rep.Header
	return cmp.Or(r.query.Target.Alias, h.AccountAlias, h.SubscriptionName, h.ProjectName)
}

func (r *report) ReportTime() time.Time { return r.rep.Header.ReportTime.Time }

func (r *report) Controls() iter.Seq2[source.Control, error] {
	return func(yield func(source.Control, error) bool) {
		for rec, err := range r.rep.Recommendations() {
			if err != nil {
				yield(source.Control{}, err)
				return
			}
			c := source.Control{ID: rec.RecID, Title: rec.Title, Category: rec.Category, Service: rec.Service,
				Severity: lacework.SeverityName(rec.Severity), SeverityRank: rec.Severity, Status: dataset.Status(rec.Status),
				Assessed: int64(rec.AssessedResourceCount), Suppressions: rec.Suppressions, InfoLink: rec.InfoLink}
			for _, v := range rec.Violations {
				c.Violations = append(c.Violations, source.Violation{Region: v.Region, Resource: v.Resource, Reasons: v.Reasons})
			}
			// The report's SUPPRESSIONS name the suppressed resources only:
			// no reason, author or date (seed 000's report samples; the
			// suppressions API is not in the document).
			for _, res := range rec.Suppressions {
				c.Exceptions = append(c.Exceptions, source.Exception{Kind: source.ExceptionSuppression, Resource: res})
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// Vendor is Lacework's own PDF rendering of the report; none when the
// tenant leaves them out.
func (r *report) Vendor(ctx context.Context) (io.ReadCloser, string, error) {
	if !r.vendor {
		return nil, "", nil
	}
	pdf, err := r.client.ReportPDF(ctx, r.query)
	if err != nil {
		return nil, "", err
	}
	return pdf, "pdf", nil
}

func (r *report) Close() error { return r.rep.Close() }

func (sb *sub) hasCloud(c lacework.Cloud) bool {
	return slices.ContainsFunc(sb.targets, func(t lacework.Target) bool { return t.Cloud == c })
}

func (sb *sub) accountsOf(c lacework.Cloud) []string {
	var out []string
	for _, t := range sb.targets {
		if t.Cloud == c {
			out = append(out, t.ID())
		}
	}
	return out
}

func window(w period.Window) period.Window { return period.Window{From: w.From, To: w.To} }

// evaluationUnits: every dataset × sub-account that has accounts of the
// dataset's cloud (Kubernetes is always asked: clusters are not listed by
// CloudAccounts). One sheet per dataset.
func (s *Source) evaluationUnits(req source.Request, subs []*sub) []source.TableUnit {
	var out []source.TableUnit
	for _, ds := range lacework.EvaluationDatasets() {
		for _, sb := range subs {
			if c, ok := datasetCloud(ds); (ok && !sb.hasCloud(c)) || !req.Has("evaluations|"+ds+"|"+sb.name) {
				continue
			}
			client := s.assign(bucketEvaluations, sb.name, tableID(dataset.Evaluations, ds, sb.name))
			out = append(out, source.TableUnit{Table: dataset.Evaluations, Sheet: ds, Partition: "dataset=" + ds,
				SubAccount: sb.name, Window: req.Period, Call: searchCall(lacework.PathEvaluations, req.Period, s.client.Limits().EvaluationWindow, "dataset", ds),
				Rows: func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
					seq := client.Evaluations(ctx, lacework.EvaluationQuery{Dataset: ds, Window: window(req.Period), Stats: st})
					return httpx.Map(seq, func(e lacework.Evaluation) dataset.Record { return evaluation(ds, e) })
				}})
		}
	}
	return out
}

// searchCall records a search unit's call: its body's time filter and
// dataset or csp, and how the client splits the window.
func searchCall(path string, w period.Window, split time.Duration, key, value string) source.Call {
	p := map[string]string{key: value, "timeFilter.startTime": w.From.UTC().Format(time.RFC3339), "timeFilter.endTime": w.To.UTC().Format(time.RFC3339)}
	if split > 0 {
		p["windows"] = fmt.Sprintf("at most %s per request", split)
	}
	return source.Call{Method: http.MethodPost, Path: path, Params: p}
}

func datasetCloud(ds string) (lacework.Cloud, bool) {
	switch ds {
	case "AwsCompliance":
		return lacework.AWS, true
	case "AzureCompliance":
		return lacework.Azure, true
	case "GcpCompliance":
		return lacework.GCP, true
	}
	return "", false
}

// inventoryUnits: one snapshot per cloud × sub-account; one sheet per cloud.
func (s *Source) inventoryUnits(req source.Request, subs []*sub) []source.TableUnit {
	var out []source.TableUnit
	for _, csp := range lacework.InventoryCSPs() {
		for _, sb := range subs {
			if !sb.hasCloud(lacework.Cloud(csp)) || !req.Has("inventory|"+csp+"|"+sb.name) {
				continue
			}
			accounts := sb.accountsOf(lacework.Cloud(csp))
			client := s.assign(bucketInventory, sb.name, tableID(dataset.Inventory, csp, sb.name))
			out = append(out, source.TableUnit{Table: dataset.Inventory, Sheet: csp, Partition: "csp=" + csp,
				SubAccount: sb.name, Window: req.Period, Call: searchCall(lacework.PathInventory, req.Period, 0, "csp", csp),
				Rows: func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
					seq := client.Inventory(ctx, lacework.InventoryQuery{CSP: csp, Window: window(req.Period), Accounts: accounts, Stats: st})
					return httpx.Map(seq, resource)
				}})
		}
	}
	return out
}

// auditUnits: each sub-account's audit log over the audit window.
func (s *Source) auditUnits(req source.Request, subs []*sub) []source.TableUnit {
	var out []source.TableUnit
	for _, sb := range subs {
		if !req.Has("audit_logs|" + sb.name) {
			continue
		}
		client := s.assign(bucketAuditLogs, sb.name, tableID(dataset.AuditLogs, "", sb.name))
		out = append(out, source.TableUnit{Table: dataset.AuditLogs, SubAccount: sb.name, Window: req.Audit,
			Call: source.Call{Method: http.MethodGet, Path: lacework.PathAuditLogs, Params: map[string]string{
				"startTime": req.Audit.From.UTC().Format(time.RFC3339), "endTime": req.Audit.To.UTC().Format(time.RFC3339),
				"windows": "a day per request, halved while an answer fills a page"}},
			Rows: func(ctx context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
				seq := client.AuditLogs(ctx, lacework.AuditLogQuery{Window: window(req.Audit), Stats: st})
				return httpx.Map(seq, auditEvent)
			}})
	}
	return out
}

func evaluation(ds string, e lacework.Evaluation) dataset.Record {
	a := e.Account
	return dataset.Evaluation{Dataset: ds,
		AccountID:    cmp.Or(a.AccountID, a.SubscriptionID, a.ProjectID, a.ClusterName, a.TenantID, a.OrganizationID),
		AccountAlias: a.AccountAlias, ReportTime: e.ReportTime.Time, ControlID: e.ID, Recommendation: e.Recommendation,
		Section: e.Section, Severity: e.Severity, Status: e.Status, Resource: e.Resource, Reason: e.Reason, EvalType: e.EvalType}
}

func resource(v lacework.Resource) dataset.Record {
	c := v.CloudDetails
	status := v.Status.Status
	if v.Status.ErrorMessage != "" {
		status = strings.TrimSpace(status + ": " + v.Status.ErrorMessage)
	}
	return dataset.Resource{CSP: v.CSP, AccountID: cmp.Or(c.AccountID, c.SubscriptionID, c.ProjectID, c.TenantID, c.OrganizationID),
		AccountAlias: c.AccountAlias, ResourceID: v.ResourceID, SourceKey: v.APIKey, ResourceType: v.ResourceType, Service: v.Service,
		Region: v.ResourceRegion, URN: v.URN, CollectedFrom: v.StartTime.Time, CollectedTo: v.EndTime.Time, Status: status,
		StatusDetails: string(v.Status.Props),
		Tags:          string(v.ResourceTags), Config: string(v.ResourceConfig)}
}

func auditEvent(v lacework.AuditLog) dataset.Record {
	return dataset.AuditEvent{Time: v.CreatedTime.Time, AccountName: v.AccountName, UserName: v.UserName,
		EventName: v.EventName, UserAction: v.UserAction, Description: v.EventDescription}
}

// Estimate predicts the plan's requests per rate-limit bucket, for
// `evidence plan`: a report and its PDF per report unit, and per search
// result set ⌈rows/page⌉ pages (at least one). With probe, each result set's
// first page is fetched for its totalRows (one request each); without, the
// estimate is the floor of one page per result set.
func (s *Source) Estimate(ctx context.Context, p *source.Plan, req source.Request, probe bool) ([]source.Bucket, error) {
	l := s.client.Limits()
	var out []source.Bucket
	// With several keys, each key's share of a bucket is a bucket of its
	// own: they have their own budgets.
	named := func(bucket, id string) string {
		if k := s.keyName(id); k != "" {
			return bucket + " · " + k
		}
		return bucket
	}
	// Each bucket's latency is that of the requests of its kind timed so
	// far: the probes (a few reports, each search's first page), never
	// discovery's listings, which may be far larger.
	latency := func(bucket string) time.Duration {
		d, _ := s.client.Stats().Latency(bucketPath(bucket))
		return d
	}
	if req.Wants(dataset.Reports) && probe {
		if err := s.probeReport(ctx, p); err != nil {
			return nil, err
		}
	}
	if req.Wants(dataset.Reports) {
		perUnit, what := 2, "JSON and vendor PDF"
		if !s.cfg.vendorPDF(req) {
			perUnit, what = 1, "JSON (no vendor PDF)"
		}
		reports := map[string]*source.Bucket{}
		fws := map[string]map[string]int{} // bucket → framework → units
		for _, f := range p.Frameworks {
			for _, u := range f.Units {
				name := named(bucketReports, reportID(f.Name, u.SubAccount, u.Account))
				b := reports[name]
				if b == nil {
					b = &source.Bucket{Name: name, PerHour: l.RequestsPerHour, Burst: l.Burst, Latency: latency(bucketReports), Reports: true}
					reports[name], fws[name] = b, map[string]int{}
				}
				b.Units++
				b.Requests += perUnit
				fws[name][f.Name]++
			}
		}
		for _, name := range slices.Sorted(maps.Keys(reports)) {
			var list []string
			for _, f := range slices.Sorted(maps.Keys(fws[name])) {
				list = append(list, fmt.Sprintf("%s (%d)", f, fws[name][f]))
			}
			reports[name].Detail = what + " per cloud account × framework: " + strings.Join(list, ", ")
			out = append(out, *reports[name])
		}
	}
	buckets := map[string]*source.Bucket{}
	bases := map[string]string{} // the API's bucket of each of the plan's
	for _, u := range p.Tables {
		bucket := map[string]string{dataset.Evaluations: bucketEvaluations, dataset.Inventory: bucketInventory, dataset.AuditLogs: bucketAuditLogs}[u.Table]
		name := named(bucket, tableID(u.Table, u.Sheet, u.SubAccount))
		b := buckets[name]
		if b == nil {
			b = &source.Bucket{Name: name, PerHour: l.RequestsPerHour, Burst: l.Burst}
			buckets[name], bases[name] = b, bucket
		}
		b.Units++
		windows := []period.Window{window(u.Window)}
		if u.Table == dataset.Evaluations {
			windows = window(u.Window).Split(l.EvaluationWindow)
		}
		for _, w := range windows {
			if !probe {
				b.Requests++
				if u.Table == dataset.AuditLogs {
					b.Requests += len(w.Split(l.AuditWindow)) - 1 // a request a day
				}
				continue
			}
			if u.Table == dataset.AuditLogs {
				// Unpaged answers: the probe reads the unit as the run
				// will, with the halves a full answer is re-run as.
				rows, requests, err := s.auditRequests(ctx, u, w)
				if err != nil {
					return nil, fmt.Errorf("probe %s %s: %w", u.Table, u.SubAccount, err)
				}
				b.Rows += int64(rows)
				b.Requests += requests
				continue
			}
			total, err := s.count(ctx, u, w)
			if err != nil {
				return nil, fmt.Errorf("probe %s %s %s: %w", u.Table, u.Sheet, u.SubAccount, err)
			}
			b.Rows += int64(total)
			b.Requests += max(1, (total+l.PageRows-1)/l.PageRows)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(buckets)) {
		b := buckets[name]
		b.Latency = latency(bases[name]) // after the probes
		if probe {
			b.Detail = fmt.Sprintf("%d rows in pages of %d (probed)", b.Rows, l.PageRows)
		} else {
			b.Detail = fmt.Sprintf("at least one request per result set, + 1 per further %d rows", l.PageRows)
		}
		out = append(out, *b)
	}
	return out, nil
}

// bucketPath is the API path, and the client's rate-limit bucket, of one
// of the plan's buckets.
func bucketPath(bucket string) string {
	switch bucket {
	case bucketReports:
		return lacework.PathReports
	case bucketEvaluations:
		return lacework.PathEvaluations
	case bucketInventory:
		return lacework.PathInventory
	case bucketAuditLogs:
		return lacework.PathAuditLogs
	}
	return ""
}

// reportProbes is how many reports a probed plan fetches to time the
// Reports requests: their median stands for all. Our choice (the document
// says nothing of a report's latency): three, at 3 of the bucket's 480 an
// hour, since the first request of a kind is often slower than the rest.
const reportProbes = 3

// probeReport fetches the plan's first reports (their JSON, a request of
// the Reports bucket each) and drops them: Estimate times the Reports
// requests on them.
func (s *Source) probeReport(ctx context.Context, p *source.Plan) error {
	n := 0
	for _, f := range p.Frameworks {
		for _, u := range f.Units {
			if n++; n > reportProbes {
				return nil
			}
			rep, err := u.Fetch(ctx)
			if err != nil {
				if ctx.Err() != nil || errors.Is(err, lacework.ErrAuth) {
					return err
				}
				// The plan stands without it: the report's unit will
				// fail in the run, and say why.
				continue
			}
			if err := rep.Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

// count asks for the first page of one result set and returns the rows the
// API announces for it.
func (s *Source) count(ctx context.Context, u source.TableUnit, w period.Window) (int, error) {
	sc, err := s.client.SubAccount(u.SubAccount)
	if err != nil {
		return 0, err
	}
	var st httpx.QueryStats
	switch u.Table {
	case dataset.Evaluations:
		err = first(sc.Evaluations(ctx, lacework.EvaluationQuery{Dataset: u.Sheet, Window: w, Stats: &st}))
	case dataset.Inventory:
		err = first(sc.Inventory(ctx, lacework.InventoryQuery{CSP: u.Sheet, Window: w, Stats: &st}))
	case dataset.AuditLogs:
		err = first(sc.AuditLogs(ctx, lacework.AuditLogQuery{Window: w, Stats: &st}))
	}
	return st.Total, err
}

// auditRequests reads one audit-log window as the run will, and returns
// its rows and the requests it took (answers kept, and those dropped as
// possibly cut before their window was split).
func (s *Source) auditRequests(ctx context.Context, u source.TableUnit, w period.Window) (rows, requests int, err error) {
	sc, err := s.client.SubAccount(u.SubAccount)
	if err != nil {
		return 0, 0, err
	}
	var st httpx.QueryStats
	for _, err := range sc.AuditLogs(ctx, lacework.AuditLogQuery{Window: w, Stats: &st}) {
		if err != nil {
			return 0, 0, err
		}
	}
	return st.Rows, st.Pages + st.Splits, nil
}

// first reads an iterator's first row (its first page) and stops.
func first[T any](seq iter.Seq2[T, error]) error {
	for _, err := range seq {
		return err
	}
	return nil
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
