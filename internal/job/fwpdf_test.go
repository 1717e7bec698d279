package job_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/testtool"
	"github.com/parquet-go/parquet-go"
)

// fwTables is what a framework's Parquet files hold, for checking its PDF.
type fwTables struct {
	controls     map[string]bool  // control ids
	requirements map[string]bool  // requirement ids
	failing      map[string]bool  // control ids non-compliant in some account
	violations   map[string]int64 // violation rows by control id
	status       map[string]int64 // control results by status
}

// The framework PDF's appendix lists every control of the framework's
// controls table; for each failing control with more resources than it
// lists, "and N more" names the workbook's real sheet and column, and N
// plus the resources listed is the control's rows of the violations table
// (and of that sheet, filtered so); the appendix's header repeats on each
// of its pages; the cover's compliance percentage is the glossary's
// formula applied to the controls table; requirement ids are listed where
// the platform gives them (IBM SCC) and said to be absent elsewhere
// (Lacework).
func TestFrameworkPDFAppendix(t *testing.T) {
	t.Parallel()
	pdftotext := testtool.Poppler(t, "pdftotext")
	type packCase struct {
		name         string
		run          func(t *testing.T) (job.Result, *memstore.Store)
		requirements bool
		spill        bool // the Resources sheet continues on "Resources (2)", ...
	}
	scc := func(maxSheetRows int) func(t *testing.T) (job.Result, *memstore.Store) {
		return func(t *testing.T) (job.Result, *memstore.Store) {
			tenant, env := sourceCases[1].start(t)
			day := now.Truncate(24 * time.Hour)
			cfg := &config.Config{Output: "mem", Concurrency: 2, Datasets: []string{dataset.Reports}, Tenants: []config.Tenant{tenant},
				Period: period.Window{From: day.Add(-24 * time.Hour), To: day}}
			store := memstore.New()
			res, err := job.Run(context.Background(), cfg, job.Deps{Sources: testSources, Store: store, Getenv: func(k string) string { return env[k] },
				Now: func() time.Time { return now }, MaxSheetRows: maxSheetRows})
			if err != nil {
				t.Fatal(err)
			}
			return res, store
		}
	}
	multiPage := 0
	t.Cleanup(func() {
		if !t.Failed() && multiPage == 0 {
			t.Error("no appendix spans two pages: the repeated header was not checked")
		}
	})
	for _, pc := range []packCase{
		{"lacework", func(t *testing.T) (job.Result, *memstore.Store) {
			g := golden.get(t)[0]
			return g.res, g.store
		}, false, false},
		{"ibm_scc", scc(0), true, false},
		// A workbook whose sheets hold 40 rows: the pointers name every
		// sheet of the table, and the rows filtered on them add up.
		{"ibm_scc, sheets of 40 rows", scc(40), true, true},
	} {
		t.Run(pc.name, func(t *testing.T) {
			res, store := pc.run(t)
			p := res.Packs[0]
			read := func(key string) []byte { return storeBytes(t, store, p.Prefix+"/"+key) }
			fws := map[string]*fwTables{}
			fw := func(file string) *fwTables {
				slug := strings.TrimSuffix(strings.TrimPrefix(path.Base(file), "framework-"), ".parquet")
				if fws[slug] == nil {
					fws[slug] = &fwTables{controls: map[string]bool{}, requirements: map[string]bool{}, failing: map[string]bool{},
						violations: map[string]int64{}, status: map[string]int64{}}
				}
				return fws[slug]
			}
			for _, f := range p.Manifest.Files {
				switch {
				case strings.HasPrefix(f.Path, "parquet/controls/"):
					b := read(f.Path)
					rows, err := parquet.Read[struct {
						ControlID   string  `parquet:"control_id,optional"`
						Requirement *string `parquet:"requirement_id,optional"`
						Status      string  `parquet:"status,optional"`
					}](bytes.NewReader(b), int64(len(b)))
					if err != nil {
						t.Fatal(err)
					}
					ft := fw(f.Path)
					for _, r := range rows {
						ft.controls[r.ControlID] = true
						ft.status[r.Status]++
						if r.Status == string(dataset.NonCompliant) {
							ft.failing[r.ControlID] = true
						}
						if r.Requirement != nil {
							ft.requirements[*r.Requirement] = true
						}
					}
				case strings.HasPrefix(f.Path, "parquet/violations/"):
					b := read(f.Path)
					rows, err := parquet.Read[struct {
						ControlID string `parquet:"control_id,optional"`
					}](bytes.NewReader(b), int64(len(b)))
					if err != nil {
						t.Fatal(err)
					}
					ft := fw(f.Path)
					for _, r := range rows {
						ft.violations[r.ControlID]++
					}
				}
			}
			if len(fws) == 0 {
				t.Fatal("no framework in the pack")
			}
			for slug, ft := range fws {
				pdfPath := "frameworks/" + slug + "/evidence.pdf"
				file := filepath.Join(t.TempDir(), "evidence.pdf")
				if err := os.WriteFile(file, read(pdfPath), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(pdftotext, file, "-").Output()
				if err != nil {
					t.Fatalf("pdftotext %s: %v", pdfPath, err)
				}
				pages := strings.Split(string(out), "\f")
				flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
				text := flat(string(out))
				a, b := strings.Index(text, "Appendix A: every control"), strings.Index(text, "Appendix B: controls per requirement")
				if a < 0 || b < a {
					t.Fatalf("%s: no appendices A and B", pdfPath)
				}
				appendix, appendixB := text[a:b], text[b:]
				// Every control, as many as the controls table has.
				if want := fmt.Sprintf("%d controls: every control_id of the framework's controls table", len(ft.controls)); !strings.Contains(appendix, want) {
					t.Errorf("%s: appendix does not say %q", pdfPath, want)
				}
				for id := range ft.controls {
					if !strings.Contains(appendix, id+" ") {
						t.Errorf("%s: control %s is not in the appendix", pdfPath, id)
					}
				}
				// "and N more" reconciles with the violations table and the
				// workbook's sheet, filtered as it says.
				more := regexp.MustCompile(`; and (\d+) more: (\S+), sheets? (.+?), filter (\S+) = (\S+)`)
				// A failing control's resources may go on on the next page:
				// read them without the pages' footers, repeated headers and
				// "(continued)" lines between.
				lay, err := exec.Command(pdftotext, "-layout", file, "-").Output()
				if err != nil {
					t.Fatalf("pdftotext -layout %s: %v", pdfPath, err)
				}
				var body []string
				for _, l := range strings.Split(string(lay), "\n") {
					l = strings.TrimSpace(strings.Trim(l, "\f"))
					if !strings.HasPrefix(l, "evidence pack ") && !strings.Contains(l, "Requirement / section") && !strings.HasPrefix(l, "(accounts)") &&
						!strings.HasSuffix(l, "(continued)") {
						body = append(body, l)
					}
				}
				matches := more.FindAllStringSubmatch(flat(strings.Join(body, "\n")), -1)
				wantMore := 0
				for id := range ft.failing {
					if ft.violations[id] > 5 {
						wantMore++
					}
				}
				if len(matches) != wantMore {
					t.Errorf("%s: %d \"and N more\" lines, want one per failing control with more than 5 resources: %d", pdfPath, len(matches), wantMore)
				}
				// The workbook's Resources sheets, read once: every pointer
				// is checked against the same rows.
				var table []string                   // the sheets of the Resources table
				sheetRows := map[string][][]string{} // their rows
				if len(matches) > 0 {
					x := openWorkbook(t, store, p.Prefix+"/frameworks/"+slug+"/evidence.xlsx")
					for _, sh := range x.GetSheetList() {
						if sh == "Resources" || strings.HasPrefix(sh, "Resources (") {
							table = append(table, sh)
							rows, err := x.GetRows(sh)
							if err != nil || len(rows) == 0 {
								t.Fatalf("%s: sheet %q: %d rows, %v", pdfPath, sh, len(rows), err)
							}
							sheetRows[sh] = rows
						}
					}
					_ = x.Close()
				}
				spilled := 0
				for _, m := range matches {
					n, book, named, column, id := m[1], m[2], m[3], m[4], m[5]
					sheets := regexp.MustCompile(`, | and `).Split(named, -1)
					if len(sheets) > 1 {
						spilled++
					}
					if book != "frameworks/"+slug+"/evidence.xlsx" || !ft.failing[id] {
						t.Errorf("%s: %q names another workbook, or no failing control", pdfPath, m[0])
					}
					got, _ := strconv.ParseInt(n, 10, 64)
					if got+5 != ft.violations[id] {
						t.Errorf("%s: control %s: 5 listed and %d more, the violations table has %d rows", pdfPath, id, got, ft.violations[id])
					}
					// The sheets named are every sheet of the table.
					if strings.Join(sheets, "|") != strings.Join(table, "|") {
						t.Errorf("%s: %q names sheets %q, the workbook's Resources sheets are %q", pdfPath, m[0], sheets, table)
						continue
					}
					var filtered int64
					for _, sheet := range sheets {
						rows := sheetRows[sheet]
						col := -1
						for i, h := range rows[0] {
							if h == column {
								col = i
							}
						}
						if col < 0 {
							t.Fatalf("%s: sheet %s has no column %q: %v", pdfPath, sheet, column, rows[0])
						}
						for _, r := range rows[1:] {
							if col < len(r) && r[col] == id {
								filtered++
							}
						}
					}
					if filtered != ft.violations[id] {
						t.Errorf("%s: sheets %q filtered on %s = %s have %d rows, the violations table %d", pdfPath, sheets, column, id, filtered, ft.violations[id])
					}
				}
				if pc.spill != (spilled > 0) {
					t.Errorf("%s: %d of %d pointers name several sheets; want some: %v", pdfPath, spilled, len(matches), pc.spill)
				}
				// The header repeats on every page the appendix spans.
				first, last := -1, -1
				for i, pg := range pages {
					if strings.Contains(flat(pg), "Appendix A: every control") {
						first = i
					}
					if strings.Contains(flat(pg), "Appendix B: controls per requirement") {
						last = i
					}
				}
				for i := first; i <= last; i++ {
					pg := flat(pages[i])
					if i == last { // the appendix's rows on the page of appendix B, if any
						pg, _, _ = strings.Cut(pg, "Appendix B: controls per requirement")
						rows := false
						for id := range ft.controls {
							rows = rows || strings.Contains(pg, id+" ")
						}
						if !rows {
							continue
						}
					}
					if !strings.Contains(pg, "Requirement / section") || !strings.Contains(pg, "(accounts)") {
						t.Errorf("%s: page %d of the appendix has no header", pdfPath, i+1)
					}
				}
				if last > first {
					multiPage++
				}
				// The cover's percentage is the glossary's formula on the
				// controls table.
				c, nc := ft.status[string(dataset.Compliant)], ft.status[string(dataset.NonCompliant)]
				if c+nc > 0 {
					if want := fmt.Sprintf("Result: Compliance %.1f%%.", 100*float64(c)/float64(c+nc)); !strings.Contains(flat(pages[0]), want) {
						t.Errorf("%s: page 1 lacks %q", pdfPath, want)
					}
				}
				if !strings.Contains(text, "Compliance percentage = 100 × Compliant / (Compliant + Non-compliant) control results, rounded to one decimal") {
					t.Errorf("%s: the glossary does not give the formula", pdfPath)
				}
				// Requirement ids where the platform gives them, and only there.
				if pc.requirements {
					if len(ft.requirements) == 0 {
						t.Errorf("%s: no requirement_id in the controls table", pdfPath)
					}
					if want := fmt.Sprintf("%d requirements of the framework", len(ft.requirements)); !strings.Contains(appendixB, want) {
						t.Errorf("%s: appendix B does not say %q", pdfPath, want)
					}
				} else {
					if len(ft.requirements) > 0 {
						t.Errorf("%s: requirement ids %v in the controls table of a platform that gives none", pdfPath, ft.requirements)
					}
					if !strings.Contains(appendixB, "None: the platform's reports give no requirement id") {
						t.Errorf("%s: appendix B does not say there are no requirement ids", pdfPath)
					}
				}
			}
		})
	}
}

// summary.pdf's Data collected table is short, one row per dataset,
// sub-account and framework, whose units, pages and rows add up the
// manifest's queries; no name is broken inside a word.
func TestSummaryDataCollected(t *testing.T) {
	t.Parallel()
	g := golden.get(t)[0]
	p := g.res.Packs[0]
	rc, err := g.store.Get(context.Background(), p.Prefix+"/summary.pdf")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	file := filepath.Join(t.TempDir(), "summary.pdf")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testtool.Poppler(t, "pdftotext"), "-layout", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	a := strings.Index(text, "Data collected")
	z := strings.Index(text, "Appendix: files and SHA-256 checksums")
	if a < 0 || z < a {
		t.Fatal("no Data collected section before the appendix")
	}
	section := text[a:z]
	type key struct{ dataset, sub, framework string }
	units, rows := map[key]int{}, map[key]int64{}
	for _, q := range p.Manifest.Queries {
		k := key{q.Dataset, q.SubAccount, q.Framework}
		units[k]++
		rows[k] += q.Rows
	}
	if want := fmt.Sprintf("%d units", len(p.Manifest.Queries)); !strings.Contains(section, want) {
		t.Errorf("the section does not say %q", want)
	}
	// Each group is one line of the layout text: dataset, sub-account,
	// (framework…), units, pages, rows, state.
	lines := 0
	for _, l := range strings.Split(section, "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || (f[len(f)-1] != "complete" && f[len(f)-1] != "FAILED") {
			continue
		}
		lines++
		k := key{dataset: f[0], sub: f[1]}
		if k.dataset == dataset.Reports {
			// The framework's first line: a long name wraps in its column.
			start, _, _ := strings.Cut(strings.Join(f[2:len(f)-4], " "), " · ")
			for q := range units {
				if q.dataset == k.dataset && q.sub == k.sub && start != "" && strings.HasPrefix(q.framework, start) {
					k.framework = q.framework
				}
			}
		}
		u, r := f[len(f)-4], f[len(f)-2]
		if units[k] == 0 || u != fmt.Sprint(units[k]) || r != fmt.Sprint(rows[k]) {
			t.Errorf("line %q: %+v has %d units and %d rows in the manifest", l, k, units[k], rows[k])
		}
	}
	if lines != len(units) {
		t.Errorf("%d lines, want one per dataset, sub-account and framework: %d", lines, len(units))
	}
	if len(units) >= len(p.Manifest.Queries) {
		t.Errorf("%d groups for %d queries: the table is not shorter", len(units), len(p.Manifest.Queries))
	}
}
