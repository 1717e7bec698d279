// Package emulator is an in-process emulator of the parts of the IBM Cloud
// SCC Workload Protection API (seed 002) and of the IBM Cloud IAM token
// endpoint that the evidence collector uses. It is written from the API
// document and the public Sysdig Secure JSON shapes, independently of the
// client, so client mistakes (a missing IBMInstanceID, milliseconds where
// nanoseconds are due, an unescaped quote in a filter, a cursor sent with
// from/to, ignored totalCount, ignored Retry-After) fail in tests.
//
// A *Server is an http.Handler; mount it on net/http/httptest:
//
//	emu := emulator.New(emulator.Config{Seed: 42})
//	ts := httptest.NewServer(emu)
//	// api_url: ts.URL, iam_url: ts.URL + emulator.PathToken
//
// # What is emulated
//
//   - POST /identity/token (IAM): form grant_type=urn:ibm:params:oauth:
//     grant-type:apikey and apikey → {"access_token", "token_type":
//     "Bearer", "expires_in": 3600, "expiration", …}. A wrong key gets 400
//     {"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could
//     not be found."}.
//   - Every /api request needs "Authorization: Bearer <token>" and the
//     instance GUID in IBMInstanceID: a missing, unknown or expired token
//     and a missing or unknown IBMInstanceID get 401 {"message": "Invalid
//     or missing auth token…"}. SysdigTeamID is optional; an unknown team gets
//     403. Only GET is served (405 otherwise); unknown paths get 404;
//     unknown query parameters get 400.
//   - GET /api/cspm/v1/compliance/views (no parameters): every zone with
//     its policies, failedControls, resourceViolationSummary and one
//     requirementsHistory entry (date in epoch seconds).
//   - GET /api/cspm/v1/compliance/requirements: filter (fields name,
//     policy.name, zone.name, pass, severity), pageNumber (default 1),
//     pageSize (default 10); every requirement carries its controls (no parameter asks for them).
//     totalCount is a string, as the API sends it here.
//   - GET /api/cspm/v1/{cloud,kube,clusteranalysis}/resources: a control's
//     resources, reached through its resourceApiEndpoint (controlId,
//     providerType, resourceKind, benchmarkType, filter "policyId=… and
//     zones.id=…" plus pass and accepted), pageSize default 50. Resources
//     whose risk is accepted carry an "acceptance" object and "passed":
//     true, so pass=false does not find them (inferred from the document's
//     example filter "pass=false or accepted=true"); the control's
//     objectsCount, acceptedCount and passingCount count the three kinds,
//     without overlap. lastSeenDate is in milliseconds (hosts: seconds).
//   - GET /api/cspm/v1/inventory/resources: filter (account, platform),
//     fields (only the named fields are returned), pageSize default 20;
//     lastSeen in epoch seconds; metadata keys differ per platform.
//   - GET /api/v2/activityAudit/events: from and to in epoch nanoseconds, or
//     cursor (mutually exclusive: 400), limit 1..9999 (default 100); a
//     from/to span longer than 2 weeks gets 400 (seed 002 states the limit
//     for the secure-events feed; inferred for the audit events). Events
//     come newest first; page.prev continues with older events, page.next
//     with newer ones. With from/to both cursors are always set; with a
//     cursor, prev is set iff older events exist, and results are not
//     bounded by the first request's window (the document's secure-events
//     paging). Timestamps are JSON numbers in nanoseconds.
//   - The query language subset: terms joined by "and", each `f = v`,
//     `f != v` or `f in (v, …)`, strings double-quoted with \" and \\
//     escapes. Anything else gets 400.
//   - Faults: refused API key, short token lifetime, tokens that expire
//     every k-th request (401, then the token stays revoked), 429 with
//     Retry-After: 1 that blocks the endpoint family for a second (requests
//     during the block are logged as violations), 5xx every k-th request
//     (500, 502, 503 with Retry-After), dropped connections (before any byte,
//     or after the headers and half the body), and hostile values (Tricky).
//   - A request log with page identities, so tests can assert that no page
//     was served twice (DuplicatePages) and no request ignored a
//     Retry-After (Violations).
//
// # Data model
//
// Everything derives from Config.Seed arithmetically; nothing is stored per
// row. Zone z has policy p when z is 0 or z+p is even. Policy p has
// RequirementsPerPolicy requirements; requirement r has 1..
// ControlsPerRequirement controls; control c evaluated in zone z has up to
// ResourcesPerControl resources, split into failing, accepted and passing
// runs (resource j is failing for j < objectsCount, accepted for the next
// acceptedCount). Inventory resource i belongs to account i mod 5
// (Accounts), so a filtered page is computed directly. Audit event k happens
// at k·(24h/AuditEventsPerDay) ns after the epoch, in [Now-90d, Now). The
// Count* methods are the same arithmetic: what a correct client reads.
//
// # What is not emulated
//
//   - Every other endpoint, "or"/"not"/"contains"/"startsWith"/"exists" in
//     filters, the activity-audit filter and types parameters, the audit
//     summary and trace endpoints, and any data change between pages.
//   - The control-resource endpoints serve one control's results per policy
//     and zone only (the filter must hold policyId and zones.id, as every
//     resourceApiEndpoint does); from/to below 10¹⁷ ns (1973) are refused as
//     seconds or milliseconds sent by mistake.
//   - No rate limit of its own: the document states none. Only the injected
//     429s pace the client.
//   - Clocks: data follow Config.Now; token lifetimes and Retry-After blocks
//     follow the real clock.
//
// Go's http.Transport retries an idempotent GET whose reused connection
// closes before any response byte; such a drop is then invisible to the
// client and both attempts appear in the log.
package emulator
