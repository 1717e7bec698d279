// Independent Parquet reader for the end-to-end tests: DuckDB reads the
// pack's Parquet folders as Hive-partitioned tables and prints row counts.
// usage: node parquet_counts.js <node_modules dir> <pack dir>
const { DuckDBInstance } = require(require.resolve('@duckdb/node-api', { paths: [process.argv[2]] }));
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const dir = process.argv[3].replaceAll("'", "''");
  const q = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
  const out = {
    evaluations: await q(`SELECT dataset, account, count(*) AS n FROM read_parquet('${dir}/parquet/evaluations/*/*/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL`),
    inventory: await q(`SELECT csp, account, count(*) AS n FROM read_parquet('${dir}/parquet/inventory/*/*/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL`),
    audit_logs: await q(`SELECT account, count(*) AS n, count(created_time) AS timed FROM read_parquet('${dir}/parquet/audit_logs/*/*.parquet', hive_partitioning=true) GROUP BY ALL ORDER BY ALL`),
    controls: await q(`SELECT count(*) AS n FROM read_parquet('${dir}/parquet/controls/*/*/*.parquet', hive_partitioning=true)`),
  };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
