// Package sophos is the client of the Sophos Cloud Optix API v1 (seed 004)
// that the evidence collector uses: environments (GET api/v1/accounts),
// alerts and their counts (api/v1/alerts, api/v1/alerts/count) filtered by
// compliance framework (policyTagList), the inventory endpoints
// (vms, users, serverless, containers), and the cloud activity logs of the
// search endpoint (api/v1/search/{AWS,AZURE,GCP}_ACTIVITY_LOG).
//
// Contract:
//   - Every request carries "Authorization: ApiKey <key>". The key is an
//     httpx.Secret: it is never logged or put into an error.
//   - Paged endpoints are iter.Seq2 iterators that fetch one page at a time,
//     spool it and yield its rows one by one. Alerts count pages from 1, at
//     most 50 rows a page; the inventory endpoints count from 0 with 100 to
//     500 rows a page (serverless from 1 when page 0 is refused); search
//     counts from 1, at most 10000 rows a page. Paging follows hasNext and is
//     held to totalPages and, when sent, totalElements. GET api/v1/accounts
//     is one array, or pages when the API answers with a paged envelope.
//     Iterators are lazy: nothing is sent until the loop starts, and
//     breaking out of the loop stops paging.
//   - Epoch numbers are seconds below 10¹¹, else milliseconds; AWS account
//     ids sent as numbers get their leading zeros back.
//   - Queries the document forbids (days together with lastSeenFrom/To, days
//     outside 1-365, lastSeenTo not after lastSeenFrom, page sizes out of
//     range, undocumented filter values) fail with ErrInvalidQuery before
//     any request.
//   - Errors say which tenant, environment and framework failed and how to
//     fix it. A refused key (401, 403, or 400 "ApiKey not provided") wraps
//     httpx.ErrAuth; "Account Ids <ids> not found" wraps
//     ErrEnvironmentNotFound; the document's other 400 messages wrap
//     ErrInvalidQuery, or ErrNotSupported for a container provider/type
//     combination the API does not have. Test them with errors.Is.
//   - Retries, Retry-After and backoff are httpx's: 429, 5xx and dropped
//     connections are retried; a page is decoded only once fully received.
//     The document states no rate limits, so each endpoint is its own
//     httpx.Limiter bucket paced by the server's 429s alone.
//
// The emulator sub-package is an independent http.Handler written from the
// same document, for tests and the demo.
package sophos
