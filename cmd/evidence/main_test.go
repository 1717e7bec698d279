package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/demo"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/testtool"
)

// cli runs the command in-process with its own environment. A demo has a
// tenth of its rows: the same platforms, tenants and files, made in a
// fraction of the time under the race detector.
func cli(t *testing.T, ctx context.Context, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cliTo(t, ctx, vars, &out, &errb, args...)
	return code, out.String(), errb.String()
}

// cliTo is cli writing to stdout and stderr as the command goes.
func cliTo(t *testing.T, ctx context.Context, vars map[string]string, stdout, stderr io.Writer, args ...string) int {
	t.Helper()
	e := env{getenv: func(k string) string { return vars[k] }, stdout: stdout, stderr: stderr, home: t.TempDir(), argv: append([]string{"evidence"}, args...),
		demoScale: 10}
	return run(ctx, args, e)
}

// watchWriter keeps what is written and calls on, once, when a write
// holds match: a test acts on what the command has done, not after a time.
type watchWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	match string
	on    func()
	seen  bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen && bytes.Contains(p, []byte(w.match)) {
		w.seen = true
		w.on()
	}
	return w.buf.Write(p)
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *watchWriter) Seen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// scheduleUntilFirstRun runs `evidence schedule` and stops it (as SIGTERM
// does) as soon as its first run is done. The first tick of "@every 1s"
// is the one wait on the wall clock: cron has no finer step, and the run
// talks to a real loopback server, so it cannot run in a synctest bubble
// (internal/schedule tests the ticks themselves on a fake clock).
func scheduleUntilFirstRun(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	errw := &watchWriter{match: "scheduled run done", on: cancel}
	// A guard, not a wait: a run that never ends fails the test below
	// instead of holding it until the package timeout.
	guard := time.AfterFunc(2*time.Minute, cancel)
	defer guard.Stop()
	code = cliTo(t, ctx, vars, &out, errw, append([]string{"schedule"}, args...)...)
	if !errw.Seen() {
		t.Fatalf("no scheduled run finished within two minutes (exit %d)\nstdout:\n%s\nstderr:\n%s", code, out.String(), errw.String())
	}
	return code, out.String(), errw.String()
}

func lwEnv(url string) map[string]string {
	return map[string]string{"LW_ACCOUNT": emulator.DefaultAccount, "LW_API_KEY": emulator.DefaultKeyID,
		"LW_API_SECRET": emulator.DefaultSecret, "LW_API_URL": url}
}

// lwEnvOne is lwEnv scoped to the sub-account acme (LW_SUBACCOUNT): a
// third of the emulated tenant's files, every kind still there, for tests
// whose point is not the breadth of the tenant.
func lwEnvOne(url string) map[string]string {
	v := lwEnv(url)
	v["LW_SUBACCOUNT"] = "acme"
	return v
}

// manifests finds every manifest.json under dir.
func manifests(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == pack.ManifestName {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func readManifest(t *testing.T, path string) pack.Manifest {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := pack.DecodeManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunEndToEndWithFaults(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end")
	}
	emu := emulator.New(emulator.Config{
		Seed: 7, Forbidden: []string{"acme-dev"},
		// Pages of 40 rows: the requests (and so the faults) of ten times
		// the rows.
		EvaluationsPerDay: 150, InventoryPerCSP: 40, AuditLogsPerDay: 30, Recommendations: 15, PageSize: 40,
		Faults: emulator.Faults{ErrorEvery: 9, DropEvery: 11, RateLimitEvery: 17, Tricky: true},
	})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	out := t.TempDir()
	code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), "run", "--out", out)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d (one sub-account refuses the key)\nstdout:\n%s\nstderr:\n%s", code, exitPartial, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, emulator.DefaultSecret) {
		t.Fatal("the secret was printed")
	}
	ms := manifests(t, out)
	if len(ms) != 1 {
		t.Fatalf("manifests %v", ms)
	}
	dir := filepath.Dir(ms[0])
	m := readManifest(t, ms[0])

	// The failure is recorded, names the sub-account and the fix.
	if len(m.Failures) != 1 || m.Failures[0].SubAccount != "acme-dev" || !strings.Contains(m.Failures[0].Error, "API key") {
		t.Fatalf("failures %+v", m.Failures)
	}
	if v := emu.Violations(); len(v) > 0 {
		t.Errorf("%d requests during a Retry-After", len(v))
	}
	if d := emu.DuplicatePages(); len(d) > 0 {
		t.Errorf("pages fetched twice: %v", d)
	}

	// Every unit is in the manifest with the emulator's row counts.
	from, to := m.Period.From, m.Period.To
	want := map[string]int64{}
	for _, sub := range []string{"acme", "acme-prod"} {
		for _, ds := range []string{"AwsCompliance", "AzureCompliance", "GcpCompliance", "K8sCompliance"} {
			want["evaluations/"+ds+"|"+sub] = int64(emu.CountEvaluations(sub, ds, from, to))
		}
		for _, csp := range []string{"AWS", "Azure", "GCP"} {
			want["inventory/"+csp+"|"+sub] = int64(emu.CountInventory(sub, csp, from, to))
		}
		want["audit_logs|"+sub] = int64(emu.CountAuditLogs(sub, from, to))
	}
	got := map[string]int64{}
	reports := 0
	for _, q := range m.Queries {
		if !q.Complete {
			t.Errorf("incomplete query %+v", q)
		}
		if q.Dataset == "reports" {
			reports++
			if q.Rows != int64(emu.ReportRecommendations()) {
				t.Errorf("report %s %s: %d controls, want %d", q.Framework, q.Account, q.Rows, emu.ReportRecommendations())
			}
			continue
		}
		got[q.Dataset+"|"+q.SubAccount] = q.Rows
	}
	for k, w := range want {
		if got[k] != w || w == 0 {
			t.Errorf("%s: manifest says %d rows, emulator has %d", k, got[k], w)
		}
	}
	if reports == 0 {
		t.Error("no report queries")
	}

	// verify passes, and so does sha256sum -c.
	if code, vout, verr := cli(t, context.Background(), nil, "verify", dir); code != exitOK {
		t.Fatalf("verify exit %d\n%s\n%s", code, vout, verr)
	}
	// The independent readers are subtests: one that is not installed is
	// skipped (on a laptop) without skipping the others.
	t.Run("sha256sum", func(t *testing.T) {
		cmd := exec.Command(testtool.Program(t, "sha256sum", testtool.InstallCoreutils, "--version"), "--quiet", "-c", pack.SumsName)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sha256sum -c: %v\n%s", err, b)
		}
	})

	// Rows in the Parquet files, read by parquet-go, equal the manifest's.
	var evalRows int64
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Path, ".parquet") {
			continue
		}
		n := parquetRows(t, filepath.Join(dir, f.Path))
		if f.Rows == nil || *f.Rows != n {
			t.Errorf("%s: %d rows in the file, manifest says %v", f.Path, n, f.Rows)
		}
		if strings.HasPrefix(f.Path, "parquet/evaluations/") {
			evalRows += n
		}
	}
	var wantEval int64
	for k, w := range want {
		if strings.HasPrefix(k, "evaluations/") {
			wantEval += w
		}
	}
	if evalRows != wantEval {
		t.Errorf("Parquet holds %d evaluations, emulator %d", evalRows, wantEval)
	}

	// DuckDB, reading the Parquet folders as Hive partitions, agrees.
	t.Run("duckdb", func(t *testing.T) { duckdbCounts(t, dir, want) })

	// Rows in the XLSX files, read by openpyxl, equal the emulator's.
	t.Run("openpyxl", func(t *testing.T) { openpyxlCounts(t, dir, want) })

	// The failure is on the first page of summary.pdf.
	t.Run("pdftotext", func(t *testing.T) {
		first, err := exec.Command(testtool.Poppler(t, "pdftotext"), "-f", "1", "-l", "1", filepath.Join(dir, "summary.pdf"), "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(first), "acme-dev") || !strings.Contains(string(first), "failed") {
			t.Errorf("summary.pdf page 1 does not show the failed unit:\n%s", first)
		}
	})

	// Tampering makes verify fail: a flipped byte, a deleted file, an extra file.
	tamper := []struct {
		name   string
		do     func(t *testing.T) (undo func())
		report string
	}{
		{"one byte changed", func(t *testing.T) func() {
			p := filepath.Join(dir, "evaluations.xlsx")
			orig, _ := os.ReadFile(p)
			mod := bytes.Clone(orig)
			mod[len(mod)/2] ^= 0x01
			os.WriteFile(p, mod, 0o644)
			return func() { os.WriteFile(p, orig, 0o644) }
		}, "evaluations.xlsx"},
		{"file deleted", func(t *testing.T) func() {
			p := filepath.Join(dir, "summary.pdf")
			orig, _ := os.ReadFile(p)
			os.Remove(p)
			return func() { os.WriteFile(p, orig, 0o644) }
		}, "summary.pdf"},
		{"file added", func(t *testing.T) func() {
			p := filepath.Join(dir, "frameworks", "extra.txt")
			os.WriteFile(p, []byte("not evidence"), 0o644)
			return func() { os.Remove(p) }
		}, "extra.txt"},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			undo := tc.do(t)
			defer undo()
			code, vout, _ := cli(t, context.Background(), nil, "verify", dir)
			if code != exitFailed || !strings.Contains(vout, tc.report) {
				t.Fatalf("verify exit %d, output:\n%s", code, vout)
			}
		})
	}
	if code, vout, _ := cli(t, context.Background(), nil, "verify", dir); code != exitOK {
		t.Fatalf("verify after undo: %d\n%s", code, vout)
	}
}

// openpyxlCounts reads the pack's workbooks with openpyxl: their rows equal
// the emulator's (want, as in TestRunEndToEndWithFaults).
func openpyxlCounts(t *testing.T, dir string, want map[string]int64) {
	t.Helper()
	b, err := exec.Command(testtool.Python(t), "testdata/xlsx_rows.py",
		filepath.Join(dir, "evaluations.xlsx"), filepath.Join(dir, "inventory.xlsx"), filepath.Join(dir, "audit-logs.xlsx")).Output()
	if err != nil {
		t.Fatalf("openpyxl: %v", err)
	}
	var sheets map[string]map[string]int64
	if err := json.Unmarshal(b, &sheets); err != nil {
		t.Fatal(err)
	}
	sum := func(file, prefix string) (n int64) {
		for k, w := range want {
			if strings.HasPrefix(k, prefix) {
				n += w
			}
		}
		return n
	}
	for _, ds := range []string{"AwsCompliance", "AzureCompliance", "GcpCompliance", "K8sCompliance"} {
		if got, w := sheets[filepath.Join(dir, "evaluations.xlsx")][ds], sum("", "evaluations/"+ds+"|"); got != w {
			t.Errorf("evaluations.xlsx %s: openpyxl reads %d rows, emulator has %d", ds, got, w)
		}
	}
	if got, w := sheets[filepath.Join(dir, "audit-logs.xlsx")]["Audit logs"], sum("", "audit_logs|"); got != w {
		t.Errorf("audit-logs.xlsx: openpyxl reads %d rows, emulator has %d (sheets %v)", got, w, sheets[filepath.Join(dir, "audit-logs.xlsx")])
	}
}

// duckdbCounts reads the pack's Parquet with DuckDB (testtool.QueryDuckDB),
// through the views of pack.duckdb.sql and directly, and checks the row
// counts.
func duckdbCounts(t *testing.T, dir string, want map[string]int64) {
	t.Helper()
	sql, err := os.ReadFile(filepath.Join(dir, "pack.duckdb.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string][]map[string]any
	testtool.QueryDuckDB(t, dir, string(sql), map[string]string{
		"evaluations": "SELECT dataset, sub_account AS account, count(*) AS n FROM evaluations GROUP BY ALL ORDER BY ALL",
		"inventory":   "SELECT csp, sub_account AS account, count(*) AS n FROM inventory GROUP BY ALL ORDER BY ALL",
		"audit_logs":  "SELECT sub_account AS account, count(*) AS n, count(created_time) AS timed FROM audit_logs GROUP BY ALL ORDER BY ALL",
		"controls":    "SELECT count(*) AS n FROM controls",
		// Straight from the files with DuckDB's defaults (Hive partitioning
		// detected): no folder may shadow a column, so each framework's real
		// name comes back, and filtering on it finds its rows.
		"frameworks": "SELECT framework, count(*) AS n FROM read_parquet('parquet/controls/*/*.parquet') GROUP BY ALL ORDER BY ALL",
		"by_name":    "SELECT count(*) AS n FROM read_parquet('parquet/controls/*/*.parquet') WHERE framework = (SELECT min(framework) FROM controls)",
	}, &got)
	n := func(v any) int64 { var x int64; fmt.Sscan(fmt.Sprint(v), &x); return x }
	seen := 0
	for _, r := range got["evaluations"] {
		k := fmt.Sprintf("evaluations/%v|%v", r["dataset"], r["account"])
		if n(r["n"]) != want[k] {
			t.Errorf("DuckDB: %s has %v rows, emulator %d", k, r["n"], want[k])
		}
		seen++
	}
	for _, r := range got["inventory"] {
		k := fmt.Sprintf("inventory/%v|%v", r["csp"], r["account"])
		if n(r["n"]) != want[k] {
			t.Errorf("DuckDB: %s has %v rows, emulator %d", k, r["n"], want[k])
		}
		seen++
	}
	for _, r := range got["audit_logs"] {
		k := fmt.Sprintf("audit_logs|%v", r["account"])
		if n(r["n"]) != want[k] || n(r["timed"]) != want[k] {
			t.Errorf("DuckDB: %s has %v rows (%v timed), emulator %d", k, r["n"], r["timed"], want[k])
		}
		seen++
	}
	if seen != len(want) {
		t.Errorf("DuckDB saw %d partitions, want %d: %v", seen, len(want), got)
	}
	if len(got["controls"]) != 1 || n(got["controls"][0]["n"]) == 0 {
		t.Errorf("DuckDB controls: %v", got["controls"])
	}
	// The framework column holds the frameworks' real names (spaces and
	// all), not a folder's slug, and a filter on one finds its rows.
	if len(got["frameworks"]) == 0 || len(got["by_name"]) != 1 || n(got["by_name"][0]["n"]) == 0 {
		t.Errorf("DuckDB frameworks %v, filtered by name %v", got["frameworks"], got["by_name"])
	}
	for _, r := range got["frameworks"] {
		if name := fmt.Sprint(r["framework"]); !strings.Contains(name, " ") {
			t.Errorf("DuckDB reads framework %q: a folder slug, not the framework's name", name)
		}
	}
}

func parquetRows(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := pq.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pf.NumRows()
}

func TestWrongCredentialsFailWithoutPack(t *testing.T) {
	srv := httptest.NewServer(emulator.New(emulator.Config{}))
	defer srv.Close()
	vars := lwEnv(srv.URL)
	vars["LW_API_SECRET"] = "_not_the_secret"
	out := t.TempDir()
	code, stdout, stderr := cli(t, context.Background(), vars, "run", "--out", out)
	if code != exitFailed || !strings.Contains(stderr, "authentication failed") || !strings.Contains(stderr, `"acme"`) {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "_not_the_secret") {
		t.Fatal("the secret was printed")
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Fatalf("output holds %v", entries)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := [][]string{
		{"nope"},
		{"run", "--from", "yesterday"},
		{"run", "--dataset", "nope"},
		{"run", "--paper", "a3"},
		{"report", "--packs", ".", "--tenant", "acme", "--from", "2026-01-01", "--to", "2026-01-02", "--paper", "a3"},
		{"verify"},
		{},
	}
	for _, args := range tests {
		code, _, stderr := cli(t, context.Background(), map[string]string{"LW_ACCOUNT": "a", "LW_API_KEY": "k", "LW_API_SECRET": "s"}, args...)
		if code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	// Missing credentials name every variable.
	code, _, stderr := cli(t, context.Background(), nil, "run", "--out", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, "LW_API_KEY") || !strings.Contains(stderr, "LW_API_SECRET") {
		t.Errorf("exit %d, stderr %s", code, stderr)
	}
}

// countingHandler cancels the run when the emulator has seen n requests.
type countingHandler struct {
	h      http.Handler
	n      int64
	seen   atomic.Int64
	cancel context.CancelFunc
	data   bool // count only data requests (searches, reports, audit logs), not discovery
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	isData := strings.HasSuffix(r.URL.Path, "/search") || strings.Contains(r.URL.Path, "/Reports") || strings.Contains(r.URL.Path, "/AuditLogs")
	if (!c.data || isData) && c.seen.Add(1) == c.n {
		c.cancel()
	}
	c.h.ServeHTTP(w, r)
}

func TestKilledRunLeavesNoManifestAndRerunCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	// One sub-account: a run of it sends 45 requests (discovery, pages,
	// reports and their PDFs); it is killed at the first, early, in the
	// middle and near the end.
	// Pages of 20 rows keep the requests of larger data with a tenth of
	// its rows.
	emuCfg := emulator.Config{EvaluationsPerDay: 80, InventoryPerCSP: 20, AuditLogsPerDay: 15, Recommendations: 10, PageSize: 20}
	out := t.TempDir()
	for _, n := range []int64{1, 4, 15, 30, 40} {
		ctx, cancel := context.WithCancel(context.Background())
		h := &countingHandler{h: emulator.New(emuCfg), n: n, cancel: cancel}
		srv := httptest.NewServer(h)
		code, stdout, stderr := cli(t, ctx, lwEnvOne(srv.URL), "run", "--out", out)
		srv.Close()
		cancel()
		if code != exitFailed {
			t.Fatalf("killed after %d requests: exit %d\n%s\n%s", n, code, stdout, stderr)
		}
		if ms := manifests(t, out); len(ms) != 0 {
			t.Fatalf("killed after %d requests, yet manifests exist: %v", n, ms)
		}
	}
	srv := httptest.NewServer(emulator.New(emuCfg))
	defer srv.Close()
	code, stdout, stderr := cli(t, context.Background(), lwEnvOne(srv.URL), "run", "--out", out)
	if code != exitOK {
		t.Fatalf("rerun exit %d\n%s\n%s", code, stdout, stderr)
	}
	ms := manifests(t, out)
	if len(ms) != 1 {
		t.Fatalf("manifests after rerun: %v", ms)
	}
	// Nothing of the killed runs is left beside the pack.
	var leftovers []string
	_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "staging") {
			leftovers = append(leftovers, p)
		}
		return nil
	})
	if len(leftovers) > 0 {
		t.Errorf("staging left behind: %v", leftovers)
	}
	first := filepath.Dir(ms[0])
	before, _ := os.ReadFile(filepath.Join(first, pack.ManifestName))

	// A second run into the same --out is a new pack; the first is untouched.
	// No waiting for the clock's next second: run ids differ in their
	// random part, and two runs within one second are the harder case.
	if code, _, stderr := cli(t, context.Background(), lwEnvOne(srv.URL), "run", "--out", out); code != exitOK {
		t.Fatalf("second run exit %d: %s", code, stderr)
	}
	if ms := manifests(t, out); len(ms) != 2 {
		t.Fatalf("want two packs, got %v", ms)
	}
	after, _ := os.ReadFile(filepath.Join(first, pack.ManifestName))
	if !bytes.Equal(before, after) {
		t.Fatal("the first pack's manifest changed")
	}
	if code, vout, _ := cli(t, context.Background(), nil, "verify", first); code != exitOK {
		t.Fatalf("first pack no longer verifies:\n%s", vout)
	}
}

func TestPlanFetchesNoData(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Config{Forbidden: []string{"acme-dev"}, Recommendations: 8}) // small reports: a probed plan writes scratch packs of them
	srv := httptest.NewServer(emu)
	defer srv.Close()
	code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), "plan", "--probe=false", "--from", time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly))
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"Configs/ComplianceEvaluations/search", "Reports", "UNREACHABLE", "acme-dev", "units, at least"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, stdout)
		}
	}
	for _, r := range emu.Requests() {
		switch {
		case strings.Contains(r.Path, "search"), strings.Contains(r.Path, "AuditLogs"), strings.HasSuffix(r.Path, "/Reports"):
			t.Errorf("plan fetched data: %s %s", r.Method, r.Path)
		}
	}
	// By default it probes: one page per result set, and says so.
	code, stdout, stderr = cli(t, context.Background(), lwEnv(srv.URL), "plan", "--from", time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly))
	if code != exitOK || !strings.Contains(stdout, "REQUESTS (ESTIMATED)") || !strings.Contains(stdout, "(probed)") {
		t.Errorf("probing plan: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// frameworks lists what --framework and --account can name, per tenant,
// and names the sub-accounts discovery could not reach.
func TestFrameworksListsDiscovery(t *testing.T) {
	emu := emulator.New(emulator.Config{Forbidden: []string{"acme-dev"}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), "frameworks", "--from", time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly))
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"TENANT ", "FRAMEWORK", "CIS", "ACCOUNT (<sub-account>/<cloud>:<id>)", "unreachable ", "acme-dev"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("frameworks output lacks %q:\n%s", want, stdout)
		}
	}
	for _, r := range emu.Requests() {
		if strings.Contains(r.Path, "search") || strings.Contains(r.Path, "AuditLogs") {
			t.Errorf("frameworks fetched data: %s %s", r.Method, r.Path)
		}
	}
}

func TestSignedRunAndVerify(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Config{EvaluationsPerDay: 200, InventoryPerCSP: 50, AuditLogsPerDay: 50, Recommendations: 5})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	keys := t.TempDir()
	code, kout, kerr := cli(t, context.Background(), nil, "keygen", "--out", keys)
	fingerprint := regexp.MustCompile(`key (sha256:[0-9a-f]{64})`).FindStringSubmatch(kout)
	if code != exitOK || fingerprint == nil {
		t.Fatalf("keygen %d %s %s", code, kout, kerr)
	}
	if code, _, _ := cli(t, context.Background(), nil, "keygen", "--out", keys); code != exitFailed {
		t.Fatal("keygen overwrote an existing key")
	}
	if st, _ := os.Stat(filepath.Join(keys, "evidence-signing.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", st.Mode())
	}
	out := t.TempDir()
	prom := filepath.Join(t.TempDir(), "evidence.prom")
	code, stdout, stderr := cli(t, context.Background(), lwEnvOne(srv.URL), "run", "--out", out, "--dataset", "reports",
		"--sign-key", filepath.Join(keys, "evidence-signing.key"), "--metrics-file", prom)
	if code != exitOK {
		t.Fatalf("run %d\n%s\n%s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(prom); err != nil || !strings.Contains(string(b), `evidence_last_run_success{tenant="acme"} 1`) ||
		!strings.Contains(string(b), `evidence_last_run_units{result="failed",tenant="acme"} 0`) {
		t.Errorf("metrics textfile: %v\n%s", err, b)
	}
	dir := filepath.Dir(manifests(t, out)[0])
	pub := filepath.Join(keys, "evidence-signing.pub")
	// The pack is named as given; a checked signature is not also "not checked".
	if code, vout, _ := cli(t, context.Background(), nil, "verify", dir); code != exitOK || !strings.Contains(vout, "pack "+dir+": OK") ||
		!strings.Contains(vout, "manifest.sig present, not checked: evidence verify --pub KEY") {
		t.Fatalf("verify: %d\n%s", code, vout)
	}
	if code, vout, _ := cli(t, context.Background(), nil, "verify", "--pub", pub, dir); code != exitOK || !strings.Contains(vout, "signature: OK") ||
		strings.Contains(vout, "not checked") || !strings.Contains(vout, fingerprint[1]) {
		t.Fatalf("verify --pub: %d\n%s", code, vout)
	}
	// The manifest and the pack's own "how to verify" name the key keygen
	// printed; another key is named as another.
	var m pack.Manifest
	if b, err := os.ReadFile(filepath.Join(dir, pack.ManifestName)); err != nil || json.Unmarshal(b, &m) != nil ||
		m.Signature == nil || m.Signature.KeyFingerprint != fingerprint[1] {
		t.Errorf("manifest signature %+v, want key %s", m.Signature, fingerprint[1])
	}
	if txt, err := exec.Command(testtool.Poppler(t, "pdftotext"), filepath.Join(dir, "summary.pdf"), "-").Output(); err != nil ||
		!strings.Contains(strings.Join(strings.Fields(string(txt)), ""), fingerprint[1]) || !strings.Contains(string(txt), "evidence verify .") {
		t.Errorf("summary.pdf does not tell how to verify with key %s (%v):\n%s", fingerprint[1], err, txt)
	}
	other := t.TempDir()
	cli(t, context.Background(), nil, "keygen", "--out", other)
	if code, vout, _ := cli(t, context.Background(), nil, "verify", "--pub", filepath.Join(other, "evidence-signing.pub"), dir); code != exitFailed ||
		!strings.Contains(vout, "the manifest names key "+fingerprint[1]) {
		t.Errorf("verify --pub with another key: %d\n%s", code, vout)
	}
	// Any change to the manifest breaks the signature (and the sums check
	// cannot catch a manifest edit on its own).
	mp := filepath.Join(dir, pack.ManifestName)
	b, _ := os.ReadFile(mp)
	os.WriteFile(mp, bytes.Replace(b, []byte(`"tenant": "acme"`), []byte(`"tenant": "acmf"`), 1), 0o644)
	if code, vout, _ := cli(t, context.Background(), nil, "verify", "--pub", pub, dir); code != exitFailed || !strings.Contains(vout, "signature: FAILED") {
		t.Fatalf("verify --pub after a manifest edit: %d\n%s", code, vout)
	}
}

func TestScheduleRunsAndStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 100, InventoryPerCSP: 20, AuditLogsPerDay: 20, Recommendations: 3}))
	defer srv.Close()
	out := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "evidence.yaml")
	yaml := "output: " + out + "\nschedule: \"@every 1s\"\ndatasets: [reports, audit_logs]\ntenants:\n- name: acme\n  lacework: {account: acme, subaccount: acme, api_url: " + srv.URL + "}\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := scheduleUntilFirstRun(t, lwEnv(srv.URL), "--config", cfgFile, "--grace", "20s")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	ms := manifests(t, out)
	if len(ms) < 1 {
		t.Fatalf("no pack published:\n%s\n%s", stdout, stderr)
	}
	for _, m := range ms {
		if code, vout, _ := cli(t, context.Background(), nil, "verify", filepath.Dir(m)); code != exitOK {
			t.Errorf("%s does not verify:\n%s", m, vout)
		}
	}
}

func TestScheduleCatchesUpMissedDays(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 50, InventoryPerCSP: 10, AuditLogsPerDay: 20, Recommendations: 2}))
	defer srv.Close()
	out := t.TempDir()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	last := today.AddDate(0, 0, -3) // days -3, -2 and -1 have no pack yet
	os.MkdirAll(filepath.Join(out, "acme"), 0o755)
	state := `{"schema":"evidence-state/v1","last_period_end":"` + last.Format(time.RFC3339) + `","audit_watermark":"` + last.Format(time.RFC3339) + `"}`
	os.WriteFile(filepath.Join(out, "acme", "state.json"), []byte(state), 0o644)
	cfgFile := filepath.Join(t.TempDir(), "evidence.yaml")
	yaml := "output: " + out + "\nschedule: \"@every 1s\"\ndatasets: [audit_logs]\ntenants:\n- name: acme\n  lacework: {account: acme, api_url: " + srv.URL + "}\n"
	os.WriteFile(cfgFile, []byte(yaml), 0o600)
	// The first run catches up every missed day.
	code, stdout, stderr := scheduleUntilFirstRun(t, lwEnv(srv.URL), "--config", cfgFile, "--grace", "60s")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	days := map[string]bool{}
	var windows [][2]time.Time
	for _, p := range manifests(t, out) {
		m := readManifest(t, p)
		days[m.Period.Label] = true
		for _, q := range m.Queries {
			if q.SubAccount == "acme" {
				windows = append(windows, [2]time.Time{q.Window.From, q.Window.To})
			}
		}
	}
	for d := last; d.Before(today); d = d.AddDate(0, 0, 1) {
		if !days[d.Format(time.DateOnly)] {
			t.Errorf("no pack for %s (packs for %v)", d.Format(time.DateOnly), days)
		}
	}
	// The audit windows of the catch-up runs join without gap or overlap.
	slices.SortFunc(windows, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	for i := 1; i < len(windows) && i < 3; i++ {
		if !windows[i][0].Equal(windows[i-1][1]) {
			t.Errorf("audit windows %v", windows)
		}
	}
}

// `make demo` runs every platform's emulator and publishes one verifying
// pack per platform, each with its OSCAL document; with --security-lake
// it also writes every platform's results as OCSF in the Security Lake
// layout. (--forbid's partial pack is the faults test's case.) The demo
// runs once, on a real terminal, whose screen is checked too
// (demoOnATerminal); where that check cannot run (no tmux, on a laptop;
// -short) the demo runs in-process, so its packs are still checked.
func TestDemo(t *testing.T) {
	t.Parallel()
	out, sl := filepath.Join(t.TempDir(), "out"), t.TempDir()
	var stdout string // what the demo printed
	t.Run("terminal", func(t *testing.T) {
		if testing.Short() {
			t.Skip("end-to-end")
		}
		stdout = demoOnATerminal(t, 80, out, "--security-lake", sl)
	})
	if len(manifests(t, out)) == 0 {
		var code int
		var stderr string
		code, stdout, stderr = cli(t, context.Background(), nil, "demo", "--out", out, "--log-json", "--security-lake", sl)
		if code != exitOK {
			t.Fatalf("demo: exit %d\n%s\n%s", code, stdout, stderr)
		}
	}
	if n := strings.Count(stdout, "Security Lake: "); n != len(demo.Names()) {
		t.Errorf("%d Security Lake exports for %d platforms:\n%s", n, len(demo.Names()), stdout)
	}
	layout := regexp.MustCompile(`^region=us-east-1/accountId=[0-9]{12}/eventDay=[0-9]{8}/[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}_[A-Za-z0-9._-]+\.parquet$`)
	objects := 0
	_ = filepath.WalkDir(sl, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(sl, p)
		if !layout.MatchString(filepath.ToSlash(rel)) {
			t.Errorf("%s is not in the Security Lake layout", rel)
		}
		objects++
		return nil
	})
	if objects == 0 {
		t.Errorf("nothing in the Security Lake folder")
	}
	var packs []string
	for _, m := range manifests(t, out) {
		packs = append(packs, filepath.Dir(m))
	}
	if len(packs) != len(demo.Names()) {
		t.Fatalf("%d packs for %d platforms: %v", len(packs), len(demo.Names()), packs)
	}
	for _, p := range packs {
		if code, vout, verr := cli(t, context.Background(), nil, "verify", p); code != exitOK {
			t.Errorf("verify %s: exit %d\n%s\n%s", p, code, vout, verr)
		}
		if _, err := os.Stat(filepath.Join(p, filepath.FromSlash(pack.OSCALResults))); err != nil {
			t.Errorf("pack %s: %v", p, err)
		}
	}
	if code, _, _ := cli(t, context.Background(), nil, "demo", "--source", "nope"); code != exitUsage {
		t.Errorf("demo --source nope: exit %d, want %d", code, exitUsage)
	}
}

// --out naming a pack, or a folder inside one, is refused before any
// request (exit 2), naming the pack; the pack is untouched.
func TestOutInsideAPackIsRefused(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer srv.Close()
	out := t.TempDir()
	packDir := filepath.Join(out, "acme", "2026-11-21", "20261122T021500Z-3f9a1c")
	if err := os.MkdirAll(filepath.Join(packDir, "frameworks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(packDir, pack.ManifestName), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{packDir, filepath.Join(packDir, "frameworks"), filepath.Join(packDir, "new", "folder")} {
		code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), "run", "--out", o)
		if code != exitUsage || !strings.Contains(stderr, packDir) || !strings.Contains(stderr, "inside an existing evidence pack") {
			t.Errorf("--out %s: exit %d\nstdout %s\nstderr %s", o, code, stdout, stderr)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if _, err := os.Stat(filepath.Join(packDir, "new")); err == nil {
		t.Error("a folder was created inside the pack")
	}
}

// A signal after one tenant's pack was published says which pack stands
// and which tenant has none, instead of "nothing was published".
func TestInterruptedRunNamesWhatWasPublished(t *testing.T) {
	t.Parallel()
	emuCfg := emulator.Config{EvaluationsPerDay: 50, InventoryPerCSP: 20, AuditLogsPerDay: 20, Recommendations: 3}
	first := httptest.NewServer(emulator.New(emuCfg))
	defer first.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Every tenant is discovered first; the signal comes with the second
	// tenant's third data request, after the first tenant's pack is out.
	second := httptest.NewServer(&countingHandler{h: emulator.New(emuCfg), n: 3, cancel: cancel, data: true})
	defer second.Close()
	cfgFile := filepath.Join(t.TempDir(), "evidence.yaml")
	yaml := fmt.Sprintf(`tenants:
  - name: first
    lacework: {account: acme, subaccount: acme, api_key_env: LW_API_KEY, api_secret_env: LW_API_SECRET, api_url: %q}
  - name: second
    lacework: {account: acme, subaccount: acme, api_key_env: LW_API_KEY, api_secret_env: LW_API_SECRET, api_url: %q}
  - name: third
    lacework: {account: acme, subaccount: acme, api_key_env: LW_API_KEY, api_secret_env: LW_API_SECRET, api_url: %q}
`, first.URL, second.URL, second.URL)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := cli(t, ctx, lwEnv(first.URL), "run", "--config", cfgFile, "--out", out)
	ms := manifests(t, out)
	if code != exitFailed || len(ms) != 1 {
		t.Fatalf("exit %d, manifests %v\nstdout %s\nstderr %s", code, ms, stdout, stderr)
	}
	packDir := filepath.Dir(ms[0])
	for _, want := range []string{"interrupted", "Published", "first: " + packDir, "Not published (2): second, third"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "nothing was published") {
		t.Errorf("stderr says nothing was published:\n%s", stderr)
	}
}

// A period that has not ended is refused before any request, with exit 2,
// and nothing is written: a pack can only cover time that has passed.
func TestFuturePeriodIsRefused(t *testing.T) {
	emu := emulator.New(emulator.Config{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	today := time.Now().UTC().Format(time.DateOnly)
	for _, args := range [][]string{
		{"--from", "2099-01-01"},
		{"--from", today},
		{"--from", "2026-01-01", "--to", "2099-01-01T00:00:00Z"},
	} {
		out := t.TempDir()
		code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), append([]string{"run", "--out", out}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, "ends after now") {
			t.Errorf("%v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%v: wrote %d entries", args, len(entries))
		}
	}
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("%d requests sent for refused periods", n)
	}
}

// A period older than the platform keeps is refused before any request
// (Lacework keeps compliance evaluations 90 days), by run, plan and
// frameworks alike; without evaluations the same period is allowed.
func TestTooOldPeriodIsRefused(t *testing.T) {
	emu := emulator.New(emulator.Config{EvaluationsPerDay: 10, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 2})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	old := time.Now().UTC().AddDate(0, 0, -120).Format(time.DateOnly)
	for _, cmd := range [][]string{{"run", "--out", t.TempDir()}, {"plan", "--probe=false"}} {
		code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), append(cmd, "--from", old)...)
		if code != exitUsage || !strings.Contains(stderr, "keeps compliance evaluations 90 days") {
			t.Errorf("%v: exit %d\n%s\n%s", cmd, code, stdout, stderr)
		}
	}
	if n := len(emu.Requests()); n != 0 {
		t.Errorf("%d requests sent for a refused period", n)
	}
	code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), "frameworks", "--from", old)
	if code != exitOK {
		t.Errorf("frameworks (reports only) refused an old period: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// A --framework or --account that names nothing the tenant has is refused
// with exit 2 before any data is read, with the valid values and the
// nearest one; values that match run as before.
func TestUnmatchedFiltersAreRefused(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Config{EvaluationsPerDay: 10, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 2})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	aws := emu.Tenant().SubAccounts[1].AWS[0].AccountID
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--framework", "nope"}, exitUsage, []string{`--framework "nope" matches nothing`, "CIS Amazon Web Services Foundations Benchmark v1.4.0"}},
		{[]string{"--framework", "AWS SOC2 Report"}, exitUsage, []string{`(nearest: "AWS SOC 2 Report")`}},
		{[]string{"--account", "000000000000", "--framework", "nope"}, exitUsage, []string{`--account "000000000000" matches nothing`, aws, `--framework "nope"`}},
		{[]string{"--account", aws, "--framework", "aws soc 2 report", "--dataset", "reports"}, exitOK, nil},
	} {
		before := len(emu.Requests())
		code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), append([]string{"run", "--out", t.TempDir()}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s\n%s", tc.args, code, tc.code, stdout, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, stderr)
			}
		}
		if tc.code == exitUsage {
			for _, r := range emu.Requests()[before:] {
				if r.PageID != "" || strings.HasSuffix(r.Path, "/Reports") {
					t.Errorf("%v: data requested before the refusal: %s", tc.args, r.Path)
				}
			}
		}
	}
}

// --source names a platform: an unknown one lists them all, with every
// other usage problem in the same message.
func TestUnknownSourceListsPlatforms(t *testing.T) {
	code, _, stderr := cli(t, context.Background(), lwEnv("http://127.0.0.1:1"), "run", "--out", t.TempDir(), "--source", "nope", "--from", "2099-01-01")
	for _, w := range []string{`--source "nope": want one of ibm_scc, lacework, lacework_edge, sophos`, "ends after now"} {
		if code != exitUsage || !strings.Contains(stderr, w) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, w, stderr)
		}
	}
}

// Without ldflags the version comes from Go's build information: the
// module version of `go install …@v1.2.3`, else the VCS revision.
func TestBuildVersion(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		ok      bool
		v, c, d string
	}{
		{"go install at a tag", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, true, "v1.4.0", "", ""},
		{"a checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs}, true, "devel-0123456789ab+dirty", "0123456789ab+dirty", "2026-12-01T10:00:00Z"},
		{"no VCS stamp", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "devel", "", ""},
		{"no build info", nil, false, "devel", "", ""},
	} {
		v, c, d := buildVersion("", "", "", tc.bi, tc.ok)
		if v != tc.v || c != tc.c || d != tc.d {
			t.Errorf("%s: %q %q %q, want %q %q %q", tc.name, v, c, d, tc.v, tc.c, tc.d)
		}
	}
	if v, c, _ := buildVersion("1.5.0", "abc", "", &debug.BuildInfo{Settings: vcs}, true); v != "1.5.0" || c != "abc" {
		t.Errorf("ldflags overridden: %q %q", v, c)
	}
}

// The manifest says how the run was asked for (command line, the
// configuration's SHA-256, the masked key id: never a secret) and, for
// every unit, the API call behind it.
func TestManifestProvenance(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 20, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 2}))
	defer srv.Close()
	cfgFile := filepath.Join(t.TempDir(), "evidence.yaml")
	yaml := fmt.Sprintf("tenants:\n  - name: acme\n    lacework: {account: acme, subaccount: acme, api_key_env: LW_API_KEY, api_secret_env: LW_API_SECRET, api_url: %q}\n", srv.URL)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if code, stdout, stderr := cli(t, context.Background(), lwEnv(srv.URL), "run", "--config", cfgFile, "--out", out); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	m := readManifest(t, manifests(t, out)[0])
	sum := sha256.Sum256([]byte(yaml))
	inv := m.Invocation
	if inv == nil || inv.ConfigSHA256 != hex.EncodeToString(sum[:]) || !strings.Contains(inv.Credential, "…") ||
		strings.Contains(inv.Credential, emulator.DefaultKeyID) || !slices.Contains(inv.CommandLine, "--config") {
		t.Errorf("invocation %+v", inv)
	}
	for _, q := range m.Queries {
		r := q.Request
		if r == nil || r.Method == "" || !strings.HasPrefix(r.Path, "/api/v2/") || len(r.Params) == 0 {
			t.Errorf("query %s %s: request %+v", q.Dataset, q.Account, r)
			continue
		}
		if q.Dataset == "reports" && r.Params["format"] != "json" {
			t.Errorf("report request %+v", r)
		}
	}
	for _, tc := range [][2][]string{
		{{"evidence", "run", "--api-secret", "s3cr3t", "--out", "x"}, {"evidence", "run", "--api-secret", "[redacted]", "--out", "x"}},
		{{"evidence", "run", "--token=abc", "--sign-key", "k.pem"}, {"evidence", "run", "--token=[redacted]", "--sign-key", "k.pem"}},
	} {
		if got := job.RedactArgs(tc[0]); !slices.Equal(got, tc[1]) {
			t.Errorf("RedactArgs(%v) = %v", tc[0], got)
		}
	}
}

// --no-vendor-pdf (or vendor_pdf: false) leaves out Lacework's PDF of each
// report: no PDF request is sent, the pack has no vendor folder and says
// why, and plan counts one Reports request per report instead of two.
func TestNoVendorPDF(t *testing.T) {
	t.Parallel()
	emu := emulator.New(emulator.Config{EvaluationsPerDay: 10, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 3})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	planned := func(args ...string) string {
		code, stdout, stderr := cli(t, context.Background(), lwEnvOne(srv.URL), append([]string{"plan", "--probe=false", "--dataset", "reports"}, args...)...)
		if code != exitOK {
			t.Fatalf("plan %v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		return regexp.MustCompile(`(?m)^\s*Reports\s.*$`).FindString(stdout)
	}
	with, without := planned(), planned("--no-vendor-pdf")
	units := regexp.MustCompile(`\d+`)
	a, b := units.FindAllString(with, 2), units.FindAllString(without, 2)
	if len(a) < 2 || len(b) < 2 || a[0] != b[0] || atoi(a[1]) != 2*atoi(b[1]) || b[1] != b[0] {
		t.Errorf("plan Reports line with the PDF %q, without %q: want the same units, one request each instead of two", with, without)
	}
	out := t.TempDir()
	code, stdout, stderr := cli(t, context.Background(), lwEnvOne(srv.URL), "run", "--out", out, "--dataset", "reports", "--no-vendor-pdf")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, r := range emu.Requests() {
		if strings.Contains(r.RawQuery, "format=pdf") || strings.HasSuffix(r.Path, "/Reports") && !strings.Contains(r.RawQuery, "format=json") {
			t.Errorf("a PDF was asked for: %s?%s", r.Path, r.RawQuery)
		}
	}
	m := readManifest(t, manifests(t, out)[0])
	for _, f := range m.Files {
		if strings.Contains(f.Path, "/vendor/") {
			t.Errorf("vendor file %s", f.Path)
		}
	}
	if !slices.ContainsFunc(m.Scope.Excluded, func(s string) bool { return strings.Contains(s, "--no-vendor-pdf") }) {
		t.Errorf("scope.excluded does not say the vendor PDFs were left out: %q", m.Scope.Excluded)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
