package dataset_test

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
)

var update = flag.Bool("update", false, "rewrite docs/SCHEMA.md")

// handWritten starts the part of docs/SCHEMA.md that is not generated.
const handWritten = "<!-- Written by hand below this line; the tables above are generated. -->\n"

// TestSchemaDoc keeps docs/SCHEMA.md equal to the tables' real schemas:
// `go test ./internal/dataset -update` regenerates it.
func TestSchemaDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString(`# Evidence pack data schema

Generated from internal/dataset by ` + "`go test ./internal/dataset -update`" + `; do not edit.

Every table is written twice with the same rows: as an XLSX sheet (human column titles)
and as Parquet (the column names below). Parquet files are zstd-compressed, one
file per unit, in a Hive layout under ` + "`parquet/<table>/…/account=<sub-account>/`" + `.
Timestamps are TIMESTAMP(MILLIS, UTC); counts are INT64; enumerations (status,
severity, cloud) are strings as the platform spells them. Every column is
nullable: an absent value is NULL, never an empty string.

Violations are a flat table (one row per non-compliant resource of a control)
rather than a LIST column, so that Athena, Glue and DuckDB query them without
UNNEST and the XLSX sheet has the same rows.

## Workbooks

Every workbook opens with a sheet named ` + "`Summary`" + ` (what the file is, the pack,
the period; a framework workbook adds its figures), then one sheet per table (a
framework workbook: Controls, Resources, Exceptions; ` + "`evaluations.xlsx`" + ` and
` + "`inventory.xlsx`" + `: one per dataset or cloud). A sheet past 1,048,575 rows continues
on "Name (2)", "Name (3)", ...

- **Column order.** A sheet shows a table's key columns first (the "Sheet
  columns" line of each table below), then the others in table order, and the
  scope columns (Source, Tenant, Sub-account) last. This is the workbook's
  presentation only: Parquet files keep the column order of the tables below,
  which data-lake readers and queries depend on.
- **Headers and cells.** The header row is bold, filled, frozen and filtered,
  and wraps onto two lines rather than widen its column. Times are date cells
  in UTC (` + "`yyyy-mm-dd hh:mm:ss`" + `), headed "(UTC)"; counts are numbers; a
  percentage is a number in a percent format: the Summary's compliance % a
  fraction (0.8125) in ` + "`0.00%`" + `, a table's percentage column (compliance_pct)
  its Parquet value (81.25) in ` + "`0.00\"%\"`" + `. Text is never a formula.
- **Widths.** Each column is as wide as the widest value of the sheet's first
  500 rows (or first MiB of text) and its header need, capped: text of key
  columns at 30 characters when it wraps (titles, resources, reasons) and 24
  when it does not; other text at 20 and 16. Wrapped text continues on more
  lines (the row is made as tall as the estimate needs); other long text (ids,
  JSON) is cut at the column's edge on screen and paper and whole in the cell.
- **Printing.** Every sheet prints landscape on the pack's paper (` + "`paper: a4`" + `,
  the default, or ` + "`letter`" + `; the PDFs use the same), fitted to one page wide and as
  many pages tall as it needs, with narrow margins, the header row repeated
  on every page (print titles), the sheet's name and the workbook's title in
  the page header, and the pack id and "Page N of M" in the footer. A sheet
  prints its key columns only, as many of them, in order, as fit in 160
  characters of column width (its print area): a wider page would print too
  small to read (a framework's Controls sheet, all 21 columns, printed at
  under 30 %; its key columns print at 70 % or more). The footer of each
  printed page names the columns it holds ("Printed: columns Control to
  Violating resources (9 of 21)"); every column stays on screen and in the
  cells, and the Summary sheet says so. The Exceptions sheet leads with what
  an exception register is read for: control, resource, kind, reason, expiry,
  expired, by whom.

`)
	for _, tb := range dataset.All() {
		b.WriteString("## " + tb.Name + "\n\n" + tb.Title + " — XLSX sheet(s) and `parquet/" + tb.Name + "/`.\n\n")
		var sheet, wrapped []string
		for _, i := range tb.SheetOrder() {
			sheet = append(sheet, tb.Columns[i].Header())
			if tb.Columns[i].Wrap {
				wrapped = append(wrapped, tb.Columns[i].Header())
			}
		}
		b.WriteString("Sheet columns, in order: " + strings.Join(sheet, ", ") + ". Wrapped: " + strings.Join(wrapped, ", ") + ".\n\n")
		b.WriteString(parquet.Schema(tb))
		b.WriteString("\n")
	}
	b.WriteString(`# The period report's tables

A report pack (` + "`evidence report`" + `) holds these tables instead, as sheets of ` + "`report.xlsx`" + `
and as ` + "`tables/<table>.parquet`" + `.

`)
	for _, tb := range dataset.ReportTables() {
		b.WriteString("## " + tb.Name + "\n\n" + tb.Title + " — a sheet of `report.xlsx` and `tables/" + tb.Name + ".parquet`.\n\n")
		b.WriteString(parquet.Schema(tb))
		b.WriteString("\n")
	}
	const path = "../../docs/SCHEMA.md"
	// What follows the marker is written by hand (the OSCAL and OCSF
	// mappings): kept as it is, after the generated tables.
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, tail, ok := strings.Cut(string(old), handWritten); ok {
		b.WriteString(handWritten + tail)
	}
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != b.String() {
		t.Fatalf("docs/SCHEMA.md is out of date (err %v): run go test ./internal/dataset -update", err)
	}
}

func TestSheetOrder(t *testing.T) {
	cols := func(names ...string) []dataset.Column {
		var out []dataset.Column
		for _, n := range names {
			out = append(out, dataset.Column{Name: n})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		table dataset.Table
		want  []int
	}{
		{"no lead: scope last", dataset.Table{Columns: cols("source", "tenant", "sub_account", "a", "b")}, []int{3, 4, 0, 1, 2}},
		{"lead first, in its order", dataset.Table{Columns: cols("source", "tenant", "sub_account", "a", "b", "c"), Lead: []string{"c", "a"}}, []int{5, 3, 4, 0, 1, 2}},
		{"unknown and repeated lead names", dataset.Table{Columns: cols("source", "a", "b"), Lead: []string{"x", "b", "b"}}, []int{2, 1, 0}},
		{"no scope columns", dataset.Table{Columns: cols("a", "b")}, []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.table.SheetOrder(); !slices.Equal(got, tc.want) {
				t.Errorf("SheetOrder() = %v, want %v", got, tc.want)
			}
		})
	}
}

// Every table's sheet leads with its key columns, ends with the scope
// columns, shows every column once, and names only columns it has.
func TestTablesSheetOrder(t *testing.T) {
	for _, tb := range dataset.All() {
		t.Run(tb.Name, func(t *testing.T) {
			order := tb.SheetOrder()
			seen := slices.Clone(order)
			slices.Sort(seen)
			for i := range seen {
				if seen[i] != i {
					t.Fatalf("sheet order %v is not a permutation of %d columns", order, len(tb.Columns))
				}
			}
			for i, name := range tb.Lead {
				if got := tb.Columns[order[i]].Name; got != name {
					t.Errorf("sheet column %d is %s, want lead column %s", i+1, got, name)
				}
			}
			scope := dataset.ScopeColumns()
			for i, name := range scope {
				if got := tb.Columns[order[len(order)-len(scope)+i]].Name; got != name {
					t.Errorf("sheet column %d from the end is %s, want %s", len(scope)-i, got, name)
				}
			}
			if len(tb.Lead) < 4 {
				t.Errorf("lead %v: want the key columns named", tb.Lead)
			}
			for _, c := range tb.Columns {
				if c.Kind == dataset.Time && !strings.HasSuffix(c.Title, "(UTC)") {
					t.Errorf("time column %s titled %q: want (UTC)", c.Name, c.Title)
				}
			}
		})
	}
}
