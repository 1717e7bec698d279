package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/collect/lacework/emulator"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
	"github.com/evidence-pack/evidence/internal/testtool"
)

// The period report of daily packs, in a folder and on S3 (versitygw):
// its compliance per day, days failing per control and gaps agree with
// counts made here straight from the daily packs' Parquet (the newest pack
// of each day, found by listing, not through latest.json); a day never run
// and a day whose pack was deleted are gaps; the sample is the same for
// the same seed and another for another; the report pack verifies.
func TestPeriodReport(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	srv := httptest.NewServer(emulator.New(emulator.Config{EvaluationsPerDay: 10, InventoryPerCSP: 5, AuditLogsPerDay: 5, Recommendations: 12}))
	defer srv.Close()
	gw := s3Env(t)
	days := make([]string, 5)
	for i := range days {
		days[i] = time.Now().UTC().AddDate(0, 0, i-7).Format(time.DateOnly)
	}
	for _, out := range []string{t.TempDir(), "s3://" + gw.Bucket(t, false) + "/packs"} {
		t.Run(strings.SplitN(out, ":", 2)[0], func(t *testing.T) {
			ev := func(args ...string) (int, string, string) {
				if strings.HasPrefix(out, "s3://") {
					args = append([]string{args[0], "--s3-endpoint", gw.Endpoint}, args[1:]...)
				}
				return cli(t, context.Background(), lwEnvOne(srv.URL), args...)
			}
			// Days 0 to 3 run, day 1 twice (the rerun supersedes), day 4 never.
			for _, d := range []string{days[0], days[1], days[2], days[3], days[1]} {
				// Two frameworks, each its own series.
				if code, stdout, stderr := ev("run", "--out", out, "--dataset", "reports", "--framework", "AWS_CIS_14", "--framework", "AWS_PCI_DSS_3.2.1",
					"--from", d, "--to", d); code != exitOK {
					t.Fatalf("run %s: exit %d\n%s\n%s", d, code, stdout, stderr)
				}
			}
			store, err := openLocation(context.Background(), out, gw.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			// Day 2's pack deleted: latest.json names a pack that is gone.
			storetest.DeletePrefix(t, store, newestPack(t, store, days[2]))

			report := func(seed string) (string, map[string]int) {
				t.Helper()
				code, stdout, stderr := ev("report", "--packs", out, "--tenant", "acme", "--from", days[0], "--to", days[4], "--sample", "2", "--seed", seed)
				if code != exitOK {
					t.Fatalf("report: exit %d\n%s\n%s", code, stdout, stderr)
				}
				m := regexp.MustCompile(`report (\S+): `).FindStringSubmatch(stdout)
				if m == nil || !strings.Contains(stdout, "5 days: 3 with a pack, 2 gaps") {
					t.Fatalf("report said:\n%s", stdout)
				}
				prefix := strings.TrimPrefix(strings.TrimPrefix(m[1], strings.TrimRight(out, "/")), "/")
				sample := map[string]int{}
				for _, r := range tableRows[struct {
					Day   *time.Time `parquet:"day,optional,timestamp(millisecond)"`
					Order *int64     `parquet:"sample_order,optional"`
				}](t, store, prefix, dataset.ReportDays) {
					if r.Order != nil {
						sample[r.Day.UTC().Format(time.DateOnly)] = int(*r.Order)
					}
				}
				if code, vout, verr := ev("verify", m[1]); code != exitOK {
					t.Fatalf("verify %s: exit %d\n%s\n%s", m[1], code, vout, verr)
				}
				return prefix, sample
			}
			prefix, sample := report("7")

			// What the daily packs say, read here.
			want := map[string]map[string]dayCounts{} // framework → day → counts
			failing := map[string][]string{}          // control → days failing
			for _, d := range []string{days[0], days[1], days[3]} {
				p := newestPack(t, store, d)
				for _, r := range tableRows[struct {
					Sub    *string `parquet:"sub_account,optional"`
					Fw     *string `parquet:"framework,optional"`
					Acct   *string `parquet:"account_id,optional"`
					Ctl    *string `parquet:"control_id,optional"`
					Status *string `parquet:"status,optional"`
				}](t, store, p, dataset.Controls) {
					if want[*r.Fw] == nil {
						want[*r.Fw] = map[string]dayCounts{}
					}
					c := want[*r.Fw][d]
					switch *r.Status {
					case "Compliant":
						c.c++
					case "NonCompliant":
						c.n++
						k := *r.Sub + "|" + *r.Fw + "|" + *r.Acct + "|" + *r.Ctl
						failing[k] = append(failing[k], d)
					}
					want[*r.Fw][d] = c
				}
			}
			if len(want) == 0 || len(failing) == 0 {
				t.Fatalf("the daily packs hold %d frameworks, %d failing controls: nothing to check", len(want), len(failing))
			}
			daily := tableRows[struct {
				Fw   *string    `parquet:"framework,optional"`
				Day  *time.Time `parquet:"day,optional,timestamp(millisecond)"`
				C    *int64     `parquet:"compliant,optional"`
				N    *int64     `parquet:"non_compliant,optional"`
				Pct  *float64   `parquet:"compliance_pct,optional"`
				Gap  *bool      `parquet:"gap,optional"`
				Pack *string    `parquet:"pack_id,optional"`
			}](t, store, prefix, dataset.ReportDaily)
			if len(daily) != len(want)*len(days) {
				t.Errorf("%d daily rows, want %d frameworks × %d days", len(daily), len(want), len(days))
			}
			for _, r := range daily {
				d := r.Day.UTC().Format(time.DateOnly)
				w, ok := want[*r.Fw][d]
				gap := d == days[2] || d == days[4]
				switch {
				case gap != *r.Gap:
					t.Errorf("%s %s: gap %v, want %v", *r.Fw, d, *r.Gap, gap)
				case gap:
					if r.Pct != nil || r.C != nil || r.Pack != nil {
						t.Errorf("%s %s: a gap with figures", *r.Fw, d)
					}
				case !ok:
					t.Errorf("%s %s: not in the daily pack", *r.Fw, d)
				case *r.C != w.c || *r.N != w.n:
					t.Errorf("%s %s: %d compliant, %d non-compliant; the pack has %d, %d", *r.Fw, d, *r.C, *r.N, w.c, w.n)
				case w.c+w.n > 0 && (r.Pct == nil || *r.Pct != 100*float64(w.c)/float64(w.c+w.n)):
					t.Errorf("%s %s: compliance %v, the pack's controls give %v", *r.Fw, d, r.Pct, 100*float64(w.c)/float64(w.c+w.n))
				}
			}
			controls := tableRows[struct {
				Sub   *string    `parquet:"sub_account,optional"`
				Fw    *string    `parquet:"framework,optional"`
				Acct  *string    `parquet:"account_id,optional"`
				Ctl   *string    `parquet:"control_id,optional"`
				First *time.Time `parquet:"first_failed,optional,timestamp(millisecond)"`
				Last  *time.Time `parquet:"last_failed,optional,timestamp(millisecond)"`
				Days  *int64     `parquet:"days_failing,optional"`
				Whole *bool      `parquet:"whole_period,optional"`
			}](t, store, prefix, dataset.ReportControls)
			if len(controls) != len(failing) {
				t.Errorf("%d controls failed at some time; the packs have %d", len(controls), len(failing))
			}
			for _, c := range controls {
				k := *c.Sub + "|" + *c.Fw + "|" + *c.Acct + "|" + *c.Ctl
				f := failing[k]
				if len(f) == 0 || int(*c.Days) != len(f) || c.First.UTC().Format(time.DateOnly) != f[0] ||
					c.Last.UTC().Format(time.DateOnly) != f[len(f)-1] || *c.Whole != (len(f) == 3) {
					t.Errorf("%s: %d days failing, %v to %v, whole %v; the packs: %v", k, *c.Days, c.First, c.Last, *c.Whole, f)
				}
			}

			// report.xlsx, read by openpyxl, agrees with the same figures,
			// and names each day's pack by the SHA-256 of its manifest.json,
			// hashed here.
			shas := map[string]string{}
			for _, d := range []string{days[0], days[1], days[3]} {
				sum := sha256.Sum256(storetest.Get(t, store, newestPack(t, store, d)+"/"+pack.ManifestName))
				shas[d] = hex.EncodeToString(sum[:])
			}
			t.Run("openpyxl", func(t *testing.T) {
				reportWorkbookAgrees(t, storetest.Get(t, store, prefix+"/"+pack.ReportWorkbook), days, want, failing, shas)
			})

			// The sample: two of the three days with a pack, the same again
			// for the same seed, another for another.
			if len(sample) != 2 {
				t.Errorf("sample %v", sample)
			}
			for d := range sample {
				if d == days[2] || d == days[4] {
					t.Errorf("sampled %s, a gap", d)
				}
			}
			if _, again := report("7"); !equalMaps(again, sample) {
				t.Errorf("seed 7 drew %v, then %v", sample, again)
			}
			if _, other := report("8"); equalMaps(other, sample) {
				t.Errorf("seeds 7 and 8 drew the same %v", sample)
			}
			// The report pack is a pack beside the tenants, not in the
			// tenant's chain.
			if !strings.HasPrefix(prefix, "_reports/acme/"+days[0]+"_"+days[4]+"/") {
				t.Errorf("report at %s", prefix)
			}
			if code, stdout, _ := ev("verify", "--chain", strings.TrimRight(out, "/")+"/acme"); strings.Contains(stdout, "_reports") {
				t.Errorf("verify --chain of the tenant sees the report: exit %d\n%s", code, stdout)
			}
		})
	}
}

// dayCounts are a framework's controls of one day's pack: compliant and
// non-compliant.
type dayCounts struct{ c, n int64 }

// reportWorkbookAgrees reads a period report's workbook (its bytes) with
// openpyxl and checks it against what the test read from the daily packs
// itself: each framework's counts and compliance per day (days without
// an entry in shas are gaps), each failing control's days and first and
// last failing day, and each day's pack's manifest SHA-256.
func reportWorkbookAgrees(t *testing.T, xlsx []byte, days []string, want map[string]map[string]dayCounts, failing map[string][]string, shas map[string]string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), pack.ReportWorkbook)
	if err := os.WriteFile(file, xlsx, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testtool.Python(t), "testdata/xlsx_sheets.py", file).Output()
	if err != nil {
		t.Fatalf("openpyxl: %v", err)
	}
	var sheets map[string][]map[string]any
	if err := json.Unmarshal(out, &sheets); err != nil {
		t.Fatal(err)
	}
	str := func(v any) string {
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	num := func(v any) (float64, bool) { f, ok := v.(float64); return f, ok }
	day := func(v any) string { return strings.SplitN(str(v), "T", 2)[0] }

	daily := sheets[dataset.ReportDaily]
	if len(daily) != len(want)*len(days) {
		t.Errorf("openpyxl: %s has %d rows, want %d frameworks × %d days", dataset.ReportDaily, len(daily), len(want), len(days))
	}
	for _, r := range daily {
		fw, d := str(r["Framework"]), day(r["Day (UTC)"])
		w, ok := want[fw][d]
		_, packed := shas[d]
		c, cok := num(r["Compliant"])
		n, nok := num(r["Non-compliant"])
		pct, pok := num(r["Compliance %"])
		switch {
		case r["Gap"] != !packed:
			t.Errorf("openpyxl: %s %s: gap %v, want %v", fw, d, r["Gap"], !packed)
		case !packed:
			if cok || pok {
				t.Errorf("openpyxl: %s %s: a gap with figures %v", fw, d, r)
			}
		case !ok:
			t.Errorf("openpyxl: %s %s: not in the daily pack", fw, d)
		case !cok || !nok || int64(c) != w.c || int64(n) != w.n:
			t.Errorf("openpyxl: %s %s: %v compliant, %v non-compliant; the pack has %d, %d", fw, d, r["Compliant"], r["Non-compliant"], w.c, w.n)
		case w.c+w.n > 0 && (!pok || math.Abs(pct-100*float64(w.c)/float64(w.c+w.n)) > 1e-9):
			t.Errorf("openpyxl: %s %s: compliance %v, the pack's controls give %v", fw, d, r["Compliance %"], 100*float64(w.c)/float64(w.c+w.n))
		}
	}
	controls := sheets[dataset.ReportControls]
	if len(controls) != len(failing) {
		t.Errorf("openpyxl: %s has %d controls; the packs have %d failing at some time", dataset.ReportControls, len(controls), len(failing))
	}
	for _, r := range controls {
		k := str(r["Sub-account"]) + "|" + str(r["Framework"]) + "|" + str(r["Cloud account"]) + "|" + str(r["Control"])
		f := failing[k]
		if n, _ := num(r["Days failing"]); len(f) == 0 || int(n) != len(f) || day(r["First failed (UTC)"]) != f[0] || day(r["Last failed (UTC)"]) != f[len(f)-1] {
			t.Errorf("openpyxl: %s: %v days failing, %v to %v; the packs: %v", k, r["Days failing"], r["First failed (UTC)"], r["Last failed (UTC)"], f)
		}
	}
	population := sheets[dataset.ReportDays]
	if len(population) != len(days) {
		t.Errorf("openpyxl: %s has %d rows, want %d days", dataset.ReportDays, len(population), len(days))
	}
	for _, r := range population {
		d := day(r["Day (UTC)"])
		if got, want := str(r["manifest.json SHA-256"]), shas[d]; got != want || (want == "") != (r["Gap"] != nil) {
			t.Errorf("openpyxl: %s: manifest SHA-256 %q, gap %v; the day's pack's manifest.json has %q", d, got, r["Gap"], want)
		}
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// newestPack is the newest pack of the tenant acme's day, by listing the
// day's folder: the run id with a manifest.json that sorts last.
func newestPack(t *testing.T, s storage.Store, day string) string {
	t.Helper()
	var runs []string
	_ = s.List(context.Background(), "acme/"+day+"/", func(o storage.Object) error {
		if path.Base(o.Key) == pack.ManifestName {
			runs = append(runs, path.Dir(o.Key))
		}
		return nil
	})
	if len(runs) == 0 {
		t.Fatalf("no pack of %s", day)
	}
	return slices.Max(runs)
}

// tableRows reads every row of a table's Parquet files under prefix (a
// daily pack's parquet/<table>/, or a report's tables/<table>.parquet).
func tableRows[T any](t *testing.T, s storage.Store, prefix, table string) []T {
	t.Helper()
	var keys []string
	_ = s.List(context.Background(), prefix+"/", func(o storage.Object) error {
		if strings.HasPrefix(o.Key, prefix+"/parquet/"+table+"/") || o.Key == prefix+"/tables/"+table+".parquet" {
			keys = append(keys, o.Key)
		}
		return nil
	})
	if len(keys) == 0 {
		t.Fatalf("no %s table under %s", table, prefix)
	}
	var out []T
	for _, k := range keys {
		b := storetest.Get(t, s, k)
		rows, err := pq.Read[T](bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out = append(out, rows...)
	}
	return out
}

// Impossible reports are refused with exit 2 before any pack is read,
// every problem listed, and nothing is written.
func TestReportRefused(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "acme", "2026-01-01"), 0o755); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	base := []string{"report", "--packs", out, "--tenant", "acme"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"from after to", append(base, "--from", "2026-03-02", "--to", "2026-03-01"), []string{"--from 2026-03-02 is after --to 2026-03-01"}},
		{"no such tenant", []string{"report", "--packs", out, "--tenant", "globex", "--from", "2026-03-01", "--to", "2026-03-02"}, []string{`no folder globex/ (tenant "globex")`}},
		{"sample without seed", append(base, "--from", "2026-03-01", "--to", "2026-03-31", "--sample", "5"), []string{"--sample without --seed"}},
		{"seed without sample", append(base, "--from", "2026-03-01", "--to", "2026-03-31", "--seed", "5"), []string{"--seed without --sample"}},
		{"a larger sample than days", append(base, "--from", "2026-03-01", "--to", "2026-03-03", "--sample", "4", "--seed", "1"), []string{"--sample 4: the period has 3 days"}},
		{"a day not over", append(base, "--from", "2026-03-01", "--to", today), []string{"--to " + today + ": the day is not over yet"}},
		{"times, not days", append(base, "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-02"), []string{`--from: "2026-03-01T00:00:00Z" is not a date`}},
		{"nothing given", []string{"report"}, []string{"--tenant:", "--from: a date", "--to: a date", "--packs:"}},
		{"every problem at once", []string{"report", "--packs", filepath.Join(out, "nowhere"), "--tenant", "acme", "--from", "2026-03-02", "--to", "2026-03-01",
			"--sample", "2", "--sign-key", filepath.Join(out, "no.key")},
			[]string{"is after --to", "--sample without --seed", "--packs " + filepath.Join(out, "nowhere") + ": not a directory", "--sign-key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, context.Background(), nil, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s\n%s", code, exitUsage, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "_reports")); err == nil {
				t.Errorf("a refused report wrote %s", filepath.Join(out, "_reports"))
			}
		})
	}
}
