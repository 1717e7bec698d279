package testtool

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"
)

// duckdbScript is the one DuckDB runner of the tests: an in-memory
// database at UTC, working in the folder it is started in, runs the setup
// SQL, then each named query, and prints {name: rows} as JSON, rows as
// @duckdb/node-api's getRowObjectsJson gives them (BIGINT and DECIMAL as
// strings, TIMESTAMP as ISO text, NULL as null).
// usage: node -e SCRIPT <node_modules dir> <request JSON {setup, queries}>
const duckdbScript = `
const { DuckDBInstance } = require(require.resolve('@duckdb/node-api', { paths: [process.argv[1]] }));
(async () => {
  const req = JSON.parse(process.argv[2]);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run("SET TimeZone = 'UTC'");
  if (req.setup) await c.run(req.setup);
  const out = {};
  for (const [name, sql] of Object.entries(req.queries)) {
    out[name] = (await c.runAndReadAll(sql)).getRowObjectsJson();
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`

// QueryDuckDB reads with DuckDB, the tests' independent reader of Parquet
// and of the generated DuckDB SQL: one DuckDB, started in dir (relative
// paths in the SQL are to it; "" is the test's own folder), runs setup
// (statements, or "") and then every query, and decodes the JSON object
// {name: rows} into out (a map or a struct with a field per query name).
// One start serves every query: give all of a test's queries at once.
// Without DuckDB the test fails in CI and is skipped, loudly, elsewhere; a
// failing statement ends the test with DuckDB's message.
func QueryDuckDB(t testing.TB, dir, setup string, queries map[string]string, out any) {
	t.Helper()
	node, modules := DuckDB(t)
	req, err := json.Marshal(struct {
		Setup   string            `json:"setup"`
		Queries map[string]string `json:"queries"`
	}{setup, queries})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "-e", duckdbScript, modules, string(req))
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("duckdb output: %v\n%s", err, stdout.Bytes())
	}
}
