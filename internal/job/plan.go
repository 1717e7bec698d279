package job

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/config"
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
	Buckets     []BucketPlan
	Discovery   int64         // requests spent discovering
	Latency     time.Duration // mean request time seen during discovery
	PerHour     int           // the rate limit per bucket
}

// BucketPlan is the work of one rate-limit bucket. Requests is a floor: one
// request per result set (a report, its PDF, a search window), plus one per
// further page of 5,000 rows, which only the data reveals.
type BucketPlan struct {
	Bucket   string
	Units    int
	Requests int
	Detail   string
}

// Duration estimates the wall time of the bucket: requests beyond the
// bucket's burst wait for tokens (PerHour per hour), and every request
// takes about one latency.
func (b BucketPlan) Duration(perHour int, latency time.Duration) time.Duration {
	d := time.Duration(b.Requests) * latency
	if perHour > 0 && b.Requests > perHour {
		d = max(d, time.Duration(float64(b.Requests-perHour)/float64(perHour)*float64(time.Hour)))
	}
	return d
}

// ETA is the time of the slowest bucket: buckets run side by side.
func (p TenantPlan) ETA() time.Duration {
	var eta time.Duration
	for _, b := range p.Buckets {
		eta = max(eta, b.Duration(p.PerHour, p.Latency))
	}
	return eta
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
func MakePlan(ctx context.Context, cfg *config.Config, deps Deps) (Plan, error) {
	deps.defaults()
	var p Plan
	for _, t := range cfg.Tenants {
		r := &run{cfg: cfg, tenant: t, deps: deps, period: cfg.Period, summary: newSummary(), log: deps.Logger.With("tenant", t.Name)}
		start := deps.Now()
		src, err := newLaceworkSource(ctx, r)
		if err != nil {
			return p, fmt.Errorf("tenant %s: %w", t.Name, err)
		}
		tp := TenantPlan{Tenant: t.Name, BaseURL: src.client.BaseURL(), PerHour: src.client.Limits().RequestsPerHour}
		tp.Discovery = src.client.Stats().Requests.Load()
		if tp.Discovery > 0 {
			tp.Latency = deps.Now().Sub(start) / time.Duration(tp.Discovery)
		}
		for _, s := range src.subs {
			tp.SubAccounts = append(tp.SubAccounts, s.name)
		}
		for _, f := range r.failures {
			tp.Failures = append(tp.Failures, f.Unit+": "+f.Error)
		}
		tp.Buckets = src.planBuckets()
		p.Tenants = append(p.Tenants, tp)
	}
	return p, nil
}

func (s *lwSource) planBuckets() []BucketPlan {
	l := s.client.Limits()
	period := s.r.period
	windows := func(max time.Duration) int {
		if max <= 0 {
			return 1
		}
		return int(math.Ceil(float64(period.To.Sub(period.From)) / float64(max)))
	}
	var out []BucketPlan
	if s.r.wants(config.DatasetReports) {
		units := 0
		var fws []string
		for _, f := range s.fws {
			units += len(f.units)
			fws = append(fws, fmt.Sprintf("%s (%d)", f.fw.Name, len(f.units)))
		}
		out = append(out, BucketPlan{Bucket: "Reports", Units: units, Requests: 2 * units,
			Detail: "JSON and vendor PDF per cloud account × framework: " + strings.Join(fws, ", ")})
	}
	if s.r.wants(config.DatasetEvaluations) {
		units := len(s.evaluationUnits())
		w := windows(l.EvaluationWindow)
		out = append(out, BucketPlan{Bucket: "Configs/ComplianceEvaluations/search", Units: units, Requests: units * w,
			Detail: fmt.Sprintf("%d window(s) of ≤ %d days per sub-account × dataset, + 1 per further %d rows", w, int(l.EvaluationWindow.Hours()/24), l.PageRows)})
	}
	if s.r.wants(config.DatasetInventory) {
		units := len(s.inventoryUnits())
		out = append(out, BucketPlan{Bucket: "Inventory/search", Units: units, Requests: units,
			Detail: fmt.Sprintf("one snapshot per sub-account × cloud, + 1 per further %d rows", l.PageRows)})
	}
	if s.r.wants(config.DatasetAuditLogs) {
		n := len(s.auditUnits())
		out = append(out, BucketPlan{Bucket: "AuditLogs", Units: n, Requests: n,
			Detail: fmt.Sprintf("one per sub-account, + 1 per further %d rows", l.PageRows)})
	}
	slices.SortFunc(out, func(a, b BucketPlan) int { return cmp.Compare(a.Bucket, b.Bucket) })
	return out
}

// Print writes the plan for a person.
func (p Plan) Print(w io.Writer, period lacework.Window) {
	for _, t := range p.Tenants {
		fmt.Fprintf(w, "Tenant %s (%s)\n", t.Tenant, t.BaseURL)
		fmt.Fprintf(w, "Period %s to %s (UTC)\n", period.From.Format(time.RFC3339), period.To.Format(time.RFC3339))
		fmt.Fprintf(w, "Sub-accounts: %s\n", strings.Join(t.SubAccounts, ", "))
		for _, f := range t.Failures {
			fmt.Fprintf(w, "  UNREACHABLE %s\n", f)
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nBUCKET\tUNITS\tREQUESTS (AT LEAST)\tTIME (AT LEAST)\tHOW")
		units := 0
		for _, b := range t.Buckets {
			units += b.Units
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", b.Bucket, b.Units, b.Requests, b.Duration(t.PerHour, t.Latency).Round(time.Second), b.Detail)
		}
		tw.Flush()
		fmt.Fprintf(w, "\n%d units, at least %d data requests (+%d for discovery and tokens), about %s at %d requests/hour per bucket with buckets in parallel.\n\n",
			units, t.Requests(), t.Discovery, t.ETA().Round(time.Second), t.PerHour)
	}
}
