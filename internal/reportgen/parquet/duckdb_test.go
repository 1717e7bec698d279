package parquet

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/evidence-pack/evidence/internal/testtool"
)

// duckdbScript reads a Parquet file with DuckDB (an independent reader) and
// prints the schema, counts and a few values as JSON.
const duckdbScript = `
const { DuckDBInstance } = require(require.resolve('@duckdb/node-api', { paths: [process.argv[1]] }));
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const f = process.argv[2].replaceAll("'", "''");
  const q = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
  const out = {
    describe: await q("DESCRIBE SELECT * FROM '" + f + "'"),
    counts: await q("SELECT count(*) AS n, count(resource_id) AS s, count(evaluated_at) AS t, max(length(resource_id)) AS maxlen FROM '" + f + "'"),
    first: await q("SELECT resource_id, count, passed, CAST(evaluated_at AS VARCHAR) AS at FROM '" + f + "' LIMIT 1"),
    groups: await q("SELECT count(DISTINCT row_group_id) AS g, min(compression) AS codec FROM parquet_metadata('" + f + "')"),
    kv: await q("SELECT CAST(key AS VARCHAR) AS k, CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata('" + f + "')"),
  };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestDuckDBReads checks the file with DuckDB: npm's @duckdb/node-api in
// EVIDENCE_DUCKDB_NODE_MODULES (.ci/run installs it; the project itself adds
// no Node dependency). Without it the test fails in CI and is skipped,
// loudly, elsewhere.
func TestDuckDBReads(t *testing.T) {
	node, dir := testtool.DuckDB(t)
	b := writeFile(t, Options{RowGroupRows: 10, Metadata: map[string]string{"tenant": "acme"}}, 25, 4)
	path := filepath.Join(t.TempDir(), "t.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "-e", duckdbScript, dir, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.String())
	}
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
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
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
