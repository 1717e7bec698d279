// Package httpx is the HTTP layer every evidence source shares: authentication
// hooks, per-bucket rate limiting, bounded retries with full jitter, host
// pinning for next-page URLs, and what the API clients need beyond HTTP so
// that they depend on nothing else: the options they share and their
// defaults (Options), a query's page statistics (QueryStats, Part), the
// refused-credentials sentinel (ErrAuth, Auth), a guard against repeated or
// endless pages (PageGuard) and iterator helpers (Map, Fail).
//
// Contract:
//   - Request bodies are kept as []byte and a fresh *http.Request is built for
//     every attempt, so a retried POST always sends its whole body.
//   - 429 responses block their bucket until Retry-After / RateLimit-Reset has
//     passed; no request of that bucket is sent before then. RateLimit-Remaining
//     is used to pace proactively. 5xx, timeouts and dropped connections are
//     retried with exponential backoff and full jitter, bounded in attempts and
//     elapsed time. A 401 gets exactly one credential refresh. Other 4xx are
//     returned at once as *APIError.
//   - Absolute URLs (next pages) are followed only on the configured scheme and
//     host; anything else is ErrForeignURL and is never fetched.
//   - Redirects are followed only within the base's scheme, host and port;
//     anything else fails at once with ErrForeignURL.
//   - No wait (backoff, Retry-After, a blocked bucket) ends after the
//     context's deadline or the request's Retry.MaxElapsed: it fails at once
//     with ErrWaitTooLong quoting the server's header. A body slower than
//     Retry.SlowBytes per SlowWindow, stalled, or not whole within
//     Retry.MaxAttempt fails its attempt (ErrSlowResponse) and is retried.
//   - JSON buffers at most Config.MaxBodyBytes after decompression, Spool
//     writes at most Config.MaxSpoolBytes; past them ErrTooLarge, no file.
//   - Nothing here logs headers or bodies: secrets and tokens travel only in
//     headers. Server text put into errors (APIError.Message, request ids,
//     a redirect's host) passes Config.Redactor. Use Secret for values that
//     must never be printed.
package httpx
