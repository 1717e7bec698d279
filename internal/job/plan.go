package job

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

// Plan is what a run would do, found by discovery alone (no data requests).
type Plan struct {
	Tenants []TenantPlan
}

// TenantPlan is one tenant's units and the requests they need.
type TenantPlan struct {
	Tenant      string
	BaseURL     string
	SubAccounts []string
	Failures    []string // sub-accounts that failed discovery
	Buckets     []source.Bucket
	Discovery   int64 // requests spent discovering (and probing)
	// DiscoveryTime is what discovery took (probes not included): a run
	// discovers again before it collects.
	DiscoveryTime time.Duration
	// Latency stands in for the latency of a bucket whose own requests
	// were not timed (source.Bucket.Latency 0: no probe of its kind): the
	// mean time of the quickest kind of request planning sent (a token, a
	// profile; never a listing's mean, which a large tenant's thousands of
	// cloud accounts make far longer than a data request). A floor, as
	// the requests of an unprobed plan are.
	Latency time.Duration
	Probed  bool // Requests are estimated from row counts, not a floor
	// Frameworks are the reports of each framework, in the plan's order
	// (the order the run fetches and writes them).
	Frameworks []int
	// Writing is what writing costs on this machine, timed on scratch
	// packs (timeWriting); nil when the plan did not probe, or had no
	// report to time.
	Writing *WriteCost
}

// Duration estimates the wall time of a bucket, modelled as
//
//	max(Requests × latency, (Requests − Burst) / PerHour)
//
// Its requests go one at a time (httpx.Limiter: one in flight per bucket
// and key), each taking about latency: the bucket's own (Bucket.Latency)
// when it was timed, else the given one. Those beyond the burst also wait
// for tokens, PerHour per hour. The run fetches ahead while it writes
// (prefetcher), so the two overlap and the longer one is the bucket's
// time. The pipeline's own work (spooling, writing the files) is taken to
// keep up: on a machine short of CPU for it the run is longer. What is
// written after the last request is TenantPlan.Written's.
func Duration(b source.Bucket, latency time.Duration) time.Duration {
	d := time.Duration(b.Requests) * cmp.Or(b.Latency, latency)
	burst := cmp.Or(b.Burst, b.PerHour)
	if b.PerHour > 0 && b.Requests > burst {
		d = max(d, time.Duration(float64(b.Requests-burst)/float64(b.PerHour)*float64(time.Hour)))
	}
	return d
}

// ETA is discovery's time, then the slowest bucket's (buckets, and each
// key's share of a bucket, run side by side), or the writing's, when it
// ends later; see Written.
func (p TenantPlan) ETA() time.Duration {
	eta := p.requests()
	return p.DiscoveryTime + max(eta, p.Written(eta))
}

// requests is the slowest bucket's time.
func (p TenantPlan) requests() time.Duration {
	var d time.Duration
	for _, b := range p.Buckets {
		d = max(d, Duration(b, p.Latency))
	}
	return d
}

// Written is when the run's writing ends (after discovery), the requests
// ending at requests: the run writes the frameworks one after another in
// the plan's order, each once its last report is in and the one before
// it is written, and then the pack's end (OSCAL document, summary PDF,
// manifest), at the costs the plan timed (Writing). The reports come at
// the pace of the Reports buckets (Duration), a framework's last report
// when its share of them, and of those before it, is sent. A framework's
// first pass goes on as its reports come and is taken to keep up, as the
// run's processing is in Duration. 0 when the writing was not timed.
func (p TenantPlan) Written(requests time.Duration) time.Duration {
	w := p.Writing
	if w == nil {
		return 0
	}
	total := 0
	for _, n := range p.Frameworks {
		total += n
	}
	// in is when the first `done` reports of the plan are in.
	in := func(done int) time.Duration {
		var t time.Duration
		for _, b := range p.Buckets {
			if b.Reports && total > 0 {
				part := b
				part.Requests = (b.Requests*done + total - 1) / total
				t = max(t, Duration(part, p.Latency))
			}
		}
		return t
	}
	var end time.Duration
	done := 0
	for _, n := range p.Frameworks {
		if n == 0 {
			continue
		}
		done += n
		end = max(end, in(done)) + w.FrameworkFixed + time.Duration(n)*w.PerReport
	}
	return max(end, requests) + w.EndFixed + time.Duration(total)*w.EndPerReport
}

// maxKeys bounds KeysFor's search.
const maxKeys = 64

// KeysFor is the fewest API keys (each its own user, with its own budget
// in every bucket) whose pooled budget would finish the plan within
// limit, the requests spread evenly over them; 0 when even maxKeys would
// not. The writing after the last request (Written: seconds, where the
// keys are for hours of requests) is left out.
func (p TenantPlan) KeysFor(limit time.Duration) int {
	for k := 1; k <= maxKeys; k++ {
		fits := true
		for _, b := range p.Buckets {
			// k keys: k budgets, and k requests at once.
			pooled := b
			pooled.PerHour, pooled.Burst = b.PerHour*k, cmp.Or(b.Burst, b.PerHour)*k
			pooled.Latency = cmp.Or(b.Latency, p.Latency) / time.Duration(k)
			if p.DiscoveryTime+Duration(pooled, 0) > limit {
				fits = false
				break
			}
		}
		if fits {
			return k
		}
	}
	return 0
}

// Schedule is what Print compares a plan with: the schedule's spec and
// the time between two of its runs (0: no schedule), and now.
type Schedule struct {
	Spec     string
	Interval time.Duration
	Now      time.Time
}

// Requests is the floor of data requests.
func (p TenantPlan) Requests() int {
	n := 0
	for _, b := range p.Buckets {
		n += b.Requests
	}
	return n
}

// MakePlan discovers each tenant's scope and counts its units.
// With probe, the source may fetch each result set's first page to count
// its rows, so the request and time estimates are not only a floor.
func MakePlan(ctx context.Context, cfg *config.Config, deps Deps, probe bool) (Plan, error) {
	deps.defaults()
	if err := refuse(ctx, cfg, deps); err != nil {
		return Plan{}, err
	}
	ctx, cancel := budget(ctx, cfg, deps.Now())
	defer cancel()
	var p Plan
	var runs []*run
	for _, t := range cfg.Tenants {
		r := discoveryRun(cfg, t, deps)
		start := deps.Now()
		err := r.discover(ctx)
		if err != nil {
			return p, fmt.Errorf("tenant %s: %w", t.Name, r.red.Error(err))
		}
		runs = append(runs, r)
		tp := TenantPlan{Tenant: t.Name, BaseURL: r.info.BaseURL, SubAccounts: r.plan.SubAccounts, DiscoveryTime: deps.Now().Sub(start)}
		for _, f := range r.failures {
			tp.Failures = append(tp.Failures, f.Unit+": "+f.Error)
		}
		if tp.Buckets, err = r.planBuckets(ctx, probe); err != nil {
			return p, fmt.Errorf("tenant %s: %w", t.Name, r.red.Error(err))
		}
		_, estimates := r.src.(source.Estimator)
		tp.Probed = estimates && probe
		for _, f := range r.plan.Frameworks {
			tp.Frameworks = append(tp.Frameworks, len(f.Units))
		}
		if probe && len(r.plan.Frameworks) > 0 {
			w, ok, err := r.timeWriting(ctx)
			if err != nil {
				return p, fmt.Errorf("tenant %s: time the writing: %w", t.Name, r.red.Error(err))
			}
			if ok {
				tp.Writing = &w
			}
		}
		tp.Discovery = r.src.Stats().Requests.Load()
		tp.Latency = quickest(r.src.Stats().Latencies())
		p.Tenants = append(p.Tenants, tp)
	}
	if err := unmatchedFilters(cfg, runs); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// quickest is the least of the latencies (0 when there are none).
func quickest(latencies map[string]time.Duration) time.Duration {
	var q time.Duration
	for _, d := range latencies {
		if q == 0 || d < q {
			q = d
		}
	}
	return q
}

// discoveryRun is a run that only discovers (plan, frameworks): server text
// in its errors is redacted as a collecting run's is.
func discoveryRun(cfg *config.Config, t config.Tenant, deps Deps) *run {
	red := httpx.NewRedactor()
	return &run{cfg: cfg, tenant: t, deps: deps, period: cfg.Period, audit: cfg.Period, summary: newSummary(),
		log: newRunLog(deps.Logger, red).With("tenant", t.Name), red: red}
}

// Discovery is one tenant's scope as discovery finds it: what --framework
// and --account can name (`evidence frameworks`).
type Discovery struct {
	Tenant, API, BaseURL string
	Failures             []string // sub-accounts that failed discovery
	Frameworks           []source.Framework
	Accounts             []string
}

// Discover runs each tenant's discovery of its reports, within the
// configuration's deadline (Timeout, Deadline) like a run.
func Discover(ctx context.Context, cfg *config.Config, deps Deps) ([]Discovery, error) {
	deps.defaults()
	reports := *cfg
	reports.Datasets = []string{dataset.Reports}
	if err := refuse(ctx, &reports, deps); err != nil {
		return nil, err
	}
	ctx, cancel := budget(ctx, cfg, deps.Now())
	defer cancel()
	var out []Discovery
	for _, t := range cfg.Tenants {
		r := discoveryRun(&reports, t, deps)
		if err := r.discover(ctx); err != nil {
			return out, fmt.Errorf("tenant %s: %w", t.Name, r.red.Error(err))
		}
		d := Discovery{Tenant: t.Name, API: r.info.API, BaseURL: r.info.BaseURL, Frameworks: r.plan.Frameworks, Accounts: r.plan.Accounts}
		for _, f := range r.failures {
			d.Failures = append(d.Failures, f.Unit+": "+f.Error)
		}
		out = append(out, d)
	}
	return out, nil
}

// planBuckets asks the source for its estimate; a source without one gets
// a bucket per table with one request per unit.
func (r *run) planBuckets(ctx context.Context, probe bool) ([]source.Bucket, error) {
	var out []source.Bucket
	if e, ok := r.src.(source.Estimator); ok {
		var err error
		if out, err = e.Estimate(ctx, r.plan, r.request(), probe); err != nil {
			return nil, err
		}
	} else {
		n := 0
		for _, f := range r.plan.Frameworks {
			n += len(f.Units)
		}
		if n > 0 {
			out = append(out, source.Bucket{Name: dataset.Reports, Units: n, Requests: n, Detail: "one request per report, at least", Reports: true})
		}
		for _, u := range r.plan.Tables {
			i := slices.IndexFunc(out, func(b source.Bucket) bool { return b.Name == u.Table })
			if i < 0 {
				out = append(out, source.Bucket{Name: u.Table, Detail: "one request per unit, + 1 per further page"})
				i = len(out) - 1
			}
			out[i].Units++
			out[i].Requests++
		}
	}
	slices.SortFunc(out, func(a, b source.Bucket) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// Print writes the plan for a person.
func (p Plan) Print(w io.Writer, period period.Window, sched Schedule) {
	for _, t := range p.Tenants {
		fmt.Fprintf(w, "Tenant %s (%s)\n", t.Tenant, t.BaseURL)
		fmt.Fprintf(w, "Period %s to %s (UTC)\n", period.From.Format(time.RFC3339), period.To.Format(time.RFC3339))
		fmt.Fprintf(w, "Sub-accounts: %s\n", strings.Join(t.SubAccounts, ", "))
		for _, f := range t.Failures {
			fmt.Fprintf(w, "  UNREACHABLE %s\n", f)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		how := "AT LEAST"
		if t.Probed {
			how = "ESTIMATED"
		}
		fmt.Fprintf(tw, "\nBUCKET\tUNITS\tREQUESTS (%s)\tTIME (%s)\tHOW\n", how, how)
		units := 0
		for _, b := range t.Buckets {
			units += b.Units
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", b.Name, b.Units, b.Requests, Duration(b, t.Latency).Round(time.Second), b.Detail)
		}
		tw.Flush()
		what := "at least"
		if t.Probed {
			what = "about"
		}
		fmt.Fprintf(w, "\n%d units, %s %d data requests (+%d for discovery, tokens and probes), about %s with buckets in parallel.\n",
			units, what, t.Requests(), t.Discovery, t.ETA().Round(time.Second))
		fmt.Fprintf(w, "Time: discovery (%s), then the slowest bucket; a bucket's time is the longer of its requests one at a time (requests × latency: %s) and the rate limit's (requests beyond the burst at the hourly budget). The run's own processing overlaps its requests and is taken to keep up",
			t.DiscoveryTime.Round(time.Millisecond), t.latencies())
		if wc := t.Writing; wc != nil {
			fmt.Fprintf(w, ", but for what it writes once a framework's reports are all in (its workbook and PDF: %s + %s a report) and at the end (OSCAL document, summary, manifest: %s + %s a report), as timed on scratch packs of up to %d copies of a report; the writing ends %s after discovery.\n",
				wc.FrameworkFixed.Round(time.Millisecond), wc.PerReport.Round(10*time.Microsecond), wc.EndFixed.Round(time.Millisecond), wc.EndPerReport.Round(10*time.Microsecond),
				wc.Sample, t.Written(t.requests()).Round(time.Second))
		} else {
			fmt.Fprintln(w, "; the files written after the last request (the last framework's workbook and PDF, the OSCAL document, the summary) are not counted (not timed without probes).")
		}
		if !sched.Now.IsZero() {
			fmt.Fprintf(w, "Started now, it would end about %s.\n", sched.Now.Add(t.ETA()).UTC().Format(time.RFC3339))
		}
		if sched.Interval > 0 && t.ETA() > sched.Interval {
			fmt.Fprintf(w, "WARNING: that is longer than the schedule's interval (%s, schedule %q): each scheduled run is cut when the next one is due, and its unfinished units fail.\n",
				sched.Interval, sched.Spec)
			switch k := t.KeysFor(sched.Interval); k {
			case 0:
				fmt.Fprintf(w, "Even %d API keys would not fit it: narrow the run (--framework, --account, --dataset) or schedule it less often.\n", maxKeys)
			default:
				fmt.Fprintf(w, "%d API keys would fit it (each its own user, with its own budget per bucket): list them under the tenant (lacework api_keys:), or run %d shards (--shard i/%d) each with its own key; --no-vendor-pdf halves the Reports requests.\n", k, k, k)
			}
		}
		fmt.Fprintln(w)
	}
}

// latencies says which latency each bucket's time was computed with.
func (p TenantPlan) latencies() string {
	var timed []string
	untimed := false
	for _, b := range p.Buckets {
		if b.Latency == 0 {
			untimed = true
			continue
		}
		// Each key's share of a bucket ("Reports · API key …") was
		// timed on the same requests: named once.
		name, _, _ := strings.Cut(b.Name, " · ")
		if t := fmt.Sprintf("%s %s", name, b.Latency.Round(100*time.Microsecond)); !slices.Contains(timed, t) {
			timed = append(timed, t)
		}
	}
	if untimed {
		timed = append(timed, fmt.Sprintf("%s where none of a bucket's requests was timed (the quickest request of planning: a floor)", p.Latency.Round(100*time.Microsecond)))
	}
	return strings.Join(timed, ", ")
}
