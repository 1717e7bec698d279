// Package emulator is an in-process emulator of the parts of the Lacework
// API v2 that the evidence collector uses. It is an independent
// implementation of the wire format, written from the API document and the
// go-sdk JSON shapes, so that client mistakes (wrong keys, ignored paging,
// ignored Retry-After, wrong time formats, missing Account-Name ...) fail
// in tests instead of against a customer tenant.
//
// A *Server is an http.Handler; mount it on net/http/httptest:
//
//	emu := emulator.New(emulator.Config{Seed: 42})
//	ts := httptest.NewServer(emu)
//
// # What is emulated
//
//   - POST /api/v2/access/tokens: X-LW-UAKS secret + {"keyId","expiryTime"}
//     (1..86400 s) → 201 {"expiresAt","token"} (no "data" wrapper). Every
//     other request needs "Authorization: Bearer <token>" (the raw token is
//     accepted too, as go-sdk sends it).
//   - Organisation access: the Account-Name header (case-insensitive value)
//     selects the sub-account; absent means the primary account, which
//     holds data like a sub-account of its own name. Unknown or
//     Config.Forbidden names get 403. Org-Access is ignored.
//   - GET /api/v2/UserProfile, GET /api/v2/CloudAccounts[/{type|intgGuid}]
//     (AwsCfg ×3, one disabled; AzureCfg; GcpCfg at organisation level),
//     GET /api/v2/Configs/AzureSubscriptions[?tenantId=],
//     GET /api/v2/Configs/GcpProjects[?orgId=],
//     GET /api/v2/ReportDefinitions[/{guid}].
//   - GET /api/v2/Reports (format json or pdf; reportType or reportName;
//     optional severity and status filters): deterministic recommendations
//     whose summary is consistent with them, and a small valid PDF.
//   - POST /api/v2/Configs/ComplianceEvaluations/search (7-day window,
//     90-day history), POST /api/v2/Inventory/search (the last daily 02:00
//     UTC collection in the window), GET /api/v2/AuditLogs and POST
//     /api/v2/AuditLogs/search, all paged: {"paging":{"rows","totalRows",
//     "urls":{"nextPage"}},"data":[...]}; next pages are absolute URLs on the
//     request's host, fetched with GET, valid for 24 hours, at most
//     PageSize rows per page and ResultCap rows per result set.
//   - Time parameters in the four documented UTC formats only
//     (yyyy-MM-dd, yyyy-MM-ddTHH, yyyy-MM-ddTHH:mm:ssZ,
//     yyyy-MM-ddTHH:mm:ss.SSSZ); windows are half-open [start, end).
//   - Search filters: eq, ne, in, not_in, like, not_like, ilike, not_ilike,
//     rlike, not_rlike on the string fields listed per endpoint; "returns"
//     projects top-level fields. Unsupported fields or expressions get 400
//     (never silently ignored). Unknown body fields get 400. POST bodies
//     must be application/json and at most 1 MB.
//   - Rate limiting: one token bucket per (key id, functionality) with
//     RateLimit-Limit / -Remaining / -Reset headers on every /api/v2
//     response; an empty bucket answers 429 with Retry-After and blocks the
//     bucket until then. Requests arriving while a bucket is blocked are
//     violations (Violations()).
//   - Fault injection (Faults): 5xx, dropped connections (before any byte,
//     or after the headers and half the body), injected 429s, slow
//     responses, and hostile values in rows (Tricky).
//   - A request log (Requests) with page identities, so tests can assert
//     that every page was fetched exactly once (DuplicatePages).
//
// # Data model
//
// Everything derives from Config.Seed: the same seed gives the same bytes.
// Rows are never stored: evaluations and audit logs are EvaluationsPerDay /
// AuditLogsPerDay rows per UTC day, evenly spaced at millisecond resolution,
// generated on demand from (seed, sub-account, dataset, row index); a page
// is encoded into a pooled buffer, so memory stays flat at millions of rows
// and the Count* methods are arithmetic. Data exists for the 120 days before
// Config.Now. Inventory resources are stable across daily collections;
// evaluation and report resources are inventory resources of the same
// account. A page's state travels in its signed next-page token; the server
// keeps nothing per result set.
//
// # What is not emulated
//
//   - Every other endpoint (404), write operations (405), Org-Access
//     org-level datasets, service users, the 1 MB limit on non-POST bodies,
//     and "expression" filters of type gt/lt/ge/le/between/expr (400).
//   - Reports: csv and html formats (400), more than one page of PDF,
//     custom report definitions (the only custom one is disabled).
//   - Inventory and audit logs have no window limits (the document states
//     none); only ComplianceEvaluations enforces 7 days / 90 days.
//   - Clocks: data, page-token expiry and reportTime follow Config.Now;
//     rate limiting, Retry-After and access-token expiry follow the real
//     clock (they are exercised with real, scaled-down durations).
//
// Go's http.Transport transparently retries an idempotent request (GET)
// whose reused connection closes before any response byte; such a
// "drop-before" is then invisible to the client and both attempts appear in
// the request log. Disable keep-alives in tests that count drops.
package emulator
