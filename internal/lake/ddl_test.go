package lake

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/dataset"
)

// sqlTypes maps what the Parquet files hold (physical type and logical
// annotation) to the Athena and DuckDB types the DDL must declare: stated
// here apart from ddl.go, from the files themselves.
var sqlTypes = map[string][2]string{
	"BYTE_ARRAY|STRING":  {"string", "VARCHAR"},
	"INT64|INT(64,true)": {"bigint", "BIGINT"},
	"INT64|TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)": {"timestamp", "TIMESTAMPTZ"},
	"DOUBLE|":  {"double", "DOUBLE"},
	"BOOLEAN|": {"boolean", "BOOLEAN"},
}

type sqlCol struct{ name, typ string }

// parquetColumns reads the schema of a file the pack's Parquet writer makes
// for t: column names and their Athena and DuckDB types.
func parquetColumns(t *testing.T, table dataset.Table) (athena, duck []sqlCol) {
	t.Helper()
	rows, _ := genRows(table, map[string]any{"tenant": "acme"}, "f", 1, 1, day)
	b := parquetBytes(t, table, rows)
	f, err := pq.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range f.Schema().Fields() {
		k := fl.Type().Kind().String() + "|"
		if lt := fl.Type().LogicalType(); lt != nil { // BOOLEAN has none
			k += lt.String()
		}
		ty, ok := sqlTypes[k]
		if !ok {
			t.Fatalf("%s.%s: Parquet type %s has no SQL type in this test", table.Name, fl.Name(), k)
		}
		athena = append(athena, sqlCol{fl.Name(), ty[0]})
		duck = append(duck, sqlCol{fl.Name(), ty[1]})
	}
	return athena, duck
}

// withoutTenant drops the tenant column, which the partition key replaces.
func withoutTenant(cols []sqlCol) []sqlCol {
	var out []sqlCol
	for _, c := range cols {
		if c.name != PartTenant {
			out = append(out, c)
		}
	}
	return out
}

var (
	athenaTable = regexp.MustCompile("(?s)CREATE EXTERNAL TABLE IF NOT EXISTS `(\\w+)` \\(\n(.*?)\n\\)\nCOMMENT '[^\n]*'\nPARTITIONED BY \\(([^\n]*)\\)\nSTORED AS PARQUET\nLOCATION '([^']*)';")
	athenaCol   = regexp.MustCompile("`(\\w+)` (\\w+) COMMENT '(?:[^'\\\\]|\\\\.)*'")
	duckView    = regexp.MustCompile(`(?s)CREATE OR REPLACE VIEW "(\w+)" AS SELECT\n(.*?)\nFROM read_parquet\('([^']*)', ([^\n]*)\);`)
	duckCast    = regexp.MustCompile(`^CAST\("(\w+)" AS (\w+)\) AS "(\w+)"$`)
)

// TestDDLMatchesParquetSchema: for every dataset table, the Athena table
// and the DuckDB view declare the columns of the Parquet files, in order,
// with the types those files hold, then the partition keys.
func TestDDLMatchesParquetSchema(t *testing.T) {
	var names []string
	for _, tb := range dataset.All() {
		names = append(names, tb.Name)
	}
	d := Generate("s3://bucket/lake/", names)
	athena := map[string][]string{}
	for _, m := range athenaTable.FindAllStringSubmatch(d.Athena, -1) {
		athena[m[1]] = m[1:]
	}
	duck := map[string][]string{}
	for _, m := range duckView.FindAllStringSubmatch(d.DuckDB, -1) {
		duck[m[1]] = m[1:]
	}
	for _, tb := range dataset.All() {
		t.Run(tb.Name, func(t *testing.T) {
			wantAthena, wantDuck := parquetColumns(t, tb)
			wantAthena, wantDuck = withoutTenant(wantAthena), withoutTenant(wantDuck)

			a, ok := athena[tb.Name]
			if !ok {
				t.Fatalf("no Athena table in:\n%s", d.Athena)
			}
			var gotCols []sqlCol
			for _, c := range athenaCol.FindAllStringSubmatch(a[1], -1) {
				gotCols = append(gotCols, sqlCol{c[1], c[2]})
			}
			if !equalCols(gotCols, wantAthena) {
				t.Errorf("Athena columns\n%v\nParquet\n%v", gotCols, wantAthena)
			}
			if n := strings.Count(a[1], "\n") + 1; n != len(wantAthena) {
				t.Errorf("Athena table has %d column lines, want %d", n, len(wantAthena))
			}
			var parts []sqlCol
			for _, c := range athenaCol.FindAllStringSubmatch(a[2], -1) {
				parts = append(parts, sqlCol{c[1], c[2]})
			}
			if want := []sqlCol{{"dt", "string"}, {"tenant", "string"}, {"account", "string"}}; !equalCols(parts, want) {
				t.Errorf("Athena partitions %v, want %v", parts, want)
			}
			if want := "s3://bucket/lake/" + tb.Name + "/"; a[3] != want {
				t.Errorf("Athena location %s, want %s", a[3], want)
			}

			v, ok := duck[tb.Name]
			if !ok {
				t.Fatalf("no DuckDB view in:\n%s", d.DuckDB)
			}
			sel := strings.Split(v[1], ",\n")
			var casts []sqlCol
			for _, s := range sel {
				if m := duckCast.FindStringSubmatch(strings.TrimSpace(s)); m != nil {
					if m[1] != m[3] {
						t.Errorf("%s is renamed to %s", m[1], m[3])
					}
					casts = append(casts, sqlCol{m[1], m[2]})
				}
			}
			if !equalCols(casts, wantDuck) {
				t.Errorf("DuckDB columns\n%v\nParquet\n%v", casts, wantDuck)
			}
			rest := make([]string, 0, 4)
			for _, s := range sel[len(casts):] {
				rest = append(rest, strings.TrimSpace(s))
			}
			if want := `"dt"|"tenant"|"account"|split_part(parse_filename(filename, true), '_', 1) AS "run_id"`; strings.Join(rest, "|") != want {
				t.Errorf("DuckDB view ends with %v, want %s", rest, want)
			}
			if want := "s3://bucket/lake/" + tb.Name + "/**/*.parquet"; v[2] != want {
				t.Errorf("DuckDB reads %s, want %s", v[2], want)
			}
			if want := "hive_partitioning = true, hive_types = {'dt': DATE, 'tenant': VARCHAR, 'account': VARCHAR}, union_by_name = true, filename = true"; v[3] != want {
				t.Errorf("read_parquet options %s", v[3])
			}
		})
	}
	if !strings.Contains(d.DuckDB, "INSTALL httpfs") {
		t.Error("an s3:// lake's duckdb.sql does not say how to reach S3")
	}
}

func equalCols(a, b []sqlCol) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAthenaDDL(t *testing.T) {
	tests := []struct {
		name, root string
		want       []string
	}{
		{"s3 lake", "s3://bucket/p", []string{
			"LOCATION 's3://bucket/p/violations/';",
			// A column's doc with quotes, escaped the Hive way.
			`COMMENT 'why the resource violates the control, separated by \'; \''`,
			"-- MSCK REPAIR TABLE `audit_logs`;",
		}},
		{"local lake", "/data/lake", []string{
			"-- This lake is at /data/lake, not on S3",
			"LOCATION 's3://BUCKET/PREFIX/controls/';",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AthenaDDL(dataset.All(), tc.root)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
		})
	}
}

func TestDuckDBDDLLocal(t *testing.T) {
	got := DuckDBDDL([]dataset.Table{dataset.AuditLogsTable()}, "/data/it's lake")
	if !strings.Contains(got, `read_parquet('/data/it''s lake/audit_logs/**/*.parquet'`) || strings.Contains(got, "httpfs") {
		t.Errorf("duckdb.sql:\n%s", got)
	}
	if got := DuckDBDDL(nil, "/x"); strings.Contains(got, "CREATE") || !strings.Contains(got, "No table has files") {
		t.Errorf("empty lake:\n%s", got)
	}
}

func TestColumnsRefuseClashes(t *testing.T) {
	tests := []struct {
		col string
		err bool
	}{
		{"tenant", false}, // replaced by the partition key
		{"account", true},
		{"dt", true},
		{"run_id", true},
		{"filename", true},
		{"account_id", false},
	}
	for _, tc := range tests {
		t.Run(tc.col, func(t *testing.T) {
			tb := dataset.Table{Name: "t", Columns: []dataset.Column{{Name: "a", Kind: dataset.String}, {Name: tc.col, Kind: dataset.Int}}}
			cols, err := Columns(tb)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if err == nil && cols[len(cols)-3].Name != "dt" {
				t.Fatalf("columns %+v", cols)
			}
		})
	}
	for _, tb := range dataset.All() {
		if _, err := Columns(tb); err != nil {
			t.Errorf("dataset table: %v", err)
		}
	}
}
