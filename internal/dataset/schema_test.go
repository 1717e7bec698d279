package dataset_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/reportgen/parquet"
)

var update = flag.Bool("update", false, "rewrite docs/SCHEMA.md")

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

`)
	for _, tb := range dataset.All() {
		b.WriteString("## " + tb.Name + "\n\n" + tb.Title + " — XLSX sheet(s) and `parquet/" + tb.Name + "/`.\n\n")
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
