package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
)

// A demo-sized tenant's day: the demo's sub-accounts, frameworks, cloud
// accounts per framework and recommendations per report.
const (
	reportSubs       = 3
	reportFrameworks = 5
	reportAccounts   = 3
	reportControls   = 40
)

// reportRanges are the ranges the period report is measured over, in
// days: a quarter and a year of daily packs, so that its memory is
// measured flat in the number of days, not assumed.
var reportRanges = []int{90, 365}

// BenchmarkPeriodReport makes the period report of a quarter and of a
// year of daily packs (reportRanges), each in its own process, and
// reports each one's peak RSS and peak heap (the largest heap a GC
// started at: GODEBUG=gctrace=1). The packs are built once, directly,
// with pack.Writer and the Parquet writer: a controls table per
// sub-account and framework whose statuses change from day to day; the
// shorter range is the first days of the longer.
func BenchmarkPeriodReport(b *testing.B) {
	days := slices.Max(reportRanges)
	bin := binary(b)
	out := b.TempDir()
	from := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	for i := range days {
		writeDailyPack(b, out, from.AddDate(0, 0, i), i)
	}
	b.Logf("%d daily packs of %d controls each built in %.1f s", days, reportSubs*reportFrameworks*reportAccounts*reportControls, time.Since(start).Seconds())
	peak := map[int]int64{} // peak RSS by range
	for _, n := range reportRanges {
		b.Run(fmt.Sprintf("days=%d", n), func(b *testing.B) {
			for b.Loop() {
				r := runReport(b, bin, out, from, n)
				peak[n] = max(peak[n], r.rss)
				b.ReportMetric(float64(r.rss)/(1<<20), "MiB-peak-RSS")
				b.ReportMetric(float64(r.heap)/(1<<20), "MiB-peak-heap")
				b.ReportMetric(r.wall.Seconds(), "s-wall")
				results.reports = append(results.reports, r)
				if r.rss > 256<<20 {
					b.Errorf("peak RSS %d MiB, over the 256 MiB target", r.rss>>20)
				}
			}
		})
	}
	// Flat in the number of days: the longest range's peak RSS stays
	// within half again the shortest's (the report's own tables and PDF do
	// grow with the days; the packs' rows are never held).
	short, long := slices.Min(reportRanges), slices.Max(reportRanges)
	if peak[short] > 0 && peak[long] > peak[short]*3/2 {
		b.Errorf("peak RSS %d MiB over %d days, %d MiB over %d: memory grows with the number of days", peak[long]>>20, long, peak[short]>>20, short)
	}
}

// reportRun is one measured evidence report.
type reportRun struct {
	days, controls int
	wall           time.Duration
	rss, heap      int64 // peak RSS and peak heap, bytes
}

// runReport runs evidence report over the first days packs from from, in
// its own process, and measures it.
func runReport(b *testing.B, bin, out string, from time.Time, days int) reportRun {
	b.Helper()
	to := from.AddDate(0, 0, days-1).Format(time.DateOnly)
	cmd := exec.Command(bin, "report", "--packs", out, "--out", b.TempDir(), "--tenant", "acme", "--from", from.Format(time.DateOnly), "--to", to, "--sample", "25", "--seed", "1")
	cmd.Env = []string{"HOME=" + b.TempDir(), "TMPDIR=" + b.TempDir(), "GODEBUG=gctrace=1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	hwm := make(chan int64)
	go func() { hwm <- peakRSS(cmd.Process.Pid) }()
	err := cmd.Wait()
	r := reportRun{days: days, controls: reportSubs * reportFrameworks * reportAccounts * reportControls, wall: time.Since(t0), rss: <-hwm}
	if err != nil || !strings.Contains(stdout.String(), fmt.Sprintf("%d days: %d with a pack, 0 gaps", days, days)) {
		b.Fatalf("evidence report: %v\n%s\n%s", err, stdout.String(), tail(stderr.String(), 2000))
	}
	r.heap = peakHeap(stderr.String())
	b.Logf("%s\n%s", r.row(), stdout.String())
	return r
}

// row is the run's row of docs/PERFORMANCE.md's table.
func (r reportRun) row() string {
	return fmt.Sprintf("| %d | %d | %.1f s | %.0f MiB | %.0f MiB |", r.days, r.controls, r.wall.Seconds(), float64(r.rss)/(1<<20), float64(r.heap)/(1<<20))
}

// gcLine is a gctrace line's heap sizes: at start, at end, live (MB).
var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// peakHeap is the largest heap at the start of a GC, from gctrace lines.
func peakHeap(trace string) int64 {
	var peak int64
	for _, m := range gcLine.FindAllStringSubmatch(trace, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		peak = max(peak, n<<20)
	}
	return peak
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// writeDailyPack publishes tenant acme's pack of day d, with its
// latest.json: controls only. Control c of account a fails on day i when
// (c + a + i/7) % 3 == 0, so failures come and go by the week; every
// tenth control fails every day.
func writeDailyPack(b *testing.B, out string, d time.Time, i int) {
	b.Helper()
	ctx := context.Background()
	store, err := local.New(out)
	if err != nil {
		b.Fatal(err)
	}
	label := pack.PeriodLabel(d, d.AddDate(0, 0, 1))
	id := pack.RunID(d.Add(26*time.Hour), strings.NewReader("abc"))
	prefix := pack.PackPrefix("", "acme", label, id)
	w, err := pack.NewWriter(ctx, store, prefix)
	if err != nil {
		b.Fatal(err)
	}
	t := dataset.ControlsTable()
	var frameworks []string
	for s := range reportSubs {
		sub := fmt.Sprintf("acme-%d", s)
		for f := range reportFrameworks {
			fw := fmt.Sprintf("Framework %d", f)
			if s == 0 {
				frameworks = append(frameworks, fw)
			}
			var rows []dataset.Row
			for a := range reportAccounts {
				acct := fmt.Sprintf("%012d", 100000+a)
				for c := range reportControls {
					status := dataset.Compliant
					if (c+a+i/7)%3 == 0 || c%10 == 0 {
						status = dataset.NonCompliant
					}
					ctl := dataset.Control{Framework: fw, Cloud: "AWS", AccountID: acct, ReportTime: d.Add(2 * time.Hour),
						ControlID: fmt.Sprintf("lacework-global-%d", c), Title: fmt.Sprintf("Ensure control %d holds", c), Severity: "High",
						SeverityLevel: 2, Status: status, Assessed: 10}
					rows = append(rows, ctl.Row(dataset.Scope{Source: "lacework", Tenant: "acme", SubAccount: sub}))
				}
			}
			var buf bytes.Buffer
			sink, err := parquet.New(parquet.Options{}).Begin(&buf, t)
			if err == nil {
				err = sink.Write(rows)
			}
			if err == nil {
				err = sink.Close()
			}
			if err != nil {
				b.Fatal(err)
			}
			n := int64(len(rows))
			p := pack.ParquetFile{Table: t.Name, SubAccount: sub, Name: pack.ParquetName("framework="+fw, "")}.Path()
			if _, err := w.Put(ctx, p, &buf, parquet.MediaType, &n); err != nil {
				b.Fatal(err)
			}
		}
	}
	m := pack.Manifest{PackID: id, Tenant: "acme", Source: pack.Source{System: "lacework", BaseURL: "https://acme.lacework.net"},
		Period: pack.Period{From: d, To: d.AddDate(0, 0, 1), Label: label}, GeneratedAt: d.Add(26 * time.Hour),
		Generator: pack.Generator{Name: "evidence", Version: "bench"}, Scope: pack.Scope{Frameworks: frameworks, Datasets: []string{dataset.Reports}}}
	if err := w.Publish(ctx, m); err != nil {
		b.Fatal(err)
	}
	pub := w.Link()
	l, err := json.Marshal(job.Latest{Schema: "evidence-latest/v1", PackID: id, Path: prefix, GeneratedAt: m.GeneratedAt, Complete: true,
		ManifestSHA256: pub.ManifestSHA256})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.Put(ctx, pack.LatestPath("", "acme", label), bytes.NewReader(l), storage.PutOptions{}); err != nil {
		b.Fatal(err)
	}
}
