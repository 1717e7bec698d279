package xlsx

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"github.com/xuri/excelize/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen"

	"github.com/evidence-pack/evidence/internal/testtool"
)

// TestLibreOfficeOpensWorkbook converts the workbook with LibreOffice in
// headless mode, every sheet to CSV: the conversion succeeds only when Calc
// loads the file, and the CSV shows what Calc read in each cell.
func TestLibreOfficeOpensWorkbook(t *testing.T) {
	bin := testtool.LibreOffice(t)
	b, _ := writeWorkbook(t, 4)
	dir := t.TempDir()
	in := filepath.Join(dir, "pack.xlsx")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "csv")
	// 44,34,76: comma, double quote, UTF-8; the last field -1 exports every
	// sheet as pack-<sheet>.csv.
	cmd := exec.Command(bin, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir", out, in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to: %v\n%s", err, msg)
	}
	for i, sheet := range wantSheets {
		f, err := os.Open(filepath.Join(out, "pack-"+sheet+".csv"))
		if err != nil {
			entries, _ := os.ReadDir(out)
			t.Fatalf("LibreOffice did not convert sheet %q (%v); files: %v", sheet, err, entries)
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", sheet, err)
		}
		if i == 0 {
			if len(recs) != len(summary)+1 || recs[1][0] != "Tenant" || recs[1][1] != "acme" {
				t.Errorf("Summary as LibreOffice reads it: %q", recs)
			}
			continue
		}
		wantData := min(testPerPage, testRows-(i-1)*testPerPage)
		if len(recs) != wantData+1 {
			t.Fatalf("%s: LibreOffice read %d rows, want header + %d", sheet, len(recs), wantData)
		}
		if len(recs[0]) != len(testTable.Columns) || recs[0][0] != "Resource" {
			t.Errorf("%s: header %q", sheet, recs[0])
		}
		for r, rec := range recs[1:] {
			row := dataRow(i-1, r)
			for c := range testTable.Columns {
				w := want(row, c)
				if w.kind == "s" && (c >= len(rec) || rec[c] != w.s) {
					got := ""
					if c < len(rec) {
						got = rec[c]
					}
					t.Errorf("%s row %d col %d: LibreOffice reads %.40q, want %.40q", sheet, r+2, c+1, got, w.s)
				}
			}
		}
	}
}

var keep = flag.String("keep", "", "copy the framework workbook and the PDF LibreOffice prints of it into this `folder`, to look at")

// printedPage is one page of a PDF as pdftotext lays it out.
type printedPage struct {
	n         int
	text      string
	landscape bool
	size      string // pdfinfo's name of it: A4, letter
	// height is the median height of the page's words (pdftotext -bbox),
	// in points: the size the text is printed at.
	height float64
}

// printedColumns are the columns each data sheet of the framework
// workbook must print, in sheet order: its key columns, which an auditor
// reads a printed page for. The others are on screen only.
var printedColumns = map[string][]string{
	"Controls": {"Control", "Title", "Status", "Severity", "Requirement", "Cloud account", "Account alias", "Assessed resources",
		"Violating resources"},
	"Resources":  {"Control", "Control title", "Severity", "Resource", "Region", "Reasons", "Cloud account"},
	"Exceptions": {"Control", "Resource", "Kind", "Reason", "Expires (UTC)", "Expired", "By"},
}

// printedValue is a value of each sheet's last printed column (Controls:
// of the last with text of its own, the account alias), which every page
// of the sheet shows.
var printedValue = map[string]string{
	"Controls":   printControl(0).AccountAlias,
	"Resources":  printControl(0).AccountID[:9],
	"Exceptions": printException(0).By,
}

// minScale is the smallest printed scale the key sheets may have on each
// paper: text at 70 % of 11 pt is about 7.7 pt, the size of a footnote.
var minScale = map[string]float64{"A4": 0.70, "Letter": 0.65}

// TestLibreOfficePrintsEveryColumn prints the framework workbook to PDF
// with LibreOffice, as an auditor would, and reads the pages back: every
// page is landscape on the workbook's paper (A4 by default), names its
// sheet, the pack and its page number, and a page of a data sheet shows
// the sheet's header row and every one of its key columns
// (printedColumns): the first and the last printed column's header and a
// value of the last printed columns (printedValue), none pushed onto
// pages of their own, and no column beyond them (the
// sub-account, last on screen); its footer says which columns it
// prints. The text of a data page is printed at least minScale of the
// Summary page's, which prints at 100 %.
func TestLibreOfficePrintsEveryColumn(t *testing.T) {
	bin := testtool.LibreOffice(t)
	pdftotext := testtool.Poppler(t, "pdftotext")
	pdfinfo := testtool.Program(t, "pdfinfo", testtool.InstallPoppler, "-v")
	for _, tc := range []struct {
		paper reportgen.Paper
		size  string // pdfinfo's name of the page size
	}{
		{"", "A4"},
		{reportgen.Letter, "letter"},
	} {
		t.Run(tc.paper.Title(), func(t *testing.T) { checkPrinted(t, bin, pdftotext, pdfinfo, tc.paper, tc.size) })
	}
}

func checkPrinted(t *testing.T, bin, pdftotext, pdfinfo string, paper reportgen.Paper, size string) {
	dir := t.TempDir()
	b := writeFrameworkWorkbook(t, paper)
	in := filepath.Join(dir, "evidence.xlsx")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The Summary is the scale's reference: it must print at 100 %. Its
	// columns are at most 100 characters wide: at most 710 pt in any of
	// the fonts LibreOffice takes for Calibri (DejaVu Sans, the widest, has
	// a 7 pt digit), within the 749 pt a landscape Letter page holds.
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var summaryWidth float64
	for _, c := range []string{"A", "B"} {
		w, _ := x.GetColWidth(SummarySheet, c)
		summaryWidth += w
	}
	x.Close()
	if summaryWidth > 100 {
		t.Fatalf("the Summary sheet is %v characters wide: it may not print at 100 %%, the reference of the scale", summaryWidth)
	}
	cmd := exec.Command(bin, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", "pdf", "--outdir", dir, in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to pdf: %v\n%s", err, msg)
	}
	pdf := filepath.Join(dir, "evidence.pdf")
	if *keep != "" {
		for _, f := range []string{in, pdf} {
			out := filepath.Join(*keep, paper.Title()+"-"+filepath.Base(f))
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	info, err := exec.Command(pdfinfo, pdf).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	var pages int
	for _, line := range strings.Split(string(info), "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			pages, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if pages == 0 {
		t.Fatalf("pdfinfo: no pages\n%s", info)
	}
	wantSheets := map[string]dataset.Table{}
	for _, pt := range printTables {
		wantSheets[printSheet(pt.table)] = pt.table
	}
	perSheet := map[string]int{}
	var summary float64           // the Summary page's text height
	scale := map[string]float64{} // the smallest scale of each sheet's pages
	var data []printedPage        // pages of data sheets
	for n := 1; n <= pages; n++ {
		p := readPage(t, pdftotext, pdfinfo, pdf, n)
		if !p.landscape || p.size != size {
			t.Errorf("page %d is %s (landscape %v), want landscape %s", n, p.size, p.landscape, size)
		}
		if !strings.Contains(p.text, "Pack "+printPackID) || !strings.Contains(p.text, fmt.Sprintf("Page %d of", n)) {
			t.Errorf("page %d: no footer with the pack id and page number:\n%s", n, p.text)
		}
		lines := strings.Split(strings.TrimSpace(p.text), "\n")
		sheet := strings.Fields(lines[0])
		if len(sheet) == 0 {
			t.Fatalf("page %d is empty", n)
		}
		name := sheet[0]
		perSheet[name]++
		tb, ok := wantSheets[name]
		if !ok {
			if name != SummarySheet {
				t.Errorf("page %d names sheet %q", n, name)
			}
			summary = p.height
			continue
		}
		data = append(data, p)
		body := strings.Join(strings.Fields(p.text), " ")
		headers := sheetHeaders(tb)
		printed := printedColumns[name]
		if len(printed) == 0 || !slices.Equal(headers[:len(printed)], printed) {
			t.Fatalf("sheet %s: printed columns %q are not the first of its columns %q", name, printed, headers)
		}
		first, last := printed[0], printed[len(printed)-1]
		for _, h := range []string{first, last} {
			if !strings.Contains(body, h) {
				t.Errorf("page %d (%s): no header %q: the header row is not repeated, or columns spill onto other pages:\n%s", n, name, h, p.text)
			}
		}
		if v := printedValue[name]; v == "" || !strings.Contains(body, v) {
			t.Errorf("page %d (%s): no value %q of the last printed columns:\n%s", n, name, v, p.text)
		}
		for _, h := range []string{headers[len(headers)-1], "Row id"} {
			if strings.Contains(body, h) {
				t.Errorf("page %d (%s): prints column %s, after the key columns:\n%s", n, name, h, p.text)
			}
		}
		if note := fmt.Sprintf("Printed: columns %s to %s (%d of %d); every column is in the workbook", first, last, len(printed), len(headers)); !strings.Contains(body, note) {
			t.Errorf("page %d (%s): the footer does not say %q:\n%s", n, name, note, p.text)
		}
	}
	if summary == 0 {
		t.Fatal("no Summary page")
	}
	for _, p := range data {
		name := strings.Fields(p.text)[0]
		s := p.height / summary
		if old, ok := scale[name]; !ok || s < old {
			scale[name] = s
		}
	}
	for name, s := range scale {
		if s < minScale[paper.Title()] {
			t.Errorf("sheet %s prints at %.0f %% of the Summary's size on %s, want at least %.0f %%", name, 100*s, paper.Title(), 100*minScale[paper.Title()])
		}
	}
	// The Resources sheet spans pages: its header row repeats.
	if perSheet[printSheet(dataset.ViolationsTable())] < 2 || perSheet[SummarySheet] != 1 {
		t.Errorf("pages per sheet %v: want one Summary page and several of Resources", perSheet)
	}
	t.Logf("%d pages: %v; scale of each sheet: %v", pages, perSheet, scale)
}

// wordBox is a word's box in pdftotext -bbox output.
var wordBox = regexp.MustCompile(`<word xMin="[0-9.]+" yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">`)

func readPage(t *testing.T, pdftotext, pdfinfo, pdf string, n int) printedPage {
	t.Helper()
	page := strconv.Itoa(n)
	out, err := exec.Command(pdftotext, "-f", page, "-l", page, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext page %d: %v", n, err)
	}
	info, err := exec.Command(pdfinfo, "-f", page, "-l", page, pdf).Output()
	if err != nil {
		t.Fatalf("pdfinfo page %d: %v", n, err)
	}
	p := printedPage{n: n, text: string(out)}
	for _, line := range strings.Split(string(info), "\n") {
		if _, size, ok := strings.Cut(line, "size:"); ok && strings.HasPrefix(line, "Page") {
			var w, h float64
			if _, err := fmt.Sscanf(strings.TrimSpace(size), "%g x %g", &w, &h); err == nil {
				p.landscape = w > h
			}
			if _, name, ok := strings.Cut(size, "("); ok {
				p.size, _, _ = strings.Cut(name, ")")
			}
		}
	}
	box, err := exec.Command(pdftotext, "-f", page, "-l", page, "-bbox", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox page %d: %v", n, err)
	}
	var heights []float64
	for _, m := range wordBox.FindAllStringSubmatch(string(box), -1) {
		y0, _ := strconv.ParseFloat(m[1], 64)
		y1, _ := strconv.ParseFloat(m[2], 64)
		heights = append(heights, y1-y0)
	}
	if len(heights) == 0 {
		t.Fatalf("page %d: pdftotext -bbox finds no words", n)
	}
	slices.Sort(heights)
	p.height = heights[len(heights)/2]
	return p
}
