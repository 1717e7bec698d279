package job_test

import (
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/evidence-pack/evidence/internal/reportgen/xlsx"
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
			for _, sh := range sheets {
				pl, err := x.GetPageLayout(sh)
				if err != nil {
					t.Fatal(err)
				}
				if *pl.Orientation != "landscape" || pl.FitToWidth == nil || *pl.FitToWidth != 1 || pl.FitToHeight == nil || *pl.FitToHeight != 0 {
					t.Errorf("%s: page layout %s, fit %v x %v", sh, *pl.Orientation, pl.FitToWidth, pl.FitToHeight)
				}
				hf, err := x.GetHeaderFooter(sh)
				if err != nil || hf == nil || !strings.Contains(hf.OddFooter, "Pack "+p.Manifest.PackID) || !strings.Contains(hf.OddFooter, "&P of &N") {
					t.Errorf("%s: footer %+v (%v): want the pack id and page number", sh, hf, err)
				}
				if n := x.GetDefinedName(); !hasPrintTitles(n, sh) {
					t.Errorf("%s: no print titles among %+v", sh, n)
				}
			}
			if !strings.HasPrefix(f.Path, "frameworks/") {
				return
			}
			for _, sh := range []string{"Controls", "Resources", "Exceptions"} {
				if v, _ := x.GetCellValue(sh, "A1"); v != "Control" {
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

func hasPrintTitles(names []excelize.DefinedName, sheet string) bool {
	for _, n := range names {
		if n.Name == "_xlnm.Print_Titles" && n.Scope == sheet && strings.HasSuffix(n.RefersTo, "!$1:$1") {
			return true
		}
	}
	return false
}
