package parquet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/testtool"
)

// TestDuckDBReads checks the file with DuckDB: npm's @duckdb/node-api in
// EVIDENCE_DUCKDB_NODE_MODULES (.ci/run installs it; the project itself adds
// no Node dependency). Without it the test fails in CI and is skipped,
// loudly, elsewhere.
func TestDuckDBReads(t *testing.T) {
	b := writeFile(t, Options{RowGroupRows: 10, Metadata: map[string]string{"tenant": "acme"}}, 25, 4)
	path := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f := "'" + strings.ReplaceAll(path, "'", "''") + "'"
	var got struct {
		Describe []struct {
			Name string `json:"column_name"`
			Type string `json:"column_type"`
		} `json:"describe"`
		Counts []map[string]string `json:"counts"`
		First  []map[string]any    `json:"first"`
		Groups []map[string]string `json:"groups"`
		KV     []map[string]string `json:"kv"`
	}
	testtool.QueryDuckDB(t, "", "", map[string]string{
		"describe": "DESCRIBE SELECT * FROM " + f,
		"counts":   "SELECT count(*) AS n, count(resource_id) AS s, count(evaluated_at) AS t, max(length(resource_id)) AS maxlen FROM " + f,
		"first":    "SELECT resource_id, count, passed, CAST(evaluated_at AS VARCHAR) AS at FROM " + f + " LIMIT 1",
		"groups":   "SELECT count(DISTINCT row_group_id) AS g, min(compression) AS codec FROM parquet_metadata(" + f + ")",
		"kv":       "SELECT CAST(key AS VARCHAR) AS k, CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata(" + f + ")",
	}, &got)
	want := []string{"resource_id VARCHAR", "count BIGINT", "score DOUBLE", "passed BOOLEAN", "evaluated_at TIMESTAMP WITH TIME ZONE", "account VARCHAR"}
	if len(got.Describe) != len(want) {
		t.Fatalf("describe: %+v", got.Describe)
	}
	for i, d := range got.Describe {
		if d.Name+" "+d.Type != want[i] {
			t.Errorf("column %d: %s %s, want %s", i, d.Name, d.Type, want[i])
		}
	}
	if c := got.Counts[0]; c["n"] != "25" || c["s"] != "20" || c["t"] != "15" || c["maxlen"] != "40000" {
		t.Errorf("counts %v", c)
	}
	if f := got.First[0]; f["resource_id"] != "東京" || f["count"] != "-3" || f["passed"] != true || f["at"] != "2024-05-06 07:08:09+00" {
		t.Errorf("first row %v", f)
	}
	if g := got.Groups[0]; g["g"] != "3" || g["codec"] != "ZSTD" {
		t.Errorf("row groups %v", g)
	}
	if len(got.KV) != 1 || got.KV[0]["k"] != "tenant" || got.KV[0]["v"] != "acme" {
		t.Errorf("kv metadata %v", got.KV)
	}
}
