// Package job runs the evidence pipeline for a configuration: discover, plan
// units, collect them (one collector per API rate-limit bucket, in
// parallel; framework reports fetched a few ahead of the one being written,
// per credential, see prefetch.go), generate XLSX, Parquet and PDF files
// while the rows stream through, and publish the pack (data files,
// SHA256SUMS, manifest.json last).
//
// A unit that fails (a sub-account the key cannot reach, a report that
// errors) is recorded in the manifest and on the first page of summary.pdf,
// and the run carries on: Result.Failures is then non-empty (exit code 3).
// Errors that make a pack meaningless (authentication refused, storage
// failing, a cancelled run) abort it: nothing is published and no
// manifest.json exists.
package job

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/storage"
)

// Build identifies the binary that made a pack.
type Build struct {
	Version string
	Commit  string
	Date    string
}

// Deps are the run's collaborators, passed in (no globals).
type Deps struct {
	Store      storage.Store // where packs go
	Location   string        // how the user names the store (for "how to verify")
	Logger     *slog.Logger
	Progress   Progress
	HTTPClient *http.Client
	Now        func() time.Time
	Rand       io.Reader // run ids; default crypto/rand
	Build      Build
	SpoolDir   string
	// Sources open each tenant's platform by its source: name.
	Sources source.Registry
	Getenv  func(string) string // default os.Getenv
	// Home is the user's home directory, where a platform's CLI keeps its
	// profiles (~/.lacework.toml); "" reads none.
	Home  string
	Retry httpx.Retry
	// Signer, when set, signs manifest.json into manifest.sig.
	Signer *pack.Signer
	// CommandLine is the run's command line, secrets removed, for the
	// manifest (the CLI passes it; see RedactArgs).
	CommandLine []string
	// MaxSheetRows is the most data rows on one sheet of the workbooks
	// before a table continues on "Name (2)"; 0 is xlsx's default, the
	// 1,048,575 a sheet holds. Tests set it low to reach continuation
	// sheets without a million rows.
	MaxSheetRows int
}

func (d *Deps) defaults() {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Progress == nil {
		d.Progress = nopProgress{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.Build.Version == "" {
		d.Build.Version = "dev"
	}
}

// Result describes the packs a run published.
type Result struct {
	Packs []PackResult
}

// PackResult is one tenant's pack.
type PackResult struct {
	Tenant   string
	Prefix   string // key prefix of the pack in the store
	Manifest pack.Manifest
}

// ErrNothingCollected means every unit failed: no pack is published.
var ErrNothingCollected = errors.New("no unit of the run succeeded; nothing was published")

// env is what the tenant's source gets from the run: red collects its
// secrets (the source adds its credentials, the HTTP client every
// credential header it sends).
func (d Deps) env(log *slog.Logger, red *httpx.Redactor) source.Env {
	return source.Env{Getenv: d.Getenv, Home: d.Home, HTTPClient: recordingClient(d.HTTPClient, red), Retry: d.Retry, Logger: log,
		UserAgent: "evidence/" + d.Build.Version, Now: d.Now, SpoolDir: d.SpoolDir, Redactor: red}
}

// Run collects every tenant of cfg and publishes one pack per tenant. A
// tenant whose credentials are refused stops the run with an error wrapping
// httpx.ErrAuth, before anything is published for it. The other tenants
// still run: Result holds the packs published, and the error joins every
// tenant's failure. A cancelled context stops at once.
//
// The run's deadline (cfg.Deadline, else cfg.Timeout from now) bounds the
// reading of the APIs only: units not finished by then fail, saying so, and
// the packs are still written and published under ctx, which only a signal
// cancels. A tenant not yet discovered at the deadline gets no pack.
func Run(ctx context.Context, cfg *config.Config, deps Deps) (Result, error) {
	deps.defaults()
	if err := refuse(ctx, cfg, deps); err != nil {
		return Result{}, err
	}
	api, cancel := budget(ctx, cfg, deps.Now())
	defer cancel()
	var res Result
	var errs []error
	// Every tenant is discovered before any is read, so that a filter
	// (--framework, --account) that matches nothing in any of them is
	// refused before data is collected.
	runs := make([]*run, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		r, err := discoverTenant(api, cfg, t, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.Name, err))
			if ctx.Err() != nil {
				return res, errors.Join(errs...)
			}
			continue
		}
		runs[i] = r
	}
	if err := unmatchedFilters(cfg, runs); err != nil {
		return res, err
	}
	for _, r := range runs {
		if r == nil {
			continue
		}
		p, err := r.finish(ctx, api)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", r.tenant.Name, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		res.Packs = append(res.Packs, p)
	}
	return res, errors.Join(errs...)
}

// run is one tenant's pack in the making.
type run struct {
	cfg    *config.Config
	tenant config.Tenant
	deps   Deps
	log    *slog.Logger
	id     string
	pw     *pack.Writer
	period period.Window
	src    source.Source
	info   source.Info
	plan   *source.Plan

	startedAt time.Time

	// The audit-log window, and whether every sub-account's log of it was
	// collected whole (for the watermark).
	audit         period.Window
	auditComplete bool

	// The pack's links to the tenant's previous pack and to the pack of
	// its period it replaces (chain), read before it is written.
	previous, replaces *pack.Link
	drift              driftResult // the changes since previous (writeDrift)
	oscal              *oscalDoc   // the OSCAL document, fed as the reports are written

	// red holds the tenant's secrets (its source adds its credentials, the
	// HTTP client every credential header it sends): every text of server
	// origin the run keeps or logs goes through it.
	red *httpx.Redactor
	// folders name the pack's folders of sub-accounts, accounts, frameworks.
	folders folders

	mu       sync.Mutex
	queries  []pack.Query
	failures []pack.Failure
	warnings []string
	summary  *summary
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// fail records a failed unit and counts it done.
func (r *run) fail(f pack.Failure) {
	r.record(f)
	r.deps.Progress.UnitDone(r.tenant.Name, f.Unit, false)
}

// record records a unit's failure; its text may come from a server, so it
// is redacted before it is kept (manifest, PDFs) or logged.
func (r *run) record(f pack.Failure) {
	f.Error = r.red.Redact(f.Error)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, f)
	r.log.Error("unit failed", "unit", f.Unit, "subaccount", f.SubAccount, "account", f.Account, "framework", f.Framework, "dataset", f.Dataset, "err", f.Error)
}

func (r *run) warn(format string, a ...any) {
	msg := r.red.Redact(fmt.Sprintf(format, a...))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, msg)
	r.log.Warn(msg)
}

func (r *run) query(q pack.Query) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queries = append(r.queries, q)
}

// discoverTenant starts a tenant's run: its source opened and its units
// planned.
func discoverTenant(api context.Context, cfg *config.Config, t config.Tenant, deps Deps) (_ *run, err error) {
	red := httpx.NewRedactor()
	// The tenant's error reaches the terminal and the scheduler's log: it
	// may quote a server's error body.
	defer func() { err = red.Error(err) }()
	id := pack.RunID(deps.Now(), deps.Rand)
	if sh := cfg.Shard; sh.Count > 1 {
		id += fmt.Sprintf("-shard%dof%d", sh.Index, sh.Count)
	}
	r := &run{
		startedAt: deps.Now().UTC().Truncate(time.Second),
		cfg:       cfg,
		tenant:    t,
		deps:      deps,
		id:        id,
		period:    cfg.Period,
		summary:   newSummary(),
		red:       red,
	}
	r.audit = r.period
	if !cfg.AuditFrom.IsZero() && cfg.AuditFrom.Before(r.period.To) {
		r.audit.From = cfg.AuditFrom
	}
	r.log = newRunLog(deps.Logger, red).With("run_id", id, "tenant", t.Name)
	if err := r.discover(api); err != nil {
		return nil, notCollected(api, err)
	}
	return r, nil
}

// finish collects a discovered tenant's units and publishes its pack.
func (r *run) finish(ctx, api context.Context) (_ PackResult, err error) {
	defer func() { err = r.red.Error(err) }()
	t, deps := r.tenant, r.deps
	prefix := pack.PackPrefix("", t.Name, r.periodLabel(), r.id)
	opts := []pack.Option{pack.WithMetadata(map[string]string{"evidence-pack-id": r.id, "evidence-tenant": pack.TenantFolder(t.Name)})}
	if deps.Signer != nil {
		opts = append(opts, pack.WithSigner(*deps.Signer))
	}
	r.removeStale(ctx)
	if err := r.newOSCAL(); err != nil {
		return PackResult{}, err
	}
	defer r.oscal.close()
	r.pw, err = pack.NewWriter(ctx, deps.Store, prefix, opts...)
	if err != nil {
		return PackResult{}, fmt.Errorf("start pack %s: %w", prefix, err)
	}
	published := false
	defer func() {
		if !published {
			r.pw.Abort(ctx)
		}
	}()
	r.log.Info("run started", "pack", prefix, "source", r.info.System, "from", r.period.From, "to", r.period.To, "units", r.plan.Units())
	deps.Progress.Start(t.Name, r.plan.Units())
	defer func() {
		var stopped string
		switch {
		case err != nil:
			stopped = "no pack: " + firstLine(r.red.Error(err).Error())
		case api.Err() != nil:
			stopped = "stopped at the run's deadline"
		}
		deps.Progress.Finish(t.Name, stopped)
	}()
	start := deps.Now()
	if err := r.collect(ctx, api); err != nil {
		return PackResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return PackResult{}, err
	}
	if r.summary.okUnits() == 0 && len(r.failures) > 0 {
		return PackResult{}, fmt.Errorf("%w (%d failed; first: %s)", ErrNothingCollected, len(r.failures), r.failures[0].Error)
	}
	r.previous, r.replaces = r.chain(ctx)
	if err := r.writeDrift(ctx, r.manifest(start)); err != nil {
		return PackResult{}, err
	}
	// Before the summary: its checksum appendix lists the document. The
	// document's back-matter lists the files stored before it.
	if err := r.writeOSCAL(ctx); err != nil {
		return PackResult{}, err
	}
	m := r.manifest(start)
	if err := r.writeSummaryPDF(ctx, m); err != nil {
		return PackResult{}, err
	}
	if err := r.writeDuckDBViews(ctx); err != nil {
		return PackResult{}, err
	}
	m = r.manifest(start)
	if err := r.pw.Publish(ctx, m); err != nil {
		return PackResult{}, fmt.Errorf("publish pack %s: %w", prefix, err)
	}
	published = true
	m = r.pw.Manifest()
	if err := r.recordPublished(ctx, m, r.audit.To, r.auditComplete); err != nil {
		// The pack stands; only the scheduler's bookkeeping is behind.
		r.log.Error("pack published, but latest.json/state.json not updated", "err", err)
		r.warn("latest.json/state.json not updated: %v", err)
	}
	pr := PackResult{Tenant: t.Name, Prefix: prefix, Manifest: m}
	st := r.src.Stats()
	r.log.Info("run finished", "pack", prefix, "units_ok", pr.UnitsOK(), "units_failed", len(m.Failures), "files", len(m.Files),
		"rows", r.summary.rows.Load(), "bytes", pr.Bytes(), "requests", st.Requests.Load(), "rate_limited", st.RateLimited.Load(),
		"retries", st.Retries.Load(), "duration", deps.Now().Sub(start).String())
	return pr, nil
}

// UnitsOK counts the pack's complete units.
func (p PackResult) UnitsOK() int64 {
	var n int64
	for _, q := range p.Manifest.Queries {
		if q.Complete {
			n++
		}
	}
	return n
}

// Bytes is the size of the pack's files.
func (p PackResult) Bytes() int64 {
	var n int64
	for _, f := range p.Manifest.Files {
		n += f.Size
	}
	return n
}

// discover opens the tenant's source and plans its units. Discovery
// failures (a sub-account the key cannot reach) are recorded as failed
// units; refused credentials end the tenant.
func (r *run) discover(ctx context.Context) error {
	src, err := r.deps.Sources.Open(ctx, r.tenant, r.deps.env(r.log, r.red))
	if err != nil {
		return err
	}
	r.src, r.info = src, src.Info()
	r.log = r.log.With("source", r.info.System)
	plan, err := src.Plan(ctx, r.request())
	if err != nil {
		return err
	}
	orderPlan(plan)
	r.folders.assign(plan)
	if err := checkPlan(plan, &r.folders); err != nil {
		return fmt.Errorf("source %s: %w: a bug in the source, please report it", r.info.System, err)
	}
	r.plan = plan
	for _, f := range plan.Failures {
		r.fail(pack.Failure{Unit: f.Unit, SubAccount: f.SubAccount, Error: f.Err.Error()})
	}
	for _, w := range plan.Warnings {
		r.warn("%s", w)
	}
	return nil
}

// checkPlan refuses units the pipeline cannot run, before anything is
// written: unknown tables, units without rows or fetch, a report unit
// twice, two units writing one Parquet file.
func checkPlan(p *source.Plan, fo *folders) error {
	files := map[string]bool{}
	for _, u := range p.Tables {
		if _, ok := tableTitles[u.Table]; !ok {
			return fmt.Errorf("a unit of table %q, which the pack does not have (want evaluations, inventory or audit_logs)", u.Table)
		}
		if u.Rows == nil {
			return fmt.Errorf("a %s unit of sub-account %q without rows", u.Table, u.SubAccount)
		}
		path := fo.partPath(u.Table, u.Partition, u.SubAccount, u.Account)
		if files[path] {
			return fmt.Errorf("two units write %s", path)
		}
		files[path] = true
	}
	for _, f := range p.Frameworks {
		seen := map[[2]string]bool{}
		for _, u := range f.Units {
			if u.Fetch == nil {
				return fmt.Errorf("a report unit of framework %q without a fetch", f.Name)
			}
			k := [2]string{u.SubAccount, u.Account}
			if seen[k] {
				return fmt.Errorf("two report units of framework %q for sub-account %q, account %q", f.Name, u.SubAccount, u.Account)
			}
			seen[k] = true
		}
	}
	return nil
}

// orderPlan groups what the writers write together, keeping the source's
// order otherwise: a framework's report units by sub-account (one Parquet
// file each), a table's units by sheet (one sheet each), each group where
// its first unit was.
func orderPlan(p *source.Plan) {
	for _, f := range p.Frameworks {
		groupStable(f.Units, func(u source.ReportUnit) string { return u.SubAccount })
	}
	groupStable(p.Tables, func(u source.TableUnit) string { return u.Table + "\x00" + u.Sheet })
}

// groupStable reorders s so that elements of one key are consecutive, the
// groups in the order of their first element, each group in s's order.
func groupStable[T any](s []T, key func(T) string) {
	first := map[string]int{}
	for i, v := range s {
		if _, ok := first[key(v)]; !ok {
			first[key(v)] = i
		}
	}
	slices.SortStableFunc(s, func(a, b T) int { return cmp.Compare(first[key(a)], first[key(b)]) })
}

func (r *run) request() source.Request {
	req := request(r.cfg, r.period, r.audit)
	req.InShard = r.inShard
	req.Shard.Index, req.Shard.Count = r.cfg.Shard.Index, r.cfg.Shard.Count
	return req
}

func request(cfg *config.Config, p, audit period.Window) source.Request {
	return source.Request{
		Period: p, Audit: audit,
		Datasets: cfg.Datasets, Accounts: cfg.Accounts, Frameworks: cfg.Frameworks, NoVendorReports: cfg.NoVendorPDF}
}

// refuse opens every tenant's source, which makes no request, and asks
// those that can check a request (source.Checker) whether it can be met,
// before any tenant is read: a tenant whose section or environment is
// wrong, or an impossible request, is refused with every problem of every
// tenant listed (source.ErrRefused). Unnamed tenants take the name their
// source gives them (source.Registry.OpenAll).
func refuse(ctx context.Context, cfg *config.Config, deps Deps) error {
	var problems []error
	srcs, err := deps.Sources.OpenAll(ctx, cfg, func() source.Env {
		red := httpx.NewRedactor()
		return deps.env(newRunLog(deps.Logger, red), red)
	})
	if err != nil {
		problems = append(problems, err)
	}
	for i, src := range srcs {
		if c, ok := src.(source.Checker); ok {
			for _, p := range c.Check(request(cfg, cfg.Period, cfg.Period), deps.Now()) {
				problems = append(problems, fmt.Errorf("tenant %s: %w", cfg.Tenants[i].Name, p))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w:\n%w", source.ErrRefused, errors.Join(problems...))
	}
	return nil
}

// inShard reports whether the unit named key belongs to this run's shard:
// a stable hash of the unit, so every shard of an Indexed Job agrees on the
// split without talking to the others.
func (r *run) inShard(key string) bool {
	sh := r.cfg.Shard
	if sh.Count <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32()%uint32(sh.Count)) == sh.Index
}

// collectors returns the run's collectors: the frameworks, and one per
// table. Each source's rate-limit buckets follow these lines, so they run
// side by side without sharing a budget.
func (r *run) collectors() []func(ctx, api context.Context) error {
	var out []func(ctx, api context.Context) error
	if len(r.plan.Frameworks) > 0 {
		out = append(out, r.collectFrameworks)
	}
	for _, table := range []string{dataset.Evaluations, dataset.Inventory, dataset.AuditLogs} {
		var units []source.TableUnit
		for _, u := range r.plan.Tables {
			if u.Table == table {
				units = append(units, u)
			}
		}
		if len(units) > 0 {
			out = append(out, func(ctx, api context.Context) error { return r.collectTable(ctx, api, table, units) })
		}
	}
	return out
}

// collect runs the collectors side by side, at most the tenant's (else the
// run's) concurrency at once. The first fatal error cancels the others.
// They write the pack under ctx and read the API under api, which also
// ends at the run's deadline: then the units not finished fail, and the
// pack is still written.
func (r *run) collect(ctx, api context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	api, cancelAPI := context.WithCancelCause(api)
	defer cancelAPI(nil)
	stop := context.AfterFunc(ctx, func() { cancelAPI(context.Cause(ctx)) })
	defer stop()
	sem := make(chan struct{}, max(cmp.Or(r.tenant.Concurrency, r.cfg.Concurrency), 1))
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, c := range r.collectors() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := c(ctx, api); err != nil {
				once.Do(func() { first = err; cancel(err) })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return context.Cause(ctx)
}

// manifest assembles the pack's manifest from what the run recorded.
func (r *run) manifest(start time.Time) pack.Manifest {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.src.Stats()
	m := pack.Manifest{
		PackID:      r.id,
		Tenant:      r.tenant.Name,
		Source:      pack.Source{System: r.info.System, API: r.info.API, BaseURL: r.info.BaseURL, FailingOnly: r.info.FailingOnly},
		Period:      pack.Period{From: r.period.From, To: r.period.To, Label: r.periodLabel()},
		GeneratedAt: r.generatedAt(),
		Generator:   pack.Generator{Name: "evidence", Version: r.deps.Build.Version, Commit: r.deps.Build.Commit},
		Queries:     slices.Clone(r.queries),
		Failures:    slices.Clone(r.failures),
		Warnings:    slices.Clone(r.warnings),
		Invocation:  &pack.Invocation{CommandLine: r.deps.CommandLine, ConfigSHA256: r.cfg.FileSHA256, Credential: r.info.Credential},
		Previous:    r.previous,
		Replaces:    r.replaces,
		Stats: &pack.Stats{
			Requests:      st.Requests.Load(),
			Retries:       st.Retries.Load(),
			RateLimited:   st.RateLimited.Load(),
			ServerErrors:  st.ServerErrors.Load(),
			NetworkErrors: st.NetErrors.Load(),
			BytesReceived: st.BytesIn.Load(),
			Rows:          r.summary.rows.Load(),
			DurationMS:    r.deps.Now().Sub(start).Milliseconds(),
		},
	}
	m.Scope.SubAccounts = slices.Clone(r.plan.SubAccounts)
	m.Scope.Accounts = slices.Clone(r.plan.Accounts)
	for _, f := range r.plan.Frameworks {
		m.Scope.Frameworks = append(m.Scope.Frameworks, f.Name)
	}
	m.Scope.Datasets, m.Scope.Excluded = r.datasetScope(m.Queries, m.Warnings)
	m.Scope.Excluded = append(m.Scope.Excluded, r.plan.Excluded...)
	slices.SortFunc(m.Queries, func(a, b pack.Query) int {
		return cmp.Or(cmp.Compare(a.Dataset, b.Dataset), cmp.Compare(a.Framework, b.Framework), cmp.Compare(a.SubAccount, b.SubAccount), cmp.Compare(a.Account, b.Account))
	})
	slices.SortFunc(m.Failures, func(a, b pack.Failure) int { return cmp.Compare(a.Unit, b.Unit) })
	return m
}

// RedactArgs is a command line as the manifest may keep it: the value of
// any flag whose name says it holds a secret (secret, token, password) is
// replaced. The program reads credentials from the environment, never
// from flags, so this is a guard, not the rule.
func RedactArgs(args []string) []string {
	out := slices.Clone(args)
	secret := func(flag string) bool {
		f := strings.ToLower(strings.TrimLeft(flag, "-"))
		return strings.Contains(f, "secret") || strings.Contains(f, "token") || strings.Contains(f, "password")
	}
	for i := 0; i < len(out); i++ {
		a := out[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if name, _, ok := strings.Cut(a, "="); ok {
			if secret(name) {
				out[i] = name + "=[redacted]"
			}
		} else if secret(a) && i+1 < len(out) {
			out[i+1] = "[redacted]"
			i++
		}
	}
	return out
}

// datasetScope splits the datasets asked for into those the pack holds (a
// unit of it ran) and those it does not, each with the reason: a warning
// that names the dataset, else that the source planned nothing for it.
func (r *run) datasetScope(queries []pack.Query, warnings []string) (held, excluded []string) {
	ran := map[string]bool{}
	for _, q := range queries {
		table, _, _ := strings.Cut(q.Dataset, "/")
		ran[table] = true
	}
	for _, ds := range r.cfg.Datasets {
		if ran[ds] {
			held = append(held, ds)
			continue
		}
		reason := "nothing to collect: the source planned no unit of it"
		for _, w := range warnings {
			if strings.Contains(strings.ToLower(w), strings.ReplaceAll(ds, "_", " ")) || strings.Contains(w, ds) {
				reason = w
				break
			}
		}
		excluded = append(excluded, ds+": "+reason)
	}
	return held, excluded
}

// staleAfter is how long a staging folder must have been left untouched
// before a run of the same tenant removes it: twice the longest a run may
// read the APIs, and at least a day, so that a live run's folder (written
// to all the time) is never taken for the leftovers of a killed one.
func staleAfter(timeout time.Duration) time.Duration {
	return max(24*time.Hour, 2*cmp.Or(timeout, config.DefaultTimeout))
}

// removeStale removes what runs of this tenant killed without cleanup
// (kill -9) left in the store: their staging folders and temporary files.
// A failure to clean is logged, never fatal.
func (r *run) removeStale(ctx context.Context) {
	sr, ok := r.deps.Store.(storage.StaleRemover)
	if !ok {
		return
	}
	tenant := pack.TenantFolder(r.tenant.Name)
	removed, err := sr.RemoveStale(ctx, tenant, r.deps.Now().Add(-staleAfter(r.cfg.Timeout)))
	for _, key := range removed {
		r.log.Info("removed the staging left by a run that did not finish", "key", key)
	}
	if err != nil {
		r.log.Warn("could not remove the staging left by earlier runs", "tenant_folder", tenant, "err", err)
	}
}
