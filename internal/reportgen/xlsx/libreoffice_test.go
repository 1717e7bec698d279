package xlsx

import (
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/dataset"

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
}

// TestLibreOfficePrintsEveryColumn prints the framework workbook to PDF
// with LibreOffice, as an auditor would, and reads the pages back: every
// page is landscape, names its sheet, the pack and its page number, and a
// page of a data sheet shows the sheet's header row and every one of its
// columns: the first and the last column's header and the last column's
// value (the sub-account), none pushed onto pages of their own.
func TestLibreOfficePrintsEveryColumn(t *testing.T) {
	bin := testtool.LibreOffice(t)
	pdftotext := testtool.Poppler(t, "pdftotext")
	pdfinfo := testtool.Program(t, "pdfinfo", testtool.InstallPoppler, "-v")
	dir := t.TempDir()
	in := filepath.Join(dir, "evidence.xlsx")
	if err := os.WriteFile(in, writeFrameworkWorkbook(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", "pdf", "--outdir", dir, in)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice --convert-to pdf: %v\n%s", err, msg)
	}
	pdf := filepath.Join(dir, "evidence.pdf")
	if *keep != "" {
		for _, f := range []string{in, pdf} {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(*keep, filepath.Base(f)), b, 0o644); err != nil {
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
	for n := 1; n <= pages; n++ {
		p := readPage(t, pdftotext, pdfinfo, pdf, n)
		if !p.landscape {
			t.Errorf("page %d is portrait", n)
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
			continue
		}
		body := strings.Join(strings.Fields(p.text), " ")
		headers := sheetHeaders(tb)
		for _, h := range []string{headers[0], headers[len(headers)-1]} {
			if !strings.Contains(body, h) {
				t.Errorf("page %d (%s): no header %q: the header row is not repeated, or columns spill onto other pages:\n%s", n, name, h, p.text)
			}
		}
		if got := strings.Count(body, printScope.SubAccount); got < 2 {
			t.Errorf("page %d (%s): the last column (sub-account) shows on %d rows:\n%s", n, name, got, p.text)
		}
	}
	// The Resources sheet spans pages: its header row repeats.
	if perSheet[printSheet(dataset.ViolationsTable())] < 2 || perSheet[SummarySheet] != 1 {
		t.Errorf("pages per sheet %v: want one Summary page and several of Resources", perSheet)
	}
	t.Logf("%d pages: %v", pages, perSheet)
}

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
		}
	}
	return p
}
