package bench

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/pack"
)

var (
	scalesFlag = flag.String("scales", "500000,2000000", "evaluation rows of the end-to-end runs, comma separated")
	repeatFlag = flag.Int("repeat", 3, "end-to-end runs per scale, each followed by its floors: the figures are their medians")
	perfOut    = flag.String("perf-out", "", "write the results as Markdown to this `file` (docs/PERFORMANCE.md)")
)

// results collects what the benchmarks measured, for -perf-out.
var results = &perf{}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if *perfOut != "" && code == 0 {
		if err := results.write(*perfOut); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// binary builds cmd/evidence once per benchmark run: the end-to-end runs
// measure the real program in its own process, so its peak RSS is ours
// alone (the emulator runs in the benchmark's process).
func binary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "evidence")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/evidence-pack/evidence/cmd/evidence")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build evidence: %v\n%s", err, out)
	}
	return bin
}

var benchNow = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// scaled is an emulated tenant holding evalRows ComplianceEvaluations rows
// for the day before benchNow (2 sub-accounts × 4 datasets), plus a fifth
// as many inventory and a tenth as many audit-log rows.
func scaled(evalRows int) emulator.Config {
	return emulator.Config{Seed: 7, Now: func() time.Time { return benchNow },
		EvaluationsPerDay: evalRows / 8, InventoryPerCSP: evalRows / 30, AuditLogsPerDay: evalRows / 20, Recommendations: 40}
}

// runResult is one end-to-end run.
type runResult struct {
	Name          string
	EvalRows      int
	Rows          int64
	Wall          time.Duration
	PeakRSS       int64         // bytes
	CPU           time.Duration // user + system time of the evidence process
	Bytes         int64
	Requests      int
	MinRequests   int
	Files         int
	XLSXRows      int64 // rows the run wrote into workbooks
	RetryAfterBad int
	Pack          string  // the pack's folder (removed once measured)
	Floors        []floor // measured right after the run (BenchmarkRun)
}

// floorCPU is the sum of the run's floors' CPU time.
func (r runResult) floorCPU() time.Duration {
	var d time.Duration
	for _, f := range r.Floors {
		d += f.CPU
	}
	return d
}

// slowest is the floor that took the longest wall time.
func (r runResult) slowest() floor {
	var s floor
	for _, f := range r.Floors {
		if f.Wall > s.Wall {
			s = f
		}
	}
	return s
}

func BenchmarkRun(b *testing.B) {
	bin := binary(b)
	for _, s := range strings.Split(*scalesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("-scales %q: %v", s, err)
		}
		b.Run("evaluations="+s, func(b *testing.B) {
			var runs []runResult
			for b.Loop() {
				runs = runs[:0]
				for range max(*repeatFlag, 1) {
					pages := b.TempDir()
					// The emulator serves the run from this process: its CPU
					// (and the pages' tee) shares the machine's cores with the
					// run's, so the wall time of a run depends on it too.
					c0, load := cpuNow(), loadAverage()
					r, _ := runUnder(b, nil, bin, n, teePages(pages))
					served := cpuNow() - c0
					fl, err := runFloors(r.Pack, pages)
					if err != nil {
						b.Fatal(err)
					}
					r.Floors = fl
					// Hundreds of MiB each at 500k rows: not kept for the
					// next run.
					_ = os.RemoveAll(pages)
					_ = os.RemoveAll(r.Pack)
					b.Logf("%s: %.1f CPU-s, %.1f s wall, emulator %.1f CPU-s, load %s at the start, %s after the floors; floors %s", r.Name, r.CPU.Seconds(), r.Wall.Seconds(),
						served.Seconds(), load, loadAverage(), floorsText(r.Floors))
					runs = append(runs, r)
				}
			}
			results.ratios = append(results.ratios, runs...)
			r := medianRun(runs)
			b.ReportMetric(float64(r.Rows)/r.Wall.Seconds(), "rows/s")
			b.ReportMetric(float64(r.PeakRSS)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(r.CPU.Seconds(), "cpu-s")
			for _, f := range r.Floors {
				b.ReportMetric(f.CPU.Seconds(), f.Name+"-floor-cpu-s")
			}
			var cpu, wall []float64
			for _, r := range runs {
				cpu, wall = append(cpu, r.cpuRatio()), append(wall, r.wallRatio())
			}
			b.ReportMetric(median(cpu), "cpu/floors")
			b.ReportMetric(median(wall), "wall/slowest-floor")
			b.ReportMetric(float64(r.Bytes)/(1<<20), "written-MiB")
			b.ReportMetric(float64(r.Requests), "requests")
			b.ReportMetric(float64(r.Requests)/float64(r.MinRequests), "requests/min")
			results.add(r)
		})
	}
}

// runOnce runs the program against the emulator, served through wrap when
// it is set (a hostile server in front of it).
// BenchmarkHostilePages: pages as large as a server may make them. Every
// compliance-evaluation row gets a padding field of -pad-kib KiB (unknown
// to the client, skipped while decoding), so each 5,000-row page is about
// 250 MiB, under the 512 MiB spool limit. Pages are spooled to disk and
// decoded one row at a time: peak RSS must stay at the normal run's.
func BenchmarkHostilePages(b *testing.B) {
	bin := binary(b)
	const n = 40_000 // 5,000 rows (one full page) per result set
	pad := strings.Repeat("x", *padKiB<<10)
	wrap := func(emu http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/ComplianceEvaluations/search") {
				emu.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			emu.ServeHTTP(rec, r)
			var page map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				w.Write(rec.Body.Bytes())
				return
			}
			rows, _ := page["data"].([]any)
			for _, row := range rows {
				if m, ok := row.(map[string]any); ok {
					m["padding"] = pad
				}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(page)
		})
	}
	var r runResult
	for b.Loop() {
		r = runOnce(b, bin, n, wrap)
	}
	r.Name = fmt.Sprintf("evidence run, %s evaluations in pages padded to %d MiB (hostile)", human(n), (5000**padKiB)>>10)
	b.ReportMetric(float64(r.PeakRSS)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(r.Wall.Seconds(), "wall-s")
	results.add(r)
}

var padKiB = flag.Int("pad-kib", 50, "KiB of padding per row in BenchmarkHostilePages")

func runOnce(b *testing.B, bin string, n int, wrap func(http.Handler) http.Handler) runResult {
	b.Helper()
	r, _ := runUnder(b, nil, bin, n, wrap)
	return r
}

// runUnder is runOnce with the program started by the command prefix (a
// profiler; nil: none), also returning what the program (and the prefix)
// printed.
func runUnder(b *testing.B, prefix []string, bin string, n int, wrap func(http.Handler) http.Handler) (runResult, string) {
	b.Helper()
	emu := emulator.New(scaled(n))
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	out := b.TempDir()
	args := append(append(slices.Clone(prefix), bin), "run", "--out", out, "--from", "2026-11-20", "--log-json", "--log-level", "warn")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = []string{"HOME=" + b.TempDir(), "TMPDIR=" + b.TempDir(), "LW_ACCOUNT=" + emulator.DefaultAccount,
		"LW_API_KEY=" + emulator.DefaultKeyID, "LW_API_SECRET=" + emulator.DefaultSecret, "LW_API_URL=" + srv.URL}
	if len(prefix) > 0 {
		// Valgrind 3.19 cannot follow Go's preemption signals (SIGURG:
		// callgrind stops on an assertion) nor run RDTSCP (the runtime's
		// cputicks: SIGILL). Without them the program runs the same code,
		// switching goroutines only where they block, and reading the
		// time stamp counter with RDTSC. One P: with two, how much the
		// scheduler spins and the collector marks depends on timing, and
		// two counts of the same run were 3 to 7 % apart (1 % with one).
		cmd.Env = append(cmd.Env, "GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off", "GOMAXPROCS=1")
	}
	var outb strings.Builder
	cmd.Stdout, cmd.Stderr = &outb, &outb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	// The child's own high-water mark: rusage's maxrss would also count the
	// benchmark process, whose memory the child shares until it execs.
	hwm := make(chan int64)
	go func() { hwm <- peakRSS(cmd.Process.Pid) }()
	err := cmd.Wait()
	wall := time.Since(start)
	peak := <-hwm
	if err != nil {
		b.Fatalf("evidence run: %v\n%s", err, outb.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	m, dir := manifest(b, out)
	r := runResult{Pack: dir, Name: fmt.Sprintf("evidence run, %s evaluations", human(n)), EvalRows: n, Wall: wall, Rows: m.Stats.Rows,
		Files: len(m.Files), Requests: len(emu.Requests()), MinRequests: minRequests(emu, m), RetryAfterBad: len(emu.Violations())}
	r.PeakRSS = peak
	if ru != nil {
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, f := range m.Files {
		r.Bytes += f.Size
		if strings.HasSuffix(f.Path, ".xlsx") && f.Rows != nil {
			r.XLSXRows += *f.Rows
		}
	}
	if len(m.Failures) > 0 {
		b.Fatalf("run had failures: %+v", m.Failures)
	}
	return r, outb.String()
}

// section writes a results section: its title, an optional intro
// paragraph, an optional table header, then lines, each a line.
func section(sb *strings.Builder, title, intro, header string, lines []string) {
	sb.WriteString("## " + title + "\n\n")
	if intro != "" {
		sb.WriteString(intro + "\n\n")
	}
	if header != "" {
		sb.WriteString(header + "\n")
	}
	for _, l := range lines {
		sb.WriteString(l + "\n")
	}
	sb.WriteString("\n")
}

// peakRSS polls /proc/<pid>/status until the process ends and returns the
// last VmHWM (peak resident set, monotonic) it read, in bytes.
func peakRSS(pid int) int64 {
	var peak int64
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return peak
		}
		var kb int64
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kb, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
		if kb == 0 { // a zombie: the process has ended
			return peak
		}
		peak = max(peak, kb<<10)
		time.Sleep(20 * time.Millisecond)
	}
}

// manifest finds the one pack under dir and returns its manifest and
// folder.
func manifest(b *testing.B, dir string) (pack.Manifest, string) {
	b.Helper()
	var found []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "manifest.json" {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		b.Fatalf("want one manifest under %s, found %v", dir, found)
	}
	f, err := os.Open(found[0])
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	m, err := pack.DecodeManifest(f)
	if err != nil {
		b.Fatal(err)
	}
	return m, filepath.Dir(found[0])
}

// minRequests is the least a client can send for what the run collected:
// one token, the discovery requests, one request per report and its PDF,
// and ⌈rows/page⌉ (at least one) per result set.
func minRequests(emu *emulator.Server, m pack.Manifest) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.PageID == "" && !strings.Contains(r.Path, "/Reports") && !strings.HasSuffix(r.Path, "/search") && !strings.Contains(r.Path, "/AuditLogs") {
			n++ // token and discovery: needed whatever the data
		}
	}
	page := emulator.DefaultPageSize
	for _, q := range m.Queries {
		if q.Dataset == "reports" {
			n += 2
			continue
		}
		n += max(1, int((q.Rows+int64(page)-1)/int64(page)))
	}
	return n
}

func human(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// perf is the results table of docs/PERFORMANCE.md.
type perf struct {
	runs    []runResult
	formats []string
	limited []string
	pooled  []string    // BenchmarkPooledKeys, a row per number of keys
	reports []reportRun // BenchmarkPeriodReport's runs, shortest range first
	instr   []string    // BenchmarkInstructions: a row per run, then the cost of a row
	ratios  []runResult // BenchmarkRun's runs, each with its floors
	rawXLSX float64     // rows/s of excelize alone (BenchmarkFormats), 0 if not run
	ourXLSX float64     // rows/s of our XLSX writer alone
}

func (p *perf) add(r runResult) { p.runs = append(p.runs, r) }

func (p *perf) write(path string) error {
	if len(p.runs)+len(p.ratios)+len(p.formats)+len(p.limited)+len(p.pooled)+len(p.reports)+len(p.instr) == 0 {
		return nil
	}
	var sb strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&sb, "# Performance\n\nWritten by `make bench` (`go test -bench . ./internal/bench -perf-out docs/PERFORMANCE.md`) on %s.\n\n",
		time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&sb, "Machine: %s, %s/%s, %d CPUs (GOMAXPROCS %d), %s. Host %q.\n\n", cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), host)
	if len(p.formats) > 0 {
		section(&sb, "Writers against their raw libraries (same rows, same run)", "", "| writer | rows | rows/s | file bytes |\n|---|---:|---:|---:|", p.formats)
		sb.WriteString("`fpdf-raw` and `json=decode-raw` are floors with no row writer of ours beside them: the pack's PDFs hold summaries, not rows, and decoding the API's pages is part of every collector.\n\n")
	}
	if len(p.runs) > 0 {
		sb.WriteString("## `evidence run` end to end against the emulator (no rate limit)\n\n")
		sb.WriteString("The program runs in its own process (peak RSS is its own); the emulator serves from the benchmark's process on loopback.\n\n")
		sb.WriteString("| run | rows | wall | CPU (ours) | rows/s | peak RSS | written | requests | minimum | ratio | files |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range p.runs {
			fmt.Fprintf(&sb, "| %s | %d | %.1f s | %.1f s | %.0f | %.0f MiB | %.1f MiB | %d | %d | %.3f | %d |\n", r.Name, r.Rows, r.Wall.Seconds(),
				r.CPU.Seconds(), float64(r.Rows)/r.Wall.Seconds(), float64(r.PeakRSS)/(1<<20), float64(r.Bytes)/(1<<20), r.Requests, r.MinRequests,
				float64(r.Requests)/float64(r.MinRequests), r.Files)
		}
		sb.WriteString("\n")
		if p.rawXLSX > 0 {
			sb.WriteString("Against the slowest raw writer: excelize's StreamWriter alone, at its measured rate above, writing as many rows as the run put into workbooks; and against our own XLSX writer alone, likewise.\n\n")
			sb.WriteString("| run | rows in workbooks | excelize alone | our XLSX writer alone | run wall | ratio to excelize | ratio to our writer |\n|---|---:|---:|---:|---:|---:|---:|\n")
			for _, r := range p.runs {
				raw, ours := float64(r.XLSXRows)/p.rawXLSX, float64(r.XLSXRows)/p.ourXLSX
				fmt.Fprintf(&sb, "| %s | %d | %.1f s | %.1f s | %.1f s | %.2f | %.2f |\n", r.Name, r.XLSXRows, raw, ours, r.Wall.Seconds(),
					r.Wall.Seconds()/raw, r.Wall.Seconds()/ours)
			}
			sb.WriteString("\n")
		}
	}
	if len(p.ratios) > 0 {
		section(&sb, "CPU-seconds against the floors (same rows, same run)",
			"Each end-to-end run is followed, in the benchmark's process, by its floors: encoding/json decoding every data page and report the emulator served it with 200 (one json.Unmarshal per page into the client's row types; an answer the run drops unread, as an audit-log day that fills a page, is decoded too), excelize's StreamWriter writing every row of its workbooks' tables (typed cells, a workbook per table, zipped), and parquet-go writing every row of its Parquet files (their schemas, zstd, the same row groups), the rows read back from the pack's Parquet files outside the measured time. CPU is user + system time (getrusage): the program's own process, and this process's around each floor. The ratios are the run's CPU over the sum of its floors' (target 1.3) and its wall time over the slowest floor's (target 1.2); the median row takes the median of each column, and of each run's ratios.",
			"| run | rows | CPU (ours) | json floor | xlsx floor | parquet floor | floors | CPU ÷ floors | wall | slowest floor (wall) | wall ÷ slowest | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
			floorLines(p.ratios))
	}
	if len(p.instr) > 0 {
		section(&sb, "Instructions executed (valgrind --tool=callgrind)",
			"The same run at two sizes, counted by callgrind, the program on one P and without asynchronous preemption (which valgrind cannot follow): two counts of a run were within about 1 % of each other, where its CPU-seconds vary by tens of percent with the machine's load. The last row is the difference over the rows between the runs: a row's cost without the run's fixed costs.",
			"| run | rows | instructions |\n|---|---:|---:|", p.instr)
	}
	if len(p.limited) > 0 {
		section(&sb, "Rate-limited run (480 requests per window, scaled down in time)", "", "", p.limited)
	}
	if len(p.pooled) > 0 {
		section(&sb, fmt.Sprintf("Pooled API keys (%d more AWS accounts × 5 AWS frameworks, reports only, %d requests per key and bucket per window)", poolAccounts, rateBudget),
			fmt.Sprintf("`evidence run` runs in its own process (peak RSS and CPU are its own), against the emulator served by the benchmark. Each key's window is %s × the keys, so that the keys together may send %d requests a second in every run. The limit is what the busiest key's share of the Reports bucket needs beyond its burst at its budget; the plan is job.MakePlan from the same configuration file, probed (as `evidence plan` is by default); the tail is the time from the last Reports request to the program's end; the load is the machine's 1-minute load average as the run starts (2 CPUs).", poolKeyWindow, rateBudget/int(poolKeyWindow/time.Second)),
			"| keys | window | requests | wall | physical limit | share of the limit | requests during a Retry-After | plan's duration | tail | CPU | peak RSS | load | reports per key |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|", p.pooled)
	}
	if len(p.reports) > 0 {
		sb.WriteString("## `evidence report` over a quarter and a year of daily packs\n\n")
		sb.WriteString("The program runs in its own process, as shipped (its default 200 MiB soft memory limit), once per range over the same packs (the quarter is the year's first days); peak heap is the largest heap a GC started at (GODEBUG=gctrace=1).\n\n")
		sb.WriteString("| days (daily packs) | controls per pack | wall | peak RSS | peak heap |\n|---:|---:|---:|---:|---:|\n")
		for _, r := range p.reports {
			sb.WriteString(r.row() + "\n")
		}
		if first, last := p.reports[0], p.reports[len(p.reports)-1]; last.days > first.days {
			fmt.Fprintf(&sb, "\nFrom %d to %d days (%.1f× the packs), peak RSS changed by %+.0f MiB and peak heap by %+.0f MiB.\n",
				first.days, last.days, float64(last.days)/float64(first.days), float64(last.rss-first.rss)/(1<<20), float64(last.heap-first.heap)/(1<<20))
		}
		sb.WriteString("\n")
	}
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
