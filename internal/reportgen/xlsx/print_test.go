package xlsx

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen"
	"github.com/xuri/excelize/v2"
)

// A framework workbook as a pack writes it, with the pack's own tables and
// rows shaped like real ones (long titles, ARNs, reasons), for the print
// and layout tests.

const printPackID = "20261122T021500Z-3f9a1c"

var printScope = dataset.Scope{Source: "lacework", Tenant: "acme", SubAccount: "acme-prod"}

var printTitles = []string{
	"Ensure CloudTrail is enabled in all regions",
	"Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible",
	"Ensure IAM password policy requires at least one uppercase letter",
	"Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports",
	"Ensure MFA is enabled for the root user account",
	"Ensure that encryption-at-rest is enabled for RDS instances",
}

func printControl(i int) dataset.Control {
	statuses := []dataset.Status{dataset.NonCompliant, dataset.Compliant, dataset.Suppressed, dataset.CouldNotAssess, dataset.Manual}
	return dataset.Control{Framework: "CIS Amazon Web Services Foundations Benchmark v1.4.0", Cloud: "AWS",
		AccountID: fmt.Sprintf("%012d", 609763592499+i%3), AccountAlias: "prod-payments", ReportTime: base.Add(time.Duration(i) * time.Minute),
		ControlID: fmt.Sprintf("lacework-global-%d", 40+i), Title: printTitles[i%len(printTitles)], Category: fmt.Sprintf("%d Logging", 3+i%3),
		Service: "aws:cloudtrail", Severity: []string{"Critical", "High", "Medium", "Low", "Info"}[i%5], SeverityLevel: 1 + i%5,
		Status: statuses[i%len(statuses)], Assessed: int64(10 + i), Violating: int64(i % 7), InfoLink: "https://docs.lacework.net/console/lacework-global-40"}
}

func printViolation(i int) dataset.Violation {
	c := printControl(i / 4)
	return dataset.Violation{Framework: c.Framework, Cloud: c.Cloud, AccountID: c.AccountID, ControlID: c.ControlID, ControlTitle: c.Title,
		Severity: c.Severity, Region: "eu-west-1", Resource: fmt.Sprintf("arn:aws:s3:::acme-prod-payments-cloudtrail-logs-%06d", i),
		Reasons: []string{"Bucket policy grants s3:GetObject to *", "Block Public Access is off"}[:1+i%2]}
}

func printException(i int) dataset.Exception {
	c := printControl(i)
	return dataset.Exception{Framework: c.Framework, Cloud: c.Cloud, AccountID: c.AccountID, ControlID: c.ControlID, ControlTitle: c.Title,
		Kind: "risk accepted", Resource: fmt.Sprintf("arn:aws:ec2:eu-west-1:609763592499:security-group/sg-%08x", i*7919),
		Reason: "compensating control", Description: "Bastion host reachable only through the corporate VPN; reviewed quarterly",
		By: "alice@example.com", Created: base.AddDate(0, -2, 0), Expires: base.AddDate(0, i%3-1, 0), Expired: i%3 == 0}
}

// printTables are the data sheets of the framework workbook and their
// rows.
var printTables = []struct {
	table dataset.Table
	rows  int
	row   func(i int) dataset.Record
}{
	{dataset.ControlsTable(), 60, func(i int) dataset.Record { return printControl(i) }},
	{dataset.ViolationsTable(), 150, func(i int) dataset.Record { return printViolation(i) }},
	{dataset.ExceptionsTable(), 25, func(i int) dataset.Record { return printException(i) }},
}

// printSheet names the sheet of a table as the framework workbook does.
func printSheet(t dataset.Table) string { return t.Title }

// writeFrameworkWorkbook writes the framework workbook for paper in
// batches of 7 rows.
func writeFrameworkWorkbook(t testing.TB, paper reportgen.Paper) []byte {
	t.Helper()
	var buf bytes.Buffer
	wb := NewWorkbook(&buf, Options{Created: created, Title: "CIS Amazon Web Services Foundations Benchmark v1.4.0", PackID: printPackID, Paper: paper})
	if err := wb.AddKeyValueSheet(SummarySheet, [][2]any{
		{"Evidence", "CIS Amazon Web Services Foundations Benchmark v1.4.0"},
		{"Pack id", printPackID},
		{"Generated at (UTC)", created},
		{"Compliance % (compliant / (compliant + non-compliant))", Percent(0.8125)},
		{"Integrity", "SHA-256 of every file in manifest.json"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, pt := range printTables {
		tb := pt.table
		tb.Name = printSheet(tb)
		s, err := wb.Begin(tb)
		if err != nil {
			t.Fatal(err)
		}
		var batch []dataset.Row
		for i := range pt.rows {
			batch = append(batch, pt.row(i).Row(printScope))
			if len(batch) == 7 || i == pt.rows-1 {
				if err := s.Write(batch); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheetHeaders are the headers of a table's sheet, in sheet order.
func sheetHeaders(t dataset.Table) []string {
	var out []string
	for _, i := range t.SheetOrder() {
		out = append(out, sheetHeader(t.Columns[i]))
	}
	return out
}

func TestSheetHeaders(t *testing.T) {
	for _, tc := range []struct {
		table      dataset.Table
		first, end []string
	}{
		{dataset.ControlsTable(), []string{"Control", "Title", "Status", "Severity"}, []string{"Source", "Tenant", "Sub-account"}},
		{dataset.ViolationsTable(), []string{"Control", "Control title", "Severity", "Resource"}, []string{"Source", "Tenant", "Sub-account"}},
		{dataset.ExceptionsTable(), []string{"Control", "Resource", "Kind", "Reason", "Expires (UTC)", "Expired"}, []string{"Source", "Tenant", "Sub-account"}},
		{dataset.EvaluationsTable(), []string{"Control", "Recommendation", "Status", "Severity", "Resource"}, []string{"Source", "Tenant", "Sub-account"}},
	} {
		t.Run(tc.table.Name, func(t *testing.T) {
			h := sheetHeaders(tc.table)
			if got := h[:len(tc.first)]; strings.Join(got, "|") != strings.Join(tc.first, "|") {
				t.Errorf("first headers %q, want %q", got, tc.first)
			}
			if got := h[len(h)-len(tc.end):]; strings.Join(got, "|") != strings.Join(tc.end, "|") {
				t.Errorf("last headers %q, want %q", got, tc.end)
			}
			for _, c := range tc.table.Columns {
				if c.Kind == dataset.Time && !strings.HasSuffix(sheetHeader(c), "(UTC)") {
					t.Errorf("time column %s headed %q, want (UTC)", c.Name, sheetHeader(c))
				}
			}
		})
	}
}

// A Column.Percent value keeps its number (the same as in Parquet) and
// shows with a % sign; other floats keep the general format.
func TestPercentColumn(t *testing.T) {
	tb := dataset.Table{Name: "Daily", Columns: []dataset.Column{
		{Name: "compliance_pct", Title: "Compliance %", Kind: dataset.Float, Percent: true},
		{Name: "score", Kind: dataset.Float},
	}}
	var buf bytes.Buffer
	wb := NewWorkbook(&buf, Options{})
	s, err := wb.Begin(tb)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write([]dataset.Row{{87.5, 87.5}, {nil, nil}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		cell, raw, shown string
	}{
		{"A2", "87.5", "87.50%"},
		{"B2", "87.5", "87.5"},
		{"A3", "", ""},
	} {
		raw, _ := f.GetCellValue("Daily", tc.cell, excelize.Options{RawCellValue: true})
		shown, _ := f.GetCellValue("Daily", tc.cell)
		if raw != tc.raw || shown != tc.shown {
			t.Errorf("%s = %q shown %q, want %q shown %q", tc.cell, raw, shown, tc.raw, tc.shown)
		}
	}
}

func TestPrintLayout(t *testing.T) {
	headers := []string{"A", "B", "C", "D", "E"}
	for _, tc := range []struct {
		name   string
		widths []float64
		lead   int
		cols   int
		note   string
	}{
		{"narrow sheet: every column", []float64{20, 20, 20, 20, 20}, 0, 5, ""},
		{"narrow sheet with a lead: every key column", []float64{20, 20, 20, 20, 20}, 3, 3, "Printed: columns A to C (3 of 5); every column is in the workbook"},
		{"lead wider than a page: the key columns that fit", []float64{60, 60, 50, 20, 20}, 4, 2, "Printed: columns A to B (2 of 5); every column is in the workbook"},
		{"no lead, wide: the first columns that fit", []float64{50, 50, 50, 50, 50}, 0, 3, "Printed: columns A to C (3 of 5); every column is in the workbook"},
		{"first column alone wider than a page", []float64{200, 10, 10, 10, 10}, 2, 1, "Printed: column A (1 of 5); every column is in the workbook"},
		{"exactly the print width", []float64{80, 80, 1, 1, 1}, 5, 2, "Printed: columns A to B (2 of 5); every column is in the workbook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrintLayout(headers, tc.widths, tc.lead)
			if p.cols != tc.cols || p.note() != tc.note {
				t.Errorf("%d columns, note %q; want %d, %q", p.cols, p.note(), tc.cols, tc.note)
			}
		})
	}
}

// Each sheet of a table prints its key columns down to its own last row,
// continuation sheets included; a sheet printed whole has no print area.
func TestPrintArea(t *testing.T) {
	tb := dataset.ControlsTable()
	tb.Name = "Controls"
	var buf bytes.Buffer
	wb := NewWorkbook(&buf, Options{MaxRowsPerSheet: 3})
	if err := wb.AddKeyValueSheet(SummarySheet, [][2]any{{"Tenant", "acme"}}); err != nil {
		t.Fatal(err)
	}
	s, err := wb.Begin(tb)
	if err != nil {
		t.Fatal(err)
	}
	var rows []dataset.Row
	for i := range 7 {
		rows = append(rows, printControl(i).Row(printScope))
	}
	if err := s.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	areas := map[string]string{}
	for _, n := range f.GetDefinedName() {
		if n.Name == "_xlnm.Print_Area" {
			areas[n.Scope] = n.RefersTo
		}
	}
	want := map[string]string{"Controls": "'Controls'!$A$1:$I$4", "Controls (2)": "'Controls (2)'!$A$1:$I$4", "Controls (3)": "'Controls (3)'!$A$1:$I$2"}
	if fmt.Sprint(areas) != fmt.Sprint(want) {
		t.Errorf("print areas %v, want %v", areas, want)
	}
	for sheet := range want {
		hf, err := f.GetHeaderFooter(sheet)
		if err != nil || !strings.Contains(hf.OddFooter, "&CPrinted: columns Control to Violating resources (9 of 21)") {
			t.Errorf("%s: footer %+v (%v)", sheet, hf, err)
		}
	}
}
