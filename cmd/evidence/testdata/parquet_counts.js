// Independent Parquet reader for the end-to-end tests: DuckDB, at its
// default settings, reads the pack's Parquet through the views of
// pack.duckdb.sql and directly, and prints row counts.
// usage: node parquet_counts.js <node_modules dir> <pack dir>
const fs = require('fs');
const { DuckDBInstance } = require(require.resolve('@duckdb/node-api', { paths: [process.argv[2]] }));
(async () => {
  process.chdir(process.argv[3]);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const q = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
  await c.run(fs.readFileSync('pack.duckdb.sql', 'utf8'));
  const out = {
    evaluations: await q(`SELECT dataset, sub_account AS account, count(*) AS n FROM evaluations GROUP BY ALL ORDER BY ALL`),
    inventory: await q(`SELECT csp, sub_account AS account, count(*) AS n FROM inventory GROUP BY ALL ORDER BY ALL`),
    audit_logs: await q(`SELECT sub_account AS account, count(*) AS n, count(created_time) AS timed FROM audit_logs GROUP BY ALL ORDER BY ALL`),
    controls: await q(`SELECT count(*) AS n FROM controls`),
    // Straight from the files with DuckDB's defaults (Hive partitioning
    // detected): no folder may shadow a column, so each framework's real
    // name comes back, and filtering on it finds its rows.
    frameworks: await q(`SELECT framework, count(*) AS n FROM read_parquet('parquet/controls/*/*.parquet') GROUP BY ALL ORDER BY ALL`),
    by_name: await q(`SELECT count(*) AS n FROM read_parquet('parquet/controls/*/*.parquet') WHERE framework = (SELECT min(framework) FROM controls)`),
  };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
