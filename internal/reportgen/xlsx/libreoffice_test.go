package xlsx

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
