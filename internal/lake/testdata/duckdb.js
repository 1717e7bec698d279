// Independent reader for the lake tests: DuckDB runs the lake's generated
// duckdb.sql, then each named query, and prints {name: rows} as JSON.
// usage: node duckdb.js <node_modules dir> <duckdb.sql> <queries.json>
const fs = require('fs');
const { DuckDBInstance } = require(require.resolve('@duckdb/node-api', { paths: [process.argv[2]] }));
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run("SET TimeZone = 'UTC'");
  await c.run(fs.readFileSync(process.argv[3], 'utf8'));
  const queries = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));
  const out = {};
  for (const [name, sql] of Object.entries(queries)) {
    out[name] = (await c.runAndReadAll(sql)).getRowObjectsJson();
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
