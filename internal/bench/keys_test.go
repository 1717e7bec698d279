package bench

import (
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/source/sources"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

// A large organisation: 2,000 more AWS accounts in one sub-account, each
// with the emulator's three AWS frameworks (and the Azure and GCP ones of
// its other accounts): about 6,000 reports, one request each (no vendor
// PDF). The documented budget, 480 requests per hour per user and bucket,
// runs poolWindow/hour faster, so a run takes seconds, not hours.
const (
	poolAccounts = 2000
	poolWindow   = 4 * time.Second
)

// BenchmarkPooledKeys runs the organisation's reports with 1, 2 and 4 API
// keys of other users (api_keys:) and reports the wall time against the
// physical limit (each key's share of the Reports bucket beyond its burst,
// at its budget), the requests sent during a Retry-After, the plan's
// predicted duration, and the heap's peak.
func BenchmarkPooledKeys(b *testing.B) {
	for _, keys := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			more := map[string]string{}
			for i := 1; i < keys; i++ {
				more[fmt.Sprintf("KEY_%d", i)] = fmt.Sprintf("_secret_%d", i)
			}
			emuCfg := emulator.Config{Seed: 5, Now: func() time.Time { return benchNow }, Recommendations: 5, InventoryPerCSP: 10,
				EvaluationsPerDay: 10, AuditLogsPerDay: 10, MoreAWSAccounts: poolAccounts, MoreKeys: more,
				Faults: emulator.Faults{RateLimit: rateBudget, RateWindow: poolWindow}}
			perHour := int(float64(rateBudget) * float64(time.Hour) / float64(poolWindow))
			reg := sources.Registry(sources.Options{Lacework: lacework.Limits{RequestsPerHour: perHour, Burst: rateBudget}})
			for b.Loop() {
				// Probed, as `evidence plan` is by default: three reports are
				// fetched to time the Reports requests. The plan probes its
				// own emulator, so the run starts with full buckets.
				planSrv := httptest.NewServer(emulator.New(emuCfg))
				p, err := job.MakePlan(context.Background(), poolConfig(b, planSrv.URL, keys), job.Deps{Sources: reg, Getenv: poolGetenv(keys)}, true)
				planSrv.Close()
				if err != nil {
					b.Fatal(err)
				}
				tp := p.Tenants[0]

				emu := emulator.New(emuCfg)
				srv := httptest.NewServer(emu)
				load := loadAverage()
				peak, stop := heapPeak()
				start := time.Now()
				res, err := job.Run(context.Background(), poolConfig(b, srv.URL, keys), job.Deps{Sources: reg, Store: memstore.New(), Getenv: poolGetenv(keys)})
				wall := time.Since(start)
				stop()
				srv.Close()
				if err != nil {
					b.Fatal(err)
				}
				if f := res.Packs[0].Manifest.Failures; len(f) > 0 {
					b.Fatalf("%d units failed, first %+v", len(f), f[0])
				}
				perKey := map[string]int{}
				var first, last time.Time // the Reports requests': what is before and after them is discovery and writing
				for _, r := range emu.Requests() {
					if strings.HasSuffix(r.Path, "/Reports") {
						perKey[r.KeyID]++
						if first.IsZero() || r.Time.Before(first) {
							first = r.Time
						}
						if r.Time.After(last) {
							last = r.Time
						}
					}
				}
				// Each key sends its burst at once, then its budget per
				// window: the busiest key's need is the physical limit.
				var limit time.Duration
				var lines []string
				for _, k := range slices.Sorted(maps.Keys(perKey)) {
					n := perKey[k]
					limit = max(limit, time.Duration(float64(max(0, n-rateBudget))/rateBudget*float64(poolWindow)))
					lines = append(lines, fmt.Sprintf("%s %d", k, n))
				}
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(limit.Seconds(), "limit-s")
				b.ReportMetric(100*limit.Seconds()/wall.Seconds(), "%-of-limit")
				b.ReportMetric(float64(len(emu.Violations())), "retry-after-violations")
				b.ReportMetric(tp.ETA().Seconds(), "plan-eta-s")
				b.ReportMetric(first.Sub(start).Seconds(), "first-report-s")
				b.ReportMetric(last.Sub(first).Seconds(), "reports-span-s")
				b.ReportMetric((wall - last.Sub(start)).Seconds(), "after-last-report-s")
				b.ReportMetric(float64(*peak)/(1<<20), "peak-heap-MiB")
				results.pooled = append(results.pooled, fmt.Sprintf("| %d | %d | %.1f s | %.1f s | %.1f %% | %d | %.1f s (%+.1f %%) | %.0f MiB | %s | %s |",
					keys, res.Packs[0].Manifest.Stats.Requests, wall.Seconds(), limit.Seconds(), 100*limit.Seconds()/wall.Seconds(),
					len(emu.Violations()), tp.ETA().Seconds(), 100*(tp.ETA().Seconds()-wall.Seconds())/wall.Seconds(),
					float64(*peak)/(1<<20), load, strings.Join(lines, ", ")))
			}
		})
	}
}

// poolConfig is one Lacework tenant with keys API keys (the LW_* one and
// keys-1 more), reports only, without vendor PDFs.
func poolConfig(b *testing.B, url string, keys int) *config.Config {
	b.Helper()
	var more strings.Builder
	if keys > 1 {
		more.WriteString("      api_keys:\n")
		for i := 1; i < keys; i++ {
			fmt.Fprintf(&more, "        - {api_key: KEY_%d, api_secret_env: SECRET_%d}\n", i, i)
		}
	}
	file := filepath.Join(b.TempDir(), "evidence.yaml")
	yaml := fmt.Sprintf("tenants:\n  - source: lacework\n    lacework:\n      account: acme\n      subaccount: acme\n      api_url: %s\n      vendor_pdf: false\n%s", url, more.String())
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(config.Flags{ConfigFile: file, From: "2026-11-20", Datasets: []string{"reports"}}, benchNow)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func poolGetenv(keys int) func(string) string {
	env := map[string]string{"LW_API_KEY": emulator.DefaultKeyID, "LW_API_SECRET": emulator.DefaultSecret}
	for i := 1; i < keys; i++ {
		env[fmt.Sprintf("SECRET_%d", i)] = fmt.Sprintf("_secret_%d", i)
	}
	return func(k string) string { return env[k] }
}

// heapPeak samples the heap in use every 20 ms until stop, and keeps its
// peak.
func heapPeak() (*uint64, func()) {
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return &peak, func() { close(done); wg.Wait() }
}

// loadAverage is the machine's load over the last minute as the run
// starts (/proc/loadavg): the runs share the CPUs with whatever else runs,
// and their wall times are only as good as that share.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "n/a"
	}
	return f[0]
}
