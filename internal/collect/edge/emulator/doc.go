// Package emulator is an in-process emulator of the Lacework Edge API
// operations the evidence collector reads (seed 001): TokenLogin, Query
// Users, Query Groups, Query Apps, Query access objects, Query policies and
// Query Audit Events. It is written from the API document, independently of the
// client in the parent package, so that client mistakes (wrong keys,
// ignored continuation tokens, ignored Retry-After, a token refresh that
// never happens, a secret field copied into the pack) fail in tests.
//
// A *Server is an http.Handler; mount it on net/http/httptest:
//
//	emu := emulator.New(emulator.Config{Seed: 42, PageSize: 100})
//	ts := httptest.NewServer(emu)
//
// # What is emulated
//
//   - Paths: the document gives none; Config.Paths (default DefaultPaths,
//     the client's defaults) places every operation. Only GET is served
//     (405 otherwise); other paths are 404.
//   - TokenLogin: GET ?account=<account> with the long-lived API token as
//     "Authorization: Bearer <api token>" (Config.APIToken) → 200 with every
//     field of the document's sample (token, ttl_sec, expire_time_sec, ...).
//     HTTP Basic uuid:secret is refused (401) unless Config.AcceptBasic: it
//     is the client's undocumented guess. A wrong account or token is 401; a
//     missing account is 400. Every other request needs "Authorization:
//     Bearer <session token>" (401 otherwise, also when the token has
//     expired: Config.TokenTTL on the real clock).
//   - Lists, in the document's shapes, every key of the sample written (an
//     empty list as []): {"users": [...]}, {"groups": [...]}, {"apps":
//     [...]}, {"audit_events": [...]}; elements carry every field of the
//     document's Get … details samples (testdata/contract of the client).
//     Times are epoch milliseconds, enums numbers.
//   - Lookups: Query access objects and Query policies require appid and
//     userid (400 when missing or empty: they are not listings; an unknown
//     id finds nothing) and answer the objects that apply to that app and
//     user: the app is in app_list (app_filter), and the user is selected
//     directly, by a bare uuid or through a group (user i is a member of
//     group i mod Groups, the emulator's own model), and not revoked. Tag
//     selectors select nobody. {"accesses", "apps", "groups", "users"} carry
//     the accesses and the objects they name; Query policies also requires
//     resolveDisplayNames (true or false; true fills
//     filter_selector_display_names). Filters are {"selectors": [...]}, our
//     invention: the document prints proto.Filter collapsed.
//   - Query parameters: status (comma separated INIT | ACTIVE | SUSPENDED
//     | DELETED) on users, groups and apps; start_time (required) and
//     end_time (default now) in epoch milliseconds on audit events, a
//     half-open window (Config.AuditTimesInSeconds reads seconds: a server
//     whose unit the client has wrong). Other parameters (tag, datasource)
//     are 400: not emulated, never silently ignored.
//   - Paging: with Config.PageSize 0 a list is one response, as the
//     document shows. With PageSize > 0 a response holds at most PageSize
//     records and a signed "continuation_token" while more remain; the next
//     page is the same request plus continuation_token=<token>. A token of
//     another operation or another audit window, or a forged one, is 400.
//   - Faults (Faults): every k-th API request gets a 5xx (500, 502, 503
//     with Retry-After), a 429 with Retry-After that blocks the operation
//     until it has passed, a dropped connection (before any byte, or after
//     the headers and half the body), or finds its session token expired
//     (401; the token is revoked). Requests that arrive while a 429 block is
//     in force are recorded as violations (Violations).
//   - A request log (Requests) with page identities, so tests can assert
//     that every page was served completely exactly once (DuplicatePages).
//
// # Data model
//
// Everything derives from Config.Seed and an index: user i, group j, app k,
// access m and audit event n are computed on demand, so a list of a million
// users costs one page of memory and the Count* methods and Review are
// arithmetic. Audit events are AuditEventsPerDay per UTC day, evenly spaced,
// for the 120 days before Config.Now. Accesses assign groups and users by
// index; some of them, by construction, name a suspended user or group, a
// user that does not exist, a revoked user, allow guest access, or end in
// the past while still active: Review says how many, for tests of the
// access-review controls. Every access and policy applies to at least one
// (app, user) pair (with Users >= 2), so a complete lookup finds them all. Users carry an
// mfa_encrypted_secret and audit events a request_body holding
// SecretMarker, so tests can prove neither reaches a pack.
//
// Go's http.Transport retries an idempotent request whose reused connection
// closes before any response byte; such a drop is then invisible to the
// client and both attempts appear in the log.
package emulator
