package job_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/collect/lacework"
	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source/sources"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
)

var now = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

// testConfig is a run of one Lacework tenant on the emulator at url: its
// settings in the tenant's lacework: section, as a configuration file
// holds them, the secret in the variable api_secret_env names. mod changes
// the LW_* settings (LW_API_SECRET among them) before they are written.
func testConfig(t *testing.T, url string, mod func(map[string]string)) *config.Config {
	t.Helper()
	vars := map[string]string{"LW_ACCOUNT": "acme", "LW_API_KEY": emulator.DefaultKeyID, "LW_API_SECRET": emulator.DefaultSecret, "LW_API_URL": url}
	if mod != nil {
		mod(vars)
	}
	section := fmt.Sprintf("{account: %q, api_key: %q, api_url: %q, subaccount: %q, api_secret_env: %q}",
		vars["LW_ACCOUNT"], vars["LW_API_KEY"], vars["LW_API_URL"], vars["LW_SUBACCOUNT"], secretVar+vars["LW_API_SECRET"])
	file := filepath.Join(t.TempDir(), "evidence.yaml")
	if err := os.WriteFile(file, []byte("tenants:\n  - lacework: "+section+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Flags{ConfigFile: file}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// setSection sets key of the tenant's section to v, as the file would.
func setSection(t *testing.T, tn *config.Tenant, key string, v any) {
	t.Helper()
	var m map[string]any
	node := tn.Sections[tn.Source]
	if err := node.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m[key] = v
	if err := node.Encode(m); err != nil {
		t.Fatal(err)
	}
	tn.Sections[tn.Source] = node
}

// secretVar prefixes the name of a test secret's variable, whose value is
// the rest of the name: one testGetenv serves every tenant and secret.
const secretVar = "EVIDENCE_TEST_SECRET_"

func testGetenv(k string) string {
	v, _ := strings.CutPrefix(k, secretVar)
	if v == k {
		return ""
	}
	return v
}

func newEmulator(t *testing.T, cfg emulator.Config) *httptest.Server {
	cfg.Now = func() time.Time { return now }
	if cfg.EvaluationsPerDay == 0 {
		cfg.EvaluationsPerDay, cfg.InventoryPerCSP, cfg.AuditLogsPerDay, cfg.Recommendations = 300, 100, 100, 8
	}
	srv := httptest.NewServer(emulator.New(cfg))
	t.Cleanup(srv.Close)
	return srv
}

func hasManifest(t *testing.T, s storage.Store) bool {
	t.Helper()
	found := false
	_ = s.List(context.Background(), "", func(o storage.Object) error {
		if strings.HasSuffix(o.Key, pack.ManifestName) {
			found = true
		}
		return nil
	})
	return found
}

// failingStore fails the nth Put, as a full disk or a lost bucket would.
type failingStore struct {
	storage.Store
	n, seen atomic.Int64
}

var errDisk = errors.New("disk full")

func (f *failingStore) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if f.seen.Add(1) == f.n.Load() {
		_, _ = io.Copy(io.Discard, r)
		return storage.Object{}, errDisk
	}
	return f.Store.Put(ctx, key, r, o)
}

func TestStorageFailureAbortsThePack(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{})
	// One sub-account makes about forty files, so the put failing is the
	// first, one in the middle, and one of the last.
	cfg := testConfig(t, srv.URL, oneSubAccount)
	for _, n := range []int64{1, 10, 40} {
		t.Run(fmt.Sprintf("put %d", n), func(t *testing.T) {
			t.Parallel()
			mem := memstore.New()
			fs := &failingStore{Store: mem}
			fs.n.Store(n)
			_, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: fs, Now: func() time.Time { return now }})
			if !errors.Is(err, errDisk) {
				t.Fatalf("put %d failing: err = %v", n, err)
			}
			if fs.seen.Load() < n {
				t.Fatalf("the run made %d puts: put %d never failed", fs.seen.Load(), n)
			}
			if hasManifest(t, mem) {
				t.Fatalf("put %d failing: a manifest was published", n)
			}
		})
	}
}

func TestEveryUnitFailingPublishesNothing(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{Forbidden: []string{"acme-dev"}})
	mem := memstore.New()
	cfg := testConfig(t, srv.URL, func(v map[string]string) { v["LW_SUBACCOUNT"] = "acme-dev" })
	_, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: mem, Now: func() time.Time { return now }})
	if !errors.Is(err, job.ErrNothingCollected) || !strings.Contains(err.Error(), "403") {
		t.Fatalf("err = %v", err)
	}
	if hasManifest(t, mem) {
		t.Fatal("a manifest was published")
	}
}

func TestNarrowingFlags(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{})
	cfg := testConfig(t, srv.URL, nil)
	cfg.Datasets = []string{dataset.Reports}
	setSection(t, &cfg.Tenants[0], "frameworks", []string{"gcp cis benchmark 1.3", "AWS_SOC_2", "No Such Framework", "GCP CIS Benchmark 1.3"}) // one twice: collected once
	mem := memstore.New()
	res, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: mem, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Packs[0].Manifest
	if len(m.Scope.Frameworks) != 2 {
		t.Errorf("frameworks %v", m.Scope.Frameworks)
	}
	if len(m.Warnings) == 0 || !strings.Contains(strings.Join(m.Warnings, " "), "No Such Framework") {
		t.Errorf("warnings %v", m.Warnings)
	}
	for _, q := range m.Queries {
		if q.Dataset != "reports" {
			t.Errorf("query outside the datasets asked for: %+v", q)
		}
	}
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "evaluations") || strings.HasPrefix(f.Path, "inventory") {
			t.Errorf("file outside the datasets asked for: %s", f.Path)
		}
	}
}

func TestShardsCoverEveryUnitOnce(t *testing.T) {
	t.Parallel()
	// The whole run is the golden configuration's; the shards run the
	// same configuration against the same emulator.
	whole := golden.get(t)[0].res
	key := func(q pack.Query) string { return q.Dataset + "|" + q.SubAccount + "|" + q.Account + "|" + q.Framework }
	all := map[string]bool{}
	for _, q := range whole.Packs[0].Manifest.Queries {
		all[key(q)] = true
	}
	const n = 4
	seen := map[string]int{}
	for i := range n {
		cfg := golden.config(t)
		cfg.Shard = config.Shard{Index: i, Count: n}
		res, err := job.Run(context.Background(), cfg, golden.deps(memstore.New()))
		if err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
		m := res.Packs[0].Manifest
		if !strings.HasSuffix(m.PackID, "-shard"+string(rune('0'+i))+"of4") {
			t.Errorf("shard %d pack id %s", i, m.PackID)
		}
		if len(m.Queries) == 0 {
			t.Errorf("shard %d got no units", i)
		}
		for _, q := range m.Queries {
			seen[key(q)]++
		}
	}
	if len(seen) != len(all) {
		t.Errorf("shards cover %d units, the whole run %d", len(seen), len(all))
	}
	for k, c := range seen {
		if c != 1 || !all[k] {
			t.Errorf("unit %s: in %d shards (in the whole run: %v)", k, c, all[k])
		}
	}
}

func TestCatchUpDays(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC) }
	to := d(22).Add(5 * time.Hour) // a run at 05:00 covers the 21st
	tests := []struct {
		name  string
		last  time.Time
		max   int
		first time.Time
		n     int
	}{
		{"no state: yesterday", time.Time{}, 7, d(21), 1},
		{"up to date", d(22), 7, d(21), 1},
		{"two days missed", d(19), 7, d(19), 3},
		{"bounded", d(1), 7, d(15), 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := job.CatchUp(job.State{LastPeriodEnd: tc.last}, to, tc.max)
			if len(w) != tc.n || !w[0].From.Equal(tc.first) || !w[len(w)-1].To.Equal(d(22)) {
				t.Fatalf("%v", w)
			}
			for i := 1; i < len(w); i++ {
				if !w[i].From.Equal(w[i-1].To) {
					t.Fatalf("gap in %v", w)
				}
			}
		})
	}
}

func TestStateAndAuditWatermark(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Config{Now: func() time.Time { return now }, EvaluationsPerDay: 100, InventoryPerCSP: 20, AuditLogsPerDay: 240, Recommendations: 3})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	mem := memstore.New()
	deps := job.Deps{Getenv: testGetenv, Sources: testSources, Store: mem, Now: func() time.Time { return now }}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
	auditQueries := func(m pack.Manifest) map[string]pack.Query {
		out := map[string]pack.Query{}
		for _, q := range m.Queries {
			if q.Dataset == "audit_logs" {
				out[q.SubAccount] = q
			}
		}
		return out
	}

	// Day 19, then (day 20 missed) day 21 starting the audit log at the watermark.
	cfg := testConfig(t, srv.URL, nil)
	cfg.Datasets = []string{dataset.AuditLogs}
	cfg.Period = period.Window{From: day(19), To: day(20)}
	first, err := job.Run(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.ReadState(context.Background(), mem, "acme")
	if err != nil || !st.LastPeriodEnd.Equal(day(20)) || !st.AuditWatermark.Equal(day(20)) {
		t.Fatalf("state %+v, %v", st, err)
	}
	rc, err := mem.Get(context.Background(), "acme/2026-11-19/latest.json")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(b), first.Packs[0].Manifest.PackID) {
		t.Errorf("latest.json %s", b)
	}

	cfg.Period = period.Window{From: day(21), To: day(22)}
	cfg.AuditFrom = st.AuditWatermark
	second, err := job.Run(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	q1, q2 := auditQueries(first.Packs[0].Manifest), auditQueries(second.Packs[0].Manifest)
	for sub, a := range q1 {
		b := q2[sub]
		if !a.Window.To.Equal(b.Window.From) {
			t.Errorf("%s: audit windows %v then %v: a gap or an overlap", sub, a.Window, b.Window)
		}
		if got, want := a.Rows+b.Rows, int64(emu.CountAuditLogs(sub, day(19), day(22))); got != want {
			t.Errorf("%s: %d audit rows over both runs, emulator has %d", sub, got, want)
		}
	}
	if st, _ := job.ReadState(context.Background(), mem, "acme"); !st.AuditWatermark.Equal(day(22)) || !st.LastPeriodEnd.Equal(day(22)) {
		t.Errorf("state after the second run %+v", st)
	}
}

var update = flag.Bool("update", false, "rewrite testdata/golden-checksums.txt")

// The same input gives byte-identical XLSX, Parquet, PDF and OSCAL files: two runs with
// the same clock, run id and emulator seed agree with each other and with
// the checksums in testdata/golden-checksums.txt (go test -update rewrites
// it; a change there is a change of the pack format and needs a reason).
func TestDeterministicFiles(t *testing.T) {
	t.Parallel()
	runs := golden.get(t) // two runs of the same input (see fixture_test.go)
	sums := func(r goldenRun) map[string]string {
		out := map[string]string{}
		for _, f := range r.res.Packs[0].Manifest.Files {
			if strings.HasSuffix(f.Path, ".xlsx") || strings.HasSuffix(f.Path, ".parquet") || strings.HasSuffix(f.Path, ".pdf") || pack.IsOSCAL(f.Path) {
				out[f.Path] = f.SHA256
			}
		}
		return out
	}
	a, b := sums(runs[0]), sums(runs[1])
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d files", len(a), len(b))
	}
	for p, h := range a {
		if b[p] != h {
			t.Errorf("%s differs between two runs of the same input", p)
		}
	}
	var lines []string
	for p, h := range a {
		lines = append(lines, h+"  "+p)
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "golden-checksums.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the files differ from %s:\n got:\n%s\nwant:\n%s", golden, got, want)
	}
}

var testSources = sources.Registry(sources.Options{})

// With probes, the plan's data requests equal what the run then sends:
// reports and their PDFs, and every page of every result set (a 10-day
// period has two evaluation windows). Without, it is a floor.
func TestPlanPredictsRequests(t *testing.T) {
	t.Parallel()
	// Pages of 10 rows: the result sets span several pages each (the
	// paging is the point), with a tenth of the rows to write.
	cfgEmu := emulator.Config{Seed: 9, EvaluationsPerDay: 25, InventoryPerCSP: 25, AuditLogsPerDay: 15, Recommendations: 3, PageSize: 10}
	limits := lacework.Limits{PageRows: 10}
	period := period.Window{From: now.Truncate(24*time.Hour).AddDate(0, 0, -10), To: now.Truncate(24 * time.Hour)}
	plan := func(probe bool) int {
		cfg := testConfig(t, newEmulator(t, cfgEmu).URL, nil)
		cfg.Period = period
		deps := job.Deps{Getenv: testGetenv, Sources: sources.Registry(sources.Options{Lacework: limits}), Now: func() time.Time { return now }}
		p, err := job.MakePlan(context.Background(), cfg, deps, probe)
		if err != nil {
			t.Fatal(err)
		}
		if p.Tenants[0].Probed != probe {
			t.Errorf("Probed = %v, want %v", p.Tenants[0].Probed, probe)
		}
		// The writing is timed with probes only (scratch packs of a
		// fetched report, a request that is not data).
		if w := p.Tenants[0].Writing; (w != nil) != probe || (w != nil && w.PerReport <= 0) {
			t.Errorf("probe %v: Writing = %+v", probe, w)
		}
		return p.Tenants[0].Requests()
	}
	srv := newEmulator(t, cfgEmu)
	emu := srv.Config.Handler.(*emulator.Server)
	cfg := testConfig(t, srv.URL, nil)
	cfg.Period = period
	if _, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: sources.Registry(sources.Options{Lacework: limits}), Store: memstore.New(), Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	data := 0
	for _, r := range emu.Requests() {
		if r.PageID != "" || strings.HasSuffix(r.Path, "/Reports") {
			data++
		}
	}
	if got := plan(true); got != data {
		t.Errorf("probed plan predicts %d data requests, the run sent %d", got, data)
	}
	if floor := plan(false); floor >= data || floor == 0 {
		t.Errorf("floor %d, run %d: the floor should be below", floor, data)
	}
}

// One tenant refused does not stop the others: their packs are published
// and returned, and the error names the tenant that failed.
func TestOneTenantFailingLeavesTheOthers(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{EvaluationsPerDay: 50, InventoryPerCSP: 20, AuditLogsPerDay: 20, Recommendations: 3})
	bad := narrowConfig(t, srv.URL, func(v map[string]string) { v["LW_API_SECRET"] = "wrong" }).Tenants[0]
	bad.Name = "refused"
	cfg := narrowConfig(t, srv.URL, nil)
	cfg.Tenants = append([]config.Tenant{bad}, cfg.Tenants...)
	res, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: memstore.New(), Now: func() time.Time { return now }})
	if !errors.Is(err, httpx.ErrAuth) || !strings.Contains(err.Error(), "tenant refused") {
		t.Fatalf("err = %v, want the refused tenant's ErrAuth", err)
	}
	if len(res.Packs) != 1 || res.Packs[0].Tenant != "acme" {
		t.Fatalf("packs %+v, want acme's", res.Packs)
	}
}

// A sub-account discovery cannot reach has no audit-log unit: its log for
// the period is missing, so the watermark stays where it was.
func TestWatermarkHoldsWhenASubAccountIsUnreachable(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{Forbidden: []string{"acme-dev"}})
	mem := memstore.New()
	cfg := testConfig(t, srv.URL, nil)
	cfg.Datasets = []string{dataset.AuditLogs}
	res, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: mem, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packs[0].Manifest.Failures) == 0 {
		t.Fatal("the unreachable sub-account was not recorded")
	}
	st, err := job.ReadState(context.Background(), mem, "acme")
	if err != nil || !st.LastPeriodEnd.Equal(cfg.Period.To) || !st.AuditWatermark.IsZero() {
		t.Fatalf("state %+v, %v: the period is done, the audit watermark must not move", st, err)
	}
}

// A run killed with kill -9 leaves its staging folder; the next run of the
// same tenant into the same output removes it, once it is older than any run
// can last, and says so in its log.
func TestStaleStagingRemovedByTheNextRun(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{EvaluationsPerDay: 20, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 2})
	dir := t.TempDir()
	store, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(dir, "acme", "2026-11-20", ".staging-20261121T020000Z-abc-123")
	fresh := filepath.Join(dir, "acme", "2026-11-21", ".staging-20261122T055900Z-def-456")
	for _, d := range []string{killed, fresh} {
		if err := os.MkdirAll(filepath.Join(d, "frameworks"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The killed run's folder is as old as its run; the other one is a
	// live run's, written a minute ago by the fake clock's reckoning.
	for _, p := range []string{killed, filepath.Join(killed, "frameworks")} {
		if err := os.Chtimes(p, now.Add(-30*time.Hour), now.Add(-30*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{fresh, filepath.Join(fresh, "frameworks")} {
		if err := os.Chtimes(p, now.Add(-time.Minute), now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	cfg := testConfig(t, srv.URL, oneSubAccount)
	cfg.Datasets = []string{dataset.AuditLogs} // any run cleans up; the smallest will do
	if _, err := job.Run(context.Background(), cfg, job.Deps{Getenv: testGetenv, Sources: testSources, Store: store, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killed); !os.IsNotExist(err) {
		t.Errorf("the killed run's staging is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a live run's staging was removed: %v", err)
	}
	if !strings.Contains(logs.String(), ".staging-20261121T020000Z-abc-123") {
		t.Errorf("the log does not name the removed staging:\n%s", logs.String())
	}
}

// One version string everywhere: the manifest, the workbooks' creator, the
// PDFs' author and Parquet's created_by all carry the build's version.
func TestOneVersionString(t *testing.T) {
	t.Parallel()
	srv := newEmulator(t, emulator.Config{EvaluationsPerDay: 20, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 2})
	mem := memstore.New()
	res, err := job.Run(context.Background(), narrowConfig(t, srv.URL, nil), job.Deps{Getenv: testGetenv, Sources: testSources, Store: mem,
		Now: func() time.Time { return now }, Build: job.Build{Version: "9.9.9-test"}})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Packs[0].Manifest
	if m.Generator.Version != "9.9.9-test" {
		t.Errorf("manifest generator %+v", m.Generator)
	}
	seen := 0
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Path, ".parquet") {
			continue
		}
		rc, err := mem.Get(context.Background(), res.Packs[0].Prefix+"/"+f.Path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if got := pf.Metadata().CreatedBy; got != "evidence version 9.9.9-test" {
			t.Errorf("%s: created_by %q", f.Path, got)
		}
		seen++
	}
	if seen == 0 {
		t.Fatal("no Parquet file in the pack")
	}
}
