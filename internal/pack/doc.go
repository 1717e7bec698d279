// Package pack is the evidence-pack format, schema "evidence-pack/v1": its
// layout, manifest.json, SHA256SUMS, the Writer that publishes a pack and
// Verify that checks one.
//
// # Layout
//
// layout.go builds every path of the layout and parses the ones read back
// (the lake export and the DuckDB views read the Parquet paths); nothing
// else spells them:
//
//	<prefix>/<tenant>/<period>/<run-id>/        PackPrefix(prefix, tenant, PeriodLabel(from, to), RunID(now, rnd))
//	  manifest.json                              written last: its presence means "complete"
//	  SHA256SUMS                                 `sha256sum -c SHA256SUMS` passes in this folder
//	  manifest.sig                               optional signature of manifest.json (WithSigner)
//	  index.html                                 IndexName: the landing page, every other file described (Describe) and linked
//	  summary.pdf, pack.duckdb.sql               SummaryPDF, DuckDBViews
//	  evaluations.xlsx, inventory.xlsx, audit-logs.xlsx   TableWorkbook
//	  frameworks/<framework>/evidence.xlsx|pdf   FrameworkWorkbook, FrameworkPDF
//	  frameworks/<framework>/vendor/<sub>_<acct>.pdf      VendorReport
//	  parquet/<table>/account=<sub>/<name>.parquet        ParquetFile, ParquetName, ParseParquet
//	<prefix>/<tenant>/<period>/latest.json       LatestPath
//	<prefix>/<tenant>/state.json                 StatePath
//	<prefix>/_reports/<tenant>/<from>_<to>/<run-id>/   ReportPrefix: a period report, a pack of its own
//	  report.pdf, report.xlsx                    ReportPDF, ReportWorkbook
//	  tables/<table>.parquet                     ReportTable, ParseReportTable
//
// # Publishing
//
// A Writer stages the pack in a storage.Txn when the store is a
// storage.Beginner (local: a hidden directory renamed into place on Commit),
// else it writes under the prefix directly and relies on thanos' rule: a
// prefix without manifest.json is an incomplete pack. Publish writes
// index.html (listing the data files), then SHA256SUMS (the data files and
// index.html), then manifest.sig, then manifest.json, then commits. A
// failed or cancelled Publish, or Abort, removes what was written; so after a
// failed run no manifest.json exists. Abort cleans up under
// context.WithoutCancel with a short timeout, as thanos' cleanUp does. The
// Writer never closes the readers it is given.
//
// # manifest.json
//
// JSON, 2-space indent, trailing newline, keys in snake_case, times RFC 3339
// in UTC, Files sorted by path, map keys sorted: EncodeManifest gives equal
// bytes for equal manifests. Fields:
//
//	schema                "evidence-pack/v1"
//	pack_id               the run id, also the last part of the pack's key
//	tenant                the tenant (Lacework account) the evidence is about
//	source.system         the platform: "lacework"
//	source.base_url       the API's base URL, "https://acme.lacework.net"; never credentials
//	source.api            the API and version, "Lacework API v2" (optional)
//	period.from, .to      the period covered, [from, to), UTC
//	period.label          PeriodLabel(from, to): "2026-11-21" or "2026-10-01_2026-10-31"
//	generated_at          when the pack was published (the run's clock), UTC
//	generator.name        "evidence"
//	generator.version     the program's version
//	generator.commit      the source commit it was built from (optional)
//	scope.sub_accounts    sub-accounts covered ([] if none)
//	scope.accounts        cloud accounts, subscriptions or projects covered
//	scope.frameworks      compliance frameworks covered
//	scope.datasets        datasets collected
//	queries[]             one per unit of work: dataset, sub_account, account,
//	                      framework (each optional but dataset), window.from/.to
//	                      (the query's time range), pages and rows received,
//	                      requests made (optional, includes retries)
//	files[]               every file of the pack but manifest.json and
//	                      manifest.sig, SHA256SUMS included: path (relative,
//	                      slash-separated), size in bytes, sha256 (lower-case
//	                      hex), media_type, rows (data rows, tabular files only)
//	warnings[]            things an auditor should know that are not failures (optional)
//	failures[]            units that failed while the run carried on: unit (its
//	                      name), sub_account, account, framework, dataset, error (optional)
//	stats                 the run's counters (Stats): bytes_received,
//	                      duration_ms, network_errors, rate_limited,
//	                      requests, retries, rows, server_errors (optional)
//
// # SHA256SUMS
//
// GNU sha256sum text format, "<64 hex>  <path>\n", one line per data file
// (not manifest.json, not manifest.sig, not itself), sorted by path. ParseSums
// accepts exactly what WriteSums writes and names the line of any error.
//
// # Errors
//
// Testable with errors.Is: ErrNoManifest (Verify: no manifest.json),
// ErrBadManifest (DecodeManifest, Verify), ErrInvalid (Report.Err),
// ErrReserved (Writer.Put of manifest.json, SHA256SUMS, manifest.sig),
// ErrNotInLayout (ParseParquet),
// ErrClosed (a Writer used after Publish or Abort), storage.ErrExist
// (NewWriter on an existing pack, a path put twice, a Commit that lost a
// race) and context errors. With errors.As: *SumsError (ParseSums).
//
// Verify reports integrity findings as Problems in its Report, all of them,
// not the first; its error is for a verification that could not run.
package pack
