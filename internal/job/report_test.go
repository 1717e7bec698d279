package job_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/testtool"
)

// malformedReport is a report whose second control cannot be decoded: every
// read of it yields one control, then the error, as a spooled Lacework
// report with one malformed recommendation does.
type malformedReport struct{ bad bool }

func (m malformedReport) AccountAlias() string  { return "alias" }
func (m malformedReport) ReportTime() time.Time { return now }
func (m malformedReport) Controls() iter.Seq2[source.Control, error] {
	return func(yield func(source.Control, error) bool) {
		if !yield(source.Control{ID: "c1", Title: "One", Severity: "High", SeverityRank: 2, Status: "NonCompliant",
			Violations: []source.Violation{{Region: "eu", Resource: "r1"}}}, nil) {
			return
		}
		if m.bad {
			yield(source.Control{}, errors.New("recommendation 2: json: cannot unmarshal number into Go struct field .SEVERITY of type string"))
			return
		}
		yield(source.Control{ID: "c2", Title: "Two", Severity: "Low", SeverityRank: 4, Status: "Compliant"}, nil)
	}
}
func (m malformedReport) Vendor(context.Context) (io.ReadCloser, string, error) { return nil, "", nil }
func (m malformedReport) Close() error                                          { return nil }

// One malformed report fails its own unit: the pack is published, the
// other report of the framework is complete, and the pack verifies.
func TestMalformedReportFailsOnlyItsUnit(t *testing.T) {
	t.Parallel()
	fetch := func(bad bool) func(context.Context) (source.Report, error) {
		return func(context.Context) (source.Report, error) { return malformedReport{bad: bad}, nil }
	}
	plan := &source.Plan{SubAccounts: []string{"s"}, Frameworks: []source.Framework{{Name: "CIS", Cloud: "AWS", Units: []source.ReportUnit{
		{SubAccount: "s", Account: "111", Cloud: "AWS", Fetch: fetch(false)},
		{SubAccount: "s", Account: "222", Cloud: "AWS", Fetch: fetch(true)},
	}}}}
	res, store, err := runFake(t, plan)
	if err != nil {
		t.Fatalf("err = %v: one malformed report must not fail the tenant", err)
	}
	m := res.Packs[0].Manifest
	if len(m.Failures) != 1 || m.Failures[0].Account != "222" || !strings.Contains(m.Failures[0].Error, "recommendation 2") || m.Failures[0].RowsBeforeError != 1 {
		t.Fatalf("failures %+v, want account 222's, after 1 control", m.Failures)
	}
	for _, q := range m.Queries {
		if q.Complete != (q.Account == "111") {
			t.Errorf("query %+v: only account 111's is complete", q)
		}
	}
	rep, err := pack.Verify(context.Background(), store, res.Packs[0].Prefix)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep.Problems)
	}
	for _, f := range m.Files {
		if f.Path == "frameworks/CIS/evidence.xlsx" && (f.Rows == nil || *f.Rows != 5) {
			t.Errorf("workbook rows %v, want 3 controls and 2 violations", f.Rows)
		}
	}
}

// A table unit records the API's own row count; received rows that differ
// from it leave the unit incomplete, with both numbers in its failure.
func TestAnnouncedRows(t *testing.T) {
	rows := func(announced int) func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
		return func(_ context.Context, st *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
			return func(yield func(dataset.Record, error) bool) {
				st.Pages, st.Queries, st.Announced, st.HasAnnounced = 1, 1, announced, true
				st.Parts = []httpx.Part{{From: now.Add(-time.Hour), To: now, Rows: 2, Announced: announced, HasAnnounced: true}}
				for _, id := range []string{"r1", "r2"} {
					if !yield(dataset.Resource{ResourceID: id}, nil) {
						return
					}
				}
			}
		}
	}
	plan := &source.Plan{SubAccounts: []string{"a", "b"}, Tables: []source.TableUnit{
		{Table: "inventory", SubAccount: "a", Rows: rows(2)},
		{Table: "inventory", SubAccount: "b", Rows: rows(3)},
	}}
	reg := source.Registry{"fake": func(context.Context, config.Tenant, source.Env) (source.Source, error) {
		return fakeSource{plan: plan}, nil
	}}
	cfg := &config.Config{Output: "mem", Concurrency: 1, Datasets: dataset.Names(),
		Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
	res, err := job.Run(context.Background(), cfg, job.Deps{Sources: reg, Store: memstore.New(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Packs[0].Manifest
	for _, q := range m.Queries {
		want := map[string]int64{"a": 2, "b": 3}[q.SubAccount]
		if q.AnnouncedRows == nil || *q.AnnouncedRows != want || q.Rows != 2 || q.Complete != (q.SubAccount == "a") {
			t.Errorf("query %+v (announced %v): want announced %d, 2 rows, complete only for a", q, q.AnnouncedRows, want)
		}
		// Each result set is listed with its rows and the API's count.
		if len(q.Parts) != 1 || q.Parts[0].Rows != 2 || q.Parts[0].AnnouncedRows == nil || *q.Parts[0].AnnouncedRows != want ||
			!q.Parts[0].Window.To.Equal(now) {
			t.Errorf("parts %+v: want one window of 2 rows, announced %d", q.Parts, want)
		}
	}
	if len(m.Failures) != 1 || m.Failures[0].SubAccount != "b" || !strings.Contains(m.Failures[0].Error, "announced 3 rows, 2 were received") {
		t.Errorf("failures %+v", m.Failures)
	}
}

// Sub-accounts whose names clean up alike ("acme prod", "acme_prod", two
// names in a script the cleaning drops) each get their own folders; the
// tenant is not aborted.
func TestSubAccountsSharingAFolderNameGetTheirOwn(t *testing.T) {
	t.Parallel()
	rows := func(context.Context, *httpx.QueryStats) iter.Seq2[dataset.Record, error] {
		return func(yield func(dataset.Record, error) bool) { yield(dataset.Resource{ResourceID: "r1"}, nil) }
	}
	subs := []string{"acme prod", "acme_prod", "東京", "大阪"}
	plan := &source.Plan{SubAccounts: subs}
	fw := source.Framework{Name: "CIS"}
	for _, s := range subs {
		plan.Tables = append(plan.Tables, source.TableUnit{Table: "inventory", SubAccount: s, Rows: rows})
		fw.Units = append(fw.Units, source.ReportUnit{SubAccount: s, Account: "111", Cloud: "AWS",
			Fetch: func(context.Context) (source.Report, error) { return malformedReport{}, nil }})
	}
	plan.Frameworks = []source.Framework{fw}
	reg := source.Registry{"fake": func(context.Context, config.Tenant, source.Env) (source.Source, error) {
		return fakeSource{plan: plan}, nil
	}}
	cfg := &config.Config{Output: "mem", Concurrency: 2, Datasets: dataset.Names(),
		Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
	res, err := job.Run(context.Background(), cfg, job.Deps{Sources: reg, Store: memstore.New(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Packs[0].Manifest
	if len(m.Failures) > 0 {
		t.Fatalf("failures %+v", m.Failures)
	}
	dirs := map[string]map[string]bool{} // table → account= folders
	for _, f := range m.Files {
		parts := strings.Split(f.Path, "/")
		if parts[0] != "parquet" {
			continue
		}
		for _, p := range parts {
			if strings.HasPrefix(p, "account=") {
				if dirs[parts[1]] == nil {
					dirs[parts[1]] = map[string]bool{}
				}
				dirs[parts[1]][p] = true
			}
		}
	}
	for _, table := range []string{"inventory", "controls", "violations"} {
		if len(dirs[table]) != len(subs) {
			t.Errorf("%s: folders %v, want one per sub-account", table, dirs[table])
		}
	}
}

// failingOnlySource is a platform that reports failing rules only.
type failingOnlySource struct{ fakeSource }

func (failingOnlySource) Info() source.Info {
	return source.Info{System: "fake", API: "Fake API", FailingOnly: true}
}

// A platform that reports failing rules only (Sophos Cloud Optix) gets no
// compliance percentage, in the PDFs and the workbook alike, but a plain
// "not applicable" with the reason; other platforms state the formula.
func TestFailingOnlyPlatformHasNoCompliancePercentage(t *testing.T) {
	t.Parallel()
	for _, failingOnly := range []bool{true, false} {
		t.Run(fmt.Sprintf("failing-only=%v", failingOnly), func(t *testing.T) {
			plan := &source.Plan{SubAccounts: []string{"s"}, Frameworks: []source.Framework{{Name: "CIS", Cloud: "AWS", Units: []source.ReportUnit{
				{SubAccount: "s", Account: "111", Cloud: "AWS", Fetch: func(context.Context) (source.Report, error) { return malformedReport{}, nil }},
			}}}}
			var src source.Source = fakeSource{plan: plan}
			if failingOnly {
				src = failingOnlySource{fakeSource{plan: plan}}
			}
			dir, _ := runLocal(t, src, []string{dataset.Reports})
			var pdfText, xlsxText string
			for k, v := range packTexts(t, dir) {
				switch {
				case strings.HasSuffix(k, "summary.pdf (pdftotext)"), strings.HasSuffix(k, "evidence.pdf (pdftotext)"):
					pdfText += v
				case strings.Contains(k, "evidence.xlsx!"):
					xlsxText += v
				}
			}
			const na = "not applicable: the platform reports failing rules only"
			if failingOnly {
				if !strings.Contains(strings.Join(strings.Fields(pdfText), " "), na) || !strings.Contains(xlsxText, na) {
					t.Errorf("no %q in the PDFs or the workbook", na)
				}
				if strings.Contains(pdfText, "50.0%") {
					t.Error("a compliance percentage is printed for a failing-only platform")
				}
			} else if !strings.Contains(pdfText, "50.0%") || !strings.Contains(strings.Join(strings.Fields(pdfText), " "), "Compliance = compliant / (compliant + non-compliant)") {
				t.Error("the percentage or its formula is missing")
			}
			// Reports are point-in-time: the time of each account's report
			// is printed, in the PDFs and the workbook.
			at := now.UTC().Format("2006-01-02 15:04 UTC")
			flat := strings.Join(strings.Fields(pdfText), " ")
			// The fake report is stamped at the period's (exclusive) end.
			for _, want := range []string{"point-in-time assessment at " + at + " (the platform's latest report when the pack was made; it lies outside the period",
				"assessed " + at, "point-in-time assessments"} {
				if !strings.Contains(flat, want) {
					t.Errorf("the PDFs lack %q", want)
				}
			}
			if !strings.Contains(xlsxText, "Assessed at (UTC): s/111") || !strings.Contains(xlsxText, "point-in-time assessment at "+at) {
				t.Error("the workbook lacks the assessment time")
			}
		})
	}
}

// The manifest's scope lists the datasets the pack holds; what was asked
// for and is not there is listed as excluded, with the reason; warnings
// are on page 1 of summary.pdf with the failures.
func TestScopeAndWarningsWherePeopleRead(t *testing.T) {
	t.Parallel()
	const warn = "audit logs: the platform has no audit log API; none collected"
	plan := &source.Plan{SubAccounts: []string{"s"}, Warnings: []string{warn},
		Tables: []source.TableUnit{{Table: "inventory", SubAccount: "s", Rows: quickRows}}}
	dir, res := runLocal(t, fakeSource{plan: plan}, dataset.Names())
	sc := res.Packs[0].Manifest.Scope
	if !slices.Equal(sc.Datasets, []string{"inventory"}) || len(sc.Excluded) != 3 || !slices.Contains(sc.Excluded, "audit_logs: "+warn) {
		t.Errorf("scope %+v", sc)
	}
	pdftotext := testtool.Poppler(t, "pdftotext")
	var summary string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "summary.pdf" {
			summary = p
		}
		return nil
	})
	page1, err := exec.Command(pdftotext, "-f", "1", "-l", "1", summary, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if flat := strings.Join(strings.Fields(string(page1)), " "); !strings.Contains(flat, warn) {
		t.Errorf("page 1 of summary.pdf lacks the warning:\n%s", page1)
	}
}

// A framework with a failed report says, wherever its figures are printed,
// that they cover the reports collected only.
func TestPartialFiguresSaySo(t *testing.T) {
	t.Parallel()
	fetch := func(bad bool) func(context.Context) (source.Report, error) {
		return func(context.Context) (source.Report, error) { return malformedReport{bad: bad}, nil }
	}
	plan := &source.Plan{SubAccounts: []string{"s"}, Frameworks: []source.Framework{{Name: "CIS", Cloud: "AWS", Units: []source.ReportUnit{
		{SubAccount: "s", Account: "111", Cloud: "AWS", Fetch: fetch(false)},
		{SubAccount: "s", Account: "222", Cloud: "AWS", Fetch: fetch(true)},
	}}}}
	dir, _ := runLocal(t, fakeSource{plan: plan}, []string{dataset.Reports})
	const want = "partial: 1 of 2 reports collected (1 failed)"
	var pdfs, book string
	for k, v := range packTexts(t, dir) {
		switch {
		case strings.HasSuffix(k, ".pdf (pdftotext)"):
			pdfs += strings.Join(strings.Fields(v), " ")
		case strings.Contains(k, "evidence.xlsx!"):
			book += v
		}
	}
	if !strings.Contains(strings.ToLower(pdfs), want) || !strings.Contains(pdfs, "(partial)") || !strings.Contains(book, want) {
		t.Errorf("the PDFs or the workbook do not say the figures are partial")
	}
}

// runLocal runs one tenant of src over the last hour into a local folder,
// returning the folder and the result.
func runLocal(t *testing.T, src source.Source, datasets []string) (string, job.Result) {
	t.Helper()
	reg := source.Registry{"fake": func(context.Context, config.Tenant, source.Env) (source.Source, error) { return src, nil }}
	dir := t.TempDir()
	store, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Output: dir, Concurrency: 1, Datasets: datasets,
		Tenants: []config.Tenant{{Name: "t", Source: "fake"}}, Period: period.Window{From: now.Add(-time.Hour), To: now}}
	res, err := job.Run(context.Background(), cfg, job.Deps{Sources: reg, Store: store, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

// caveatReport is a report that says its figures need a warning.
type caveatReport struct {
	malformedReport
	caveats []string
}

func (c caveatReport) Caveats() []string { return c.caveats }

// A report's caveats (an empty review that must not read as a pass) are
// warnings of the run: in the manifest, beside the figures.
func TestReportCaveatsAreWarnings(t *testing.T) {
	t.Parallel()
	const caveat = "No access object found: nothing was reviewed (not a pass)"
	tests := []struct {
		name string
		rep  source.Report
		want bool
	}{
		{"with a caveat", caveatReport{caveats: []string{caveat}}, true},
		{"without", malformedReport{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := &source.Plan{SubAccounts: []string{"s"}, Frameworks: []source.Framework{{Name: "Access review", Units: []source.ReportUnit{
				{SubAccount: "s", Account: "s", Fetch: func(context.Context) (source.Report, error) { return tc.rep, nil }},
			}}}}
			_, res := runLocal(t, fakeSource{plan: plan}, []string{dataset.Reports})
			got := strings.Join(res.Packs[0].Manifest.Warnings, "\n")
			if strings.Contains(got, caveat) != tc.want {
				t.Errorf("warnings %q", got)
			}
		})
	}
}
