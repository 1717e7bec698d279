package job_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/demo"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/parquet-go/parquet-go"
	"github.com/xuri/excelize/v2"

	edgeemu "github.com/evidence-pack/evidence/internal/collect/edge/emulator"
	ibmemu "github.com/evidence-pack/evidence/internal/collect/ibmscc/emulator"
	sophosemu "github.com/evidence-pack/evidence/internal/collect/sophos/emulator"
)

// sourceCase starts a platform's emulator and returns a tenant pointing at
// it, with the environment holding its credentials.
type sourceCase struct {
	name  string
	start func(t *testing.T) (config.Tenant, map[string]string)
}

var sourceCases = []sourceCase{
	{"sophos", func(t *testing.T) (config.Tenant, map[string]string) {
		srv := httptest.NewServer(sophosemu.New(sophosemu.Config{Seed: 5, Now: func() time.Time { return now }, HistoryDays: 30}))
		t.Cleanup(srv.Close)
		return demo.SophosTenant("optix-demo", srv.URL)
	}},
	{"ibm_scc", func(t *testing.T) (config.Tenant, map[string]string) {
		srv := httptest.NewServer(ibmemu.New(ibmemu.Config{Seed: 5, Now: func() time.Time { return now }, Tricky: true,
			AuditEventsPerDay: 200})) // a tenth of the default: the rows are counted, not read
		t.Cleanup(srv.Close)
		return demo.IBMSCCTenant("scc-demo", srv.URL)
	}},
	{"lacework_edge", func(t *testing.T) (config.Tenant, map[string]string) {
		srv := httptest.NewServer(edgeemu.New(edgeemu.Config{Seed: 5, Now: func() time.Time { return now }, PageSize: 50, Users: 20, Faults: edgeemu.Faults{Tricky: true}}))
		t.Cleanup(srv.Close)
		return demo.EdgeTenant("edge-demo", srv.URL)
	}},
}

// Every source makes the same kind of pack through the same pipeline:
// workbooks, Parquet, PDFs and a manifest that verifies, with the rows of
// each table in its files equal to the rows its units report.
func TestEverySourceMakesAPack(t *testing.T) {
	t.Parallel()
	for _, tc := range sourceCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tenant, env := tc.start(t)
			day := now.Truncate(24 * time.Hour)
			cfg := &config.Config{Output: "mem", Concurrency: 4, Datasets: dataset.Names(), Tenants: []config.Tenant{tenant},
				Period: period.Window{From: day.Add(-7 * 24 * time.Hour), To: day}}
			store := memstore.New()
			res, err := job.Run(context.Background(), cfg, job.Deps{Sources: testSources, Store: store, Getenv: func(k string) string { return env[k] },
				Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Packs[0].Manifest
			if m.Source.System != tc.name {
				t.Errorf("manifest source %q, want %q", m.Source.System, tc.name)
			}
			// Sophos Cloud Optix reports failing rules only: the pack says
			// so, and the period report reads it there.
			if m.Source.FailingOnly != (tc.name == "sophos") {
				t.Errorf("manifest source.failing_only %v", m.Source.FailingOnly)
			}
			if len(m.Failures) > 0 {
				t.Errorf("failures: %+v", m.Failures)
			}
			// The credential is named, never shown.
			if inv := m.Invocation; inv == nil || inv.Credential == "" {
				t.Errorf("invocation %+v: no credential named", inv)
			} else {
				for k, v := range env {
					if len(v) >= 8 && strings.Contains(inv.Credential, v) {
						t.Errorf("invocation credential %q holds %s", inv.Credential, k)
					}
				}
			}
			rep, err := pack.Verify(context.Background(), store, res.Packs[0].Prefix)
			if err != nil || !rep.OK() {
				t.Fatalf("verify: %v %+v", err, rep.Problems)
			}
			queryRows := map[string]int64{}
			for _, q := range m.Queries {
				queryRows[strings.SplitN(q.Dataset, "/", 2)[0]] += q.Rows
				// Every unit names the API call behind it.
				if r := q.Request; r == nil || r.Method == "" || !strings.HasPrefix(r.Path, "/api/") {
					t.Errorf("query %s %s: request %+v", q.Dataset, q.Account, r)
				}
			}
			fileRows := map[string]int64{}
			has := map[string]bool{}
			for _, f := range m.Files {
				switch {
				case strings.HasPrefix(f.Path, "parquet/"):
					table := strings.Split(f.Path, "/")[1]
					fileRows[table] += *f.Rows
				case strings.HasSuffix(f.Path, ".xlsx"), strings.HasSuffix(f.Path, ".pdf"):
					has[f.Path[strings.LastIndex(f.Path, "."):]] = true
				}
			}
			if !has[".xlsx"] || !has[".pdf"] {
				t.Errorf("pack lacks workbooks or PDFs: %v", has)
			}
			for _, table := range []string{"evaluations", "inventory", "audit_logs"} {
				if fileRows[table] != queryRows[table] {
					t.Errorf("%s: %d rows in Parquet files, units report %d", table, fileRows[table], queryRows[table])
				}
			}
			if fileRows["controls"] != queryRows["reports"] {
				t.Errorf("controls: %d rows in Parquet, report units %d", fileRows["controls"], queryRows["reports"])
			}
			if len(m.Scope.Frameworks) == 0 || fileRows["controls"] == 0 {
				t.Errorf("no framework evidence: frameworks %v, %d controls", m.Scope.Frameworks, fileRows["controls"])
			}
			var total int64
			for _, n := range fileRows {
				total += n
			}
			if total == 0 {
				t.Error("the pack holds no rows")
			}
			checkExceptions(t, store, res.Packs[0].Prefix, m, tc.name == "ibm_scc")
			// IBM SCC's accepted risks and Sophos's suppressions give
			// reasons: they become OSCAL risks; Edge has no exceptions.
			if risks := checkOSCAL(t, store, res.Packs[0].Prefix, m); (risks > 0) != (tc.name != "lacework_edge") {
				t.Errorf("%d OSCAL risks", risks)
			}
			t.Logf("%s: %d files, rows %v", tc.name, len(m.Files), fileRows)
		})
	}
}

// fakeSource returns a fixed plan.
type fakeSource struct{ plan *source.Plan }

func (f fakeSource) Info() source.Info { return source.Info{System: "fake", API: "Fake API"} }
func (f fakeSource) Plan(context.Context, source.Request) (*source.Plan, error) {
	return f.plan, nil
}
func (f fakeSource) Stats() *httpx.Stats { return &httpx.Stats{} }

// runFake runs one tenant, "t", of a fake source whose discovery gives
// plan, over the datasets (default all), into a memory store.
func runFake(t *testing.T, plan *source.Plan, datasets ...string) (job.Result, *memstore.Store, error) {
	t.Helper()
	reg := source.Registry{"fake": func(context.Context, config.Tenant, source.Env) (source.Source, error) {
		return fakeSource{plan: plan}, nil
	}}
	if len(datasets) == 0 {
		datasets = dataset.Names()
	}
	store := memstore.New()
	cfg := &config.Config{Output: "mem", Concurrency: 1, Datasets: datasets,
		Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
	res, err := job.Run(context.Background(), cfg, job.Deps{Sources: reg, Store: store, Now: func() time.Time { return now }})
	return res, store, err
}

// openWorkbook opens the workbook at key of store.
func openWorkbook(t *testing.T, store storage.Store, key string) *excelize.File {
	t.Helper()
	rc, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	x, err := excelize.OpenReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func fetchNothing(context.Context) (source.Report, error) { return nil, errors.New("not fetched") }

// A source that plans a unit the pipeline cannot run is refused before
// anything is written, with a message that names it.
func TestBadPlanIsRefused(t *testing.T) {
	rows := func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
		return func(func(dataset.Record, error) bool) {}
	}
	for _, tc := range []struct {
		name string
		plan source.Plan
		want string
	}{
		{"unknown table", source.Plan{Tables: []source.TableUnit{{Table: "secrets", Rows: rows}}}, `table "secrets"`},
		{"no rows", source.Plan{Tables: []source.TableUnit{{Table: "inventory", SubAccount: "s"}}}, "without rows"},
		{"no fetch", source.Plan{Frameworks: []source.Framework{{Name: "CIS", Units: []source.ReportUnit{{SubAccount: "s"}}}}}, "without a fetch"},
		{"a Parquet file twice", source.Plan{Tables: []source.TableUnit{{Table: "inventory", SubAccount: "s", Rows: rows}, {Table: "inventory", SubAccount: "s", Rows: rows}}}, "two units write"},
		{"a report twice", source.Plan{Frameworks: []source.Framework{{Name: "CIS", Units: []source.ReportUnit{
			{SubAccount: "s", Account: "a", Fetch: fetchNothing}, {SubAccount: "s", Account: "a", Fetch: fetchNothing}}}}}, "two report units"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, store, err := runFake(t, &tc.plan)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "source fake") {
				t.Fatalf("err = %v, want one naming the source and %q", err, tc.want)
			}
			if hasManifest(t, store) {
				t.Error("a pack was published")
			}
		})
	}
}

// Credentials refused in the middle of a run end it: no pack, an error
// that says so; a unit's other failures are only recorded.
func TestAuthRefusedMidRunPublishesNothing(t *testing.T) {
	refused := func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
		return func(yield func(dataset.Record, error) bool) {
			if yield(dataset.Resource{ResourceID: "r1"}, nil) {
				yield(nil, httpx.Auth(errors.New("token revoked")))
			}
		}
	}
	reg := source.Registry{"fake": func(context.Context, config.Tenant, source.Env) (source.Source, error) {
		return fakeSource{plan: &source.Plan{SubAccounts: []string{"s"}, Tables: []source.TableUnit{{Table: "inventory", SubAccount: "s", Rows: refused}}}}, nil
	}}
	store := memstore.New()
	cfg := &config.Config{Output: "mem", Concurrency: 1, Datasets: dataset.Names(),
		Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
	_, err := job.Run(context.Background(), cfg, job.Deps{Sources: reg, Store: store, Now: func() time.Time { return now }})
	if !errors.Is(err, httpx.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if hasManifest(t, store) {
		t.Error("a pack was published")
	}
}

// The pipeline groups what its writers write together, whatever the
// source's order: a framework's reports by sub-account (one Parquet file
// each), a table's units by sheet (one sheet each).
func TestInterleavedUnitsAreGrouped(t *testing.T) {
	rows := func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
		return func(yield func(dataset.Record, error) bool) { yield(dataset.Resource{ResourceID: "r"}, nil) }
	}
	fetch := func(context.Context) (source.Report, error) { return malformedReport{}, nil }
	plan := &source.Plan{SubAccounts: []string{"s", "t"},
		Tables: []source.TableUnit{{Table: "inventory", Sheet: "A", Partition: "k=A", SubAccount: "s", Rows: rows},
			{Table: "inventory", Sheet: "B", Partition: "k=B", SubAccount: "s", Rows: rows}, {Table: "inventory", Sheet: "A", Partition: "k=A", SubAccount: "t", Rows: rows}},
		Frameworks: []source.Framework{{Name: "CIS", Units: []source.ReportUnit{
			{SubAccount: "s", Account: "a", Fetch: fetch}, {SubAccount: "t", Account: "b", Fetch: fetch}, {SubAccount: "s", Account: "c", Fetch: fetch}}}}}
	res, store, err := runFake(t, plan)
	if err != nil {
		t.Fatal(err)
	}
	var controls []string
	for _, f := range res.Packs[0].Manifest.Files {
		if strings.HasPrefix(f.Path, "parquet/controls/") {
			controls = append(controls, f.Path)
		}
	}
	if len(controls) != 2 {
		t.Errorf("controls files %v, want one per sub-account", controls)
	}
	x := openWorkbook(t, store, res.Packs[0].Prefix+"/inventory.xlsx")
	var sheets []string
	for _, n := range x.GetSheetList() {
		if n == "A" || n == "B" {
			sheets = append(sheets, n)
		}
	}
	if !slices.Equal(sheets, []string{"A", "B"}) {
		t.Errorf("sheets %v, want A then B", x.GetSheetList())
	}
	if rows, _ := x.GetRows("A"); len(rows) < 3 {
		t.Errorf("sheet A has %d rows, want both sub-accounts' resources", len(rows))
	}
}

// A --account or --framework that names nothing a Sophos tenant has is
// refused before any alert is read, with what it has.
func TestSophosUnmatchedFiltersAreRefused(t *testing.T) {
	tenant, env := sourceCases[0].start(t)
	day := now.Truncate(24 * time.Hour)
	cfg := &config.Config{Output: "mem", Concurrency: 1, Datasets: dataset.Names(), Tenants: []config.Tenant{tenant},
		Period: period.Window{From: day.Add(-24 * time.Hour), To: day}, Accounts: []string{"000000000000"}, Frameworks: []string{"PCl"}}
	_, err := job.Run(context.Background(), cfg, job.Deps{Sources: testSources, Store: memstore.New(), Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return now }})
	if !errors.Is(err, source.ErrRefused) || !strings.Contains(err.Error(), `--account "000000000000" matches nothing`) ||
		!strings.Contains(err.Error(), `--framework "PCl" matches nothing (nearest: "PCI")`) {
		t.Fatalf("err = %v", err)
	}
}

// An IBM SCC --framework that names no compliance policy of the instance,
// or an --account that names no cloud account of its inventory, is refused
// before any report is read, listing the policies.
func TestIBMUnmatchedFiltersAreRefused(t *testing.T) {
	tenant, env := sourceCases[1].start(t)
	day := now.Truncate(24 * time.Hour)
	cfg := &config.Config{Output: "mem", Concurrency: 1, Datasets: []string{dataset.Reports}, Tenants: []config.Tenant{tenant},
		Period: period.Window{From: day.Add(-24 * time.Hour), To: day}, Frameworks: []string{"No Such Benchmark"}, Accounts: []string{"999999999999"}}
	_, err := job.Run(context.Background(), cfg, job.Deps{Sources: testSources, Store: memstore.New(), Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return now }})
	if !errors.Is(err, source.ErrRefused) || !strings.Contains(err.Error(), `--framework "No Such Benchmark" matches nothing; the tenants have: `) ||
		!strings.Contains(err.Error(), `--account "999999999999" matches nothing`) {
		t.Fatalf("err = %v", err)
	}
}

// An Edge tenant has one framework and is its own only account: other
// names are refused before any request for data.
func TestEdgeUnmatchedFiltersAreRefused(t *testing.T) {
	tenant, env := sourceCases[2].start(t)
	day := now.Truncate(24 * time.Hour)
	cfg := &config.Config{Output: "mem", Concurrency: 1, Datasets: dataset.Names(), Tenants: []config.Tenant{tenant},
		Period: period.Window{From: day.Add(-24 * time.Hour), To: day}, Frameworks: []string{"Acess review"}, Accounts: []string{"nope"}}
	_, err := job.Run(context.Background(), cfg, job.Deps{Sources: testSources, Store: memstore.New(), Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return now }})
	if !errors.Is(err, source.ErrRefused) || !strings.Contains(err.Error(), `--framework "Acess review" matches nothing (nearest: "Access review")`) ||
		!strings.Contains(err.Error(), `--account "nope" matches nothing`) {
		t.Fatalf("err = %v", err)
	}
}

// checkExceptions checks a pack's exception register: an exception is
// flagged expired exactly when it expired before the period ended (with
// lapsed, some are and some are not); each framework workbook has its
// Exceptions sheet with the framework's rows, and its PDF says how many.
func checkExceptions(t *testing.T, store storage.Store, prefix string, m pack.Manifest, lapsed bool) {
	t.Helper()
	type row struct {
		Framework string     `parquet:"framework,optional"`
		Expires   *time.Time `parquet:"expires_at,optional,timestamp(millisecond)"`
		Expired   *bool      `parquet:"expired,optional"`
	}
	perFramework := map[string]int{}
	expired, total := 0, 0
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Path, "parquet/exceptions/") {
			continue
		}
		rc, err := store.Get(context.Background(), prefix+"/"+f.Path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		rows, err := parquet.Read[row](bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			total++
			perFramework[r.Framework]++
			want := r.Expires != nil && r.Expires.Before(m.Period.To)
			if r.Expired == nil || *r.Expired != want {
				t.Errorf("%s: expires %v, expired %v; the period ends %v", f.Path, r.Expires, r.Expired, m.Period.To)
			}
			if want {
				expired++
			}
		}
	}
	if lapsed && (expired == 0 || expired == total) {
		t.Errorf("%d of %d exceptions expired: want some of each", expired, total)
	}
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Path, "/evidence.xlsx") {
			continue
		}
		x := openWorkbook(t, store, prefix+"/"+f.Path)
		rows, err := x.GetRows("Exceptions")
		if err != nil {
			t.Errorf("%s: no Exceptions sheet: %v", f.Path, err)
			continue
		}
		about, _ := x.GetRows("Summary")
		fw := ""
		for _, r := range about {
			if len(r) >= 2 && r[0] == "Framework" {
				fw = r[1]
			}
		}
		if got := len(rows) - 1; got != perFramework[fw] { // the header row
			t.Errorf("%s: %d rows on the Exceptions sheet, %d in the table", f.Path, got, perFramework[fw])
		}
	}
}
