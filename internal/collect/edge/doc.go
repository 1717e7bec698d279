// Package edge is a client for the parts of the Lacework Edge API (seed 001,
// "Lacework Edge API (1.0)") that an access review needs: users, groups,
// apps, access objects, policies and audit events.
//
// The API document names operations, query parameters and response shapes
// but no paths, no authentication header, no paging parameters and no rate
// limits. What this package assumes where the document is silent, each of
// it configurable or documented here and in docs/sources/edge.md:
//
//   - Paths: Paths, defaulting to DefaultPaths (/api/v1/...). A base URL
//     with a path (https://host/edge) prefixes every one of them.
//   - Authentication: TokenLogin ("Triggers login using a provided API
//     token and gets the JWT token", query parameters account and redirect)
//     is called with GET and, by default (LoginAPIToken), the one
//     long-lived API token the public EdgeGuardian client logs in with, as
//     "Authorization: Bearer <api token>" (the header is inferred).
//     LoginBasic, the token's uuid and secret as HTTP Basic credentials, is
//     a guess no source documents, used only when configured. The returned
//     session token is sent as "Authorization: Bearer <token>" on every
//     other request (inferred). It is renewed before ttl_sec (or
//     expire_time_sec) runs out, and once after a 401.
//   - Lookups: Query access objects and Query policies require appid and
//     userid: they are lookups, not listings. Accesses and Policies list
//     the apps and users and look every pair up (bounded by
//     Limits.MaxLookups), keeping each object once.
//   - Paging: the document's list responses ({"users": [...]}) carry no
//     paging; other Edge lists page with "continuation_token". A response
//     that carries a non-empty continuation_token is followed by a request
//     with the same parameters plus continuation_token=<token>; a token seen
//     twice is an error (never a loop). Each response is spooled to a
//     temporary file (Options.SpoolDir) and decoded one element at a time,
//     so memory holds one record, not one page, however large an unpaged
//     list is; a connection dropped mid-body restarts that page, so no
//     record is yielded twice.
//   - Rate limits: one httpx.Limiter bucket per operation, RequestsPerHour
//     (default 480, the Lacework API v2 budget per functionality, for want
//     of an Edge figure); 429 Retry-After and 5xx are honoured and retried
//     by httpx.
//   - Times: *_time fields are epoch integers whose unit the document does
//     not state; Time reads seconds, milliseconds, microseconds or
//     nanoseconds by magnitude, quoted or not (protobuf's JSON mapping
//     quotes 64-bit integers). Query parameters start_time/end_time are
//     sent in milliseconds, the unit the document's sibling time queries
//     state ("Start time in milli-seconds"); an audit window that answers
//     nothing is probed and, unless later events prove the unit, is an
//     error (see AuditEvents).
//   - Enums (status, data_source, ...) are integers in the document's
//     samples and names in protobuf's JSON mapping; Enum keeps either.
//     StatusName maps the numbers 0-4 to UNSPECIFIED, INIT, ACTIVE,
//     SUSPENDED, DELETED: the order of the names the document gives for
//     status filters, after protobuf's zero value.
//
// Contract: every list is an iter.Seq2 that fetches lazily, holds one
// record in memory and stops at the first error (records before it have
// been yielded). A refused API token (401/403 from TokenLogin, or a 401
// that survives a fresh login) is an error wrapping ErrAuth; a 403 on one
// list is an ordinary error for that list only. Secrets never reach logs or
// errors: the API token and secret are httpx.Secrets, and the session token only
// travels in a header. Fields that carry secrets (a user's
// mfa_encrypted_secret, an audit event's request_body) are not decoded.
package edge
