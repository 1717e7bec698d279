package bench

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/source/sources"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// The documented budget, 480 requests per hour per bucket, scaled down in
// time: 480 per rateWindow, so the run shows the limiter at work in
// seconds. Pages of pageRows rows make each data bucket need about
// pagesPerBucket requests, well past the burst.
const (
	rateBudget     = 480
	rateWindow     = 96 * time.Second
	pageRows       = 100
	pagesPerBucket = 500
)

// BenchmarkRateLimited runs `evidence plan` and then `evidence run` (in
// process) against an emulator that enforces the budget, with buckets
// collected in parallel. It reports the achieved rate against the buckets'
// theoretical maximum (burst, then budget/window), the Retry-After
// violations, and how close the plan's prediction came.
func BenchmarkRateLimited(b *testing.B) {
	rows := pagesPerBucket * pageRows
	emuCfg := emulator.Config{Seed: 11, Now: func() time.Time { return benchNow }, PageSize: pageRows, Recommendations: 20,
		EvaluationsPerDay: rows / 8, InventoryPerCSP: rows / 6, AuditLogsPerDay: rows / 2,
		Faults: emulator.Faults{RateLimit: rateBudget, RateWindow: rateWindow}}
	perHour := int(float64(rateBudget) * float64(time.Hour) / float64(rateWindow))
	reg := sources.Registry(sources.Options{Lacework: lacework.Limits{PageRows: pageRows, RequestsPerHour: perHour, Burst: rateBudget}})
	for b.Loop() {
		// The plan probes its own emulator, so the run starts with full buckets.
		planSrv := httptest.NewServer(emulator.New(emuCfg))
		p, err := job.MakePlan(context.Background(), rateConfig(b, planSrv.URL), job.Deps{Sources: reg, Getenv: lwGetenv(planSrv.URL)}, true)
		planSrv.Close()
		if err != nil {
			b.Fatal(err)
		}
		tp := p.Tenants[0]

		emu := emulator.New(emuCfg)
		srv := httptest.NewServer(emu)
		start := time.Now()
		res, err := job.Run(context.Background(), rateConfig(b, srv.URL), job.Deps{Sources: reg, Store: memstore.New(), Getenv: lwGetenv(srv.URL)})
		wall := time.Since(start)
		srv.Close()
		if err != nil {
			b.Fatal(err)
		}
		m := res.Packs[0].Manifest
		perBucket := map[string]int{}
		data := 0
		for _, r := range emu.Requests() {
			perBucket[r.Bucket]++
			if r.PageID != "" || strings.HasSuffix(r.Path, "/Reports") {
				data++
			}
		}
		// A bucket can send its burst at once, then budget per window: the
		// least time the slowest bucket needs is the run's floor.
		var floor time.Duration
		var lines []string
		for _, name := range slices.Sorted(maps.Keys(perBucket)) {
			n := perBucket[name]
			need := time.Duration(float64(max(0, n-rateBudget)) / rateBudget * float64(rateWindow))
			floor = max(floor, need)
			lines = append(lines, fmt.Sprintf("%s %d", name, n))
		}
		efficiency := floor.Seconds() / wall.Seconds()
		rowsPerSec := float64(m.Stats.Rows) / wall.Seconds()
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(100*efficiency, "%-of-max-rate")
		b.ReportMetric(rowsPerSec, "rows/s")
		b.ReportMetric(float64(len(emu.Violations())), "retry-after-violations")
		b.ReportMetric(float64(tp.Requests()), "plan-requests")
		b.ReportMetric(float64(data), "run-data-requests")
		b.ReportMetric(tp.ETA().Seconds(), "plan-eta-s")
		results.limited = append(results.limited,
			fmt.Sprintf("Budget %d requests per %s per bucket (the documented 480/hour, %.1f× faster), pages of %d rows, %d rows in all.", rateBudget, rateWindow, float64(time.Hour)/float64(rateWindow), pageRows, m.Stats.Rows),
			"",
			"| measure | value |\n|---|---:|",
			fmt.Sprintf("| wall time | %.1f s |", wall.Seconds()),
			fmt.Sprintf("| least time the busiest bucket allows (burst, then budget) | %.1f s |", floor.Seconds()),
			fmt.Sprintf("| achieved share of the theoretical rate | %.1f %% |", 100*efficiency),
			fmt.Sprintf("| rows/s | %.0f |", rowsPerSec),
			fmt.Sprintf("| requests sent during a Retry-After block | %d |", len(emu.Violations())),
			fmt.Sprintf("| 429 responses received | %d |", m.Stats.RateLimited),
			fmt.Sprintf("| data requests: plan predicted / run sent | %d / %d (%+.1f %%) |", tp.Requests(), data, 100*(float64(tp.Requests())-float64(data))/float64(data)),
			fmt.Sprintf("| duration: plan predicted / run took | %.1f s / %.1f s (%+.1f %%) |", tp.ETA().Seconds(), wall.Seconds(), 100*(tp.ETA().Seconds()-wall.Seconds())/wall.Seconds()),
			"",
			"Requests per bucket: "+strings.Join(lines, ", ")+".",
		)
	}
}

func rateConfig(b *testing.B, url string) *config.Config {
	b.Helper()
	cfg, err := config.Load(config.Flags{From: "2026-11-20"}, benchNow)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func lwGetenv(url string) func(string) string {
	env := map[string]string{"LW_ACCOUNT": emulator.DefaultAccount, "LW_API_KEY": emulator.DefaultKeyID,
		"LW_API_SECRET": emulator.DefaultSecret, "LW_API_URL": url}
	return func(k string) string { return env[k] }
}
