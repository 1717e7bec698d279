// Package lake copies the Parquet datasets of published evidence packs into
// a data lake: a directory or S3 prefix laid out so that Athena, Glue and
// DuckDB query every run of every tenant as one table per dataset. It also
// generates the DDL to do so.
//
// # Layout
//
//	<lake>/<table>/dt=<YYYY-MM-DD>/tenant=<tenant>/account=<sub-account>/<run-id>[_<extra>].parquet
//	<lake>/_ddl/athena.sql     CREATE EXTERNAL TABLE per dataset table
//	<lake>/_ddl/duckdb.sql     CREATE OR REPLACE VIEW per table present in the lake
//
// table is a dataset table (internal/dataset: controls, violations,
// evaluations, inventory, audit_logs); dt is the UTC day the pack's period
// starts (a multi-day period is filed under its first day); tenant is the
// pack's tenant and account the sub-account of the pack's
// "account=<sub-account>" folder. Each value is a storage.SafePart with '='
// replaced by '_'.
//
// Every table has the same three partition keys, dt, tenant and account,
// and no others. The pack's file name (framework-, dataset- or csp-, or
// a k=v folder between the table and account= in older packs) becomes part
// of the lake file name instead:
//
//	parquet/controls/account=prod/framework-CIS_1.4.parquet
//	  → controls/dt=2026-11-21/tenant=acme/account=prod/20261121T030405Z-3f9a1c_framework-CIS_1.4.parquet
//
// It is not a partition key for three reasons. A partition key overrides the
// file column of the same name, in Athena and DuckDB alike, and the folder
// holds a slug ("CIS_1.4"), so the rows would lose the framework's real name
// ("CIS 1.4"). Athena also refuses a partition column that repeats a data
// column. And each of these values is already a column of its table, so
// queries can filter on it anyway. The same rule makes the tenant partition
// replace the tenant column: queries see the tenant's key part, which is the
// tenant's name unless the name has characters other than letters, digits,
// '-', '_' and '.'. Athena's DDL therefore declares tenant only as a
// partition column.
//
// The file name starts with the run id (pack id), and the name has no
// other '_' before the extra part. Two runs of the same day sit side by
// side in one folder, and a query tells them apart by run id. The DuckDB
// views give it as a run_id column; in Athena it is in "$path".
//
// # Export
//
// Export takes a pack's prefix in its store and reads the pack's
// manifest.json. Only a published pack has one, so an unpublished pack is
// refused with ErrNotPublished. For each Parquet file of the manifest,
// Export streams the file from the pack's store into the lake. It computes
// SHA-256 and size while it copies and compares them with the manifest.
// On a mismatch the reader fails at EOF, before the store commits the
// object, so nothing is left under the lake key (ErrChecksum). Export never
// deletes or overwrites anything. An object already in the lake is read
// back and hashed: the same checksum counts as already exported (a second
// export of a run is a no-op), and a different one fails with ErrConflict.
// Files are copied one at a time; the first error stops the export, and
// the files copied before it stay, verified. Because export is idempotent,
// running it again completes the rest.
//
// Then Export writes the DDL to _ddl/. A storage.Replacer replaces the
// files; otherwise Put writes them, which works only if they are absent
// or identical. Files whose content has not changed are not rewritten.
//
// # DDL
//
// Columns, types and order come from internal/dataset; a test compares them
// with the schema of the Parquet files that internal/reportgen/parquet
// writes. Kinds map to Athena and DuckDB types as follows: String to
// string/VARCHAR, Int to bigint/BIGINT, Float to double/DOUBLE, Bool to
// boolean/BOOLEAN, and Time to timestamp/TIMESTAMPTZ (the files hold UTC
// instants). The data columns are followed by the partition columns dt,
// tenant and account; the DuckDB views also have run_id.
//
// The Athena tables use no partition projection, because tenants and
// sub-accounts are not known in advance. After each export, run MSCK REPAIR
// TABLE, or ALTER TABLE ADD PARTITION, so that Athena sees the new
// partitions. The DuckDB views read '<lake>/<table>/**/*.parquet' with
// hive_partitioning and union_by_name. DuckDB refuses a view over a glob
// that matches no file, so duckdb.sql has a view only for the tables that
// have files in the lake. Each export rewrites it.
//
// # Amazon Security Lake
//
// ExportSecurityLake writes a published pack's controls and violations as
// OCSF Compliance Finding events (internal/ocsf) into an Amazon Security
// Lake custom source's layout,
// region=<region>/accountId=<id>/eventDay=<YYYYMMDD>/<file>.parquet (see
// SecurityLake for the partition values). It reads the pack's files as
// Export does, checked against the manifest, and writes through the same
// putOnce: never overwriting, a second export a no-op.
package lake
