package job_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/evidence-pack/evidence/internal/config"
	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/testtool"
)

// Every workbook of a pack opens with the same overview sheet, and every
// sheet prints landscape, one page wide, its header row on each page, with
// the pack's id in the footer; a framework workbook's compliance
// percentage is a number in a percent format, and its key sheets lead with
// the control.
func TestWorkbooksReadAndPrintAlike(t *testing.T) {
	t.Parallel()
	run := golden.get(t)[0]
	p := run.res.Packs[0]
	checkPaper(t, run.store, p, reportgen.A4)
	books := 0
	for _, f := range p.Manifest.Files {
		if !strings.HasSuffix(f.Path, ".xlsx") {
			continue
		}
		books++
		t.Run(f.Path, func(t *testing.T) {
			x := openWorkbook(t, run.store, p.Prefix+"/"+f.Path)
			defer x.Close()
			sheets := x.GetSheetList()
			if len(sheets) < 2 || sheets[0] != xlsx.SummarySheet {
				t.Fatalf("sheets %q: want %q first, then data", sheets, xlsx.SummarySheet)
			}
			setups := sheetSetups(t, run.store, p.Prefix+"/"+f.Path)
			for _, sh := range sheets {
				su := setups[sh]
				if su.PageSetup.Orientation != "landscape" || su.PageSetup.FitToWidth != "1" || su.PageSetup.FitToHeight != "0" {
					t.Errorf("%s: page setup %+v, want landscape, one page wide", sh, su.PageSetup)
				}
				if sh == "Controls" && !hasPrintArea(x.GetDefinedName(), sh, "!$A$1:$") {
					t.Errorf("%s: no print area of its key columns among %+v", sh, x.GetDefinedName())
				}
				if footer := su.HeaderFooter.OddFooter; !strings.Contains(footer, "Pack "+p.Manifest.PackID) || !strings.Contains(footer, "&P of &N") {
					t.Errorf("%s: footer %q: want the pack id and page number", sh, footer)
				}
				if n := x.GetDefinedName(); !hasPrintTitles(n, sh) {
					t.Errorf("%s: no print titles among %+v", sh, n)
				}
			}
			if !strings.HasPrefix(f.Path, "frameworks/") {
				return
			}
			for _, sh := range []string{"Controls", "Resources", "Exceptions"} {
				if v := setups[sh].A1; v != "Control" {
					t.Errorf("%s: first column %q, want Control", sh, v)
				}
			}
			rows, _ := x.GetRows(xlsx.SummarySheet)
			for i, r := range rows {
				if len(r) < 2 || !strings.HasPrefix(r[0], "Compliance % (") {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(2, i+1)
				raw, _ := x.GetCellValue(xlsx.SummarySheet, cell, excelize.Options{RawCellValue: true})
				id, _ := x.GetCellStyle(xlsx.SummarySheet, cell)
				st, _ := x.GetStyle(id)
				if !strings.HasPrefix(raw, "0.") && raw != "1" && raw != "0" || st == nil || st.CustomNumFmt == nil || *st.CustomNumFmt != xlsx.PercentFormat {
					t.Errorf("%s = %q (shown %q, style %+v): want a fraction in %q", r[0], raw, r[1], st, xlsx.PercentFormat)
				}
			}
		})
	}
	if books < 4 {
		t.Errorf("%d workbooks", books)
	}
}

func hasPrintArea(names []excelize.DefinedName, sheet, prefix string) bool {
	for _, n := range names {
		if n.Name == "_xlnm.Print_Area" && n.Scope == sheet && strings.Contains(n.RefersTo, prefix) {
			return true
		}
	}
	return false
}

// With paper: letter, every page of every PDF of the pack is US Letter
// and every sheet of every workbook is set up for it (paperSize 1), and
// the workbooks' Summary says so.
func TestPaperLetter(t *testing.T) {
	t.Parallel()
	tenant, env := sourceCases[1].start(t)
	day := now.Truncate(24 * time.Hour)
	cfg := &config.Config{Output: "mem", Concurrency: 2, Datasets: []string{dataset.Reports, dataset.Inventory}, Tenants: []config.Tenant{tenant},
		Period: period.Window{From: day.Add(-24 * time.Hour), To: day}, Paper: reportgen.Letter}
	store := memstore.New()
	res, err := job.Run(context.Background(), cfg, job.Deps{Sources: testSources, Store: store, Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	checkPaper(t, store, res.Packs[0], reportgen.Letter)
}

// checkPaper checks that the PDFs and workbooks of pack p are laid out
// for paper: every PDF page's size (pdfinfo), every sheet's paperSize and
// the Summary's note on printing.
func checkPaper(t *testing.T, store *memstore.Store, p job.PackResult, paper reportgen.Paper) {
	t.Helper()
	pdfinfo := testtool.Program(t, "pdfinfo", testtool.InstallPoppler, "-v")
	wantPDF := map[reportgen.Paper]string{reportgen.A4: "(A4)", reportgen.Letter: "(letter)"}[paper]
	wantSheet := map[reportgen.Paper]int{reportgen.A4: 9, reportgen.Letter: 1}[paper]
	pdfs, books := 0, 0
	for _, f := range p.Manifest.Files {
		switch {
		case strings.HasSuffix(f.Path, ".pdf") && !strings.Contains(f.Path, "/vendor/"):
			pdfs++
			rc, err := store.Get(context.Background(), p.Prefix+"/"+f.Path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			file := filepath.Join(t.TempDir(), "x.pdf")
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdfinfo, "-f", "1", "-l", "1000", file).Output()
			if err != nil {
				t.Fatalf("pdfinfo %s: %v", f.Path, err)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "Page") && strings.Contains(line, "size:") && !strings.Contains(line, wantPDF) {
					t.Errorf("%s: %s, want %s", f.Path, line, wantPDF)
				}
			}
		case strings.HasSuffix(f.Path, ".xlsx"):
			books++
			x := openWorkbook(t, store, p.Prefix+"/"+f.Path)
			setups := sheetSetups(t, store, p.Prefix+"/"+f.Path)
			for _, sh := range x.GetSheetList() {
				if got := setups[sh].PageSetup.PaperSize; got != strconv.Itoa(wantSheet) {
					t.Errorf("%s, sheet %s: paper size %q, want %d", f.Path, sh, got, wantSheet)
				}
			}
			rows, _ := x.GetRows(xlsx.SummarySheet)
			note := false
			for _, r := range rows {
				note = note || len(r) == 2 && r[0] == "Printing" && r[1] == xlsx.PrintNote(paper)
			}
			if !note || !strings.Contains(xlsx.PrintNote(paper), "on "+paper.Title()+" paper") {
				t.Errorf("%s: the Summary does not say how it prints on %s", f.Path, paper.Title())
			}
			_ = x.Close()
		}
	}
	if pdfs < 2 || books < 2 {
		t.Errorf("%d PDFs and %d workbooks checked", pdfs, books)
	}
}

func hasPrintTitles(names []excelize.DefinedName, sheet string) bool {
	for _, n := range names {
		if n.Name == "_xlnm.Print_Titles" && n.Scope == sheet && strings.HasSuffix(n.RefersTo, "!$1:$1") {
			return true
		}
	}
	return false
}

// sheetSetup is what a worksheet's XML says after its rows (page setup and
// footer), and its first cell's text.
type sheetSetup struct {
	PageSetup struct {
		Orientation string `xml:"orientation,attr"`
		PaperSize   string `xml:"paperSize,attr"`
		FitToWidth  string `xml:"fitToWidth,attr"`
		FitToHeight string `xml:"fitToHeight,attr"`
	} `xml:"pageSetup"`
	HeaderFooter struct {
		OddFooter string `xml:"oddFooter"`
	} `xml:"headerFooter"`
	A1 string `xml:"-"`
}

// sheetSetups reads every sheet's setup from the workbook at key, by
// sheet name, from the package's XML without parsing the sheets' rows:
// excelize parses a whole sheet to give its page layout, which was a
// tenth of this package's CPU under the race detector.
func sheetSetups(t *testing.T, store storage.Store, key string) map[string]sheetSetup {
	t.Helper()
	b := storeBytes(t, store, key)
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	part := func(name string) []byte {
		f, err := zr.Open(name)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatalf("%s: %s: %v", key, name, err)
		}
		return b
	}
	decode := func(name string, b []byte, v any) {
		if err := xml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %s: %v", key, name, err)
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	decode("xl/workbook.xml", part("xl/workbook.xml"), &wb)
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	decode("xl/_rels/workbook.xml.rels", part("xl/_rels/workbook.xml.rels"), &rels)
	target := map[string]string{}
	for _, r := range rels.Rels {
		target[r.ID] = path.Join("xl", r.Target)
	}
	out := map[string]sheetSetup{}
	for _, sh := range wb.Sheets {
		name := target[sh.RID]
		x := part(name)
		var su sheetSetup
		// What follows the rows: the worksheet's own elements, wrapped
		// in an element of ours to be one document.
		end := bytes.LastIndex(x, []byte("</sheetData>"))
		tail := bytes.TrimSuffix(bytes.TrimSpace(x[end+len("</sheetData>"):]), []byte("</worksheet>"))
		if end < 0 {
			t.Fatalf("%s: %s has no rows", key, name)
		}
		decode(name, append(append([]byte("<tail>"), tail...), "</tail>"...), &su)
		// The first row: A1 is an inline string, as the workbooks write text.
		if i, j := bytes.Index(x, []byte("<row ")), bytes.Index(x, []byte("</row>")); i >= 0 && j > i {
			var row struct {
				C []struct {
					R  string `xml:"r,attr"`
					T  string `xml:"t,attr"`
					Is string `xml:"is>t"`
				} `xml:"c"`
			}
			decode(name, x[i:j+len("</row>")], &row)
			for _, c := range row.C {
				if c.R == "A1" && c.T == "inlineStr" {
					su.A1 = c.Is
				}
			}
		}
		out[sh.Name] = su
	}
	return out
}
