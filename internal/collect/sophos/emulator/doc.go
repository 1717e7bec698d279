// Package emulator is an in-process emulator of the parts of the Sophos
// Cloud Optix API v1 (seed 004) that the evidence collector reads. It is
// written from the API document, independently of the client in the parent
// package, so that client mistakes (wrong header, 0-based alert pages,
// oversized pages, days together with lastSeenFrom, an unencoded '+' in a
// time offset, ignored Retry-After) fail in tests instead of against a
// customer.
//
// A *Server is an http.Handler; mount it on net/http/httptest:
//
//	emu := emulator.New(emulator.Config{Seed: 42})
//	ts := httptest.NewServer(emu)
//
// # What is emulated
//
//   - Authentication: "Authorization: ApiKey <key>" with Config.APIKey. No
//     header: 400 "ApiKey not provided"; another key or scheme: 401
//     "Unauthorized access or ApiKey expired".
//   - GET api/v1/alerts: the document's filters (days, lastSeenFrom,
//     lastSeenTo, alertType, providerList, policyTagList, accountIds,
//     states, severity; lists comma-separated), its 400 messages in the
//     document's order, page from 1 (mandatory), size 1..50 (default 20),
//     and the envelope {data, currentPage, hasNext, hasPrevious, totalPages,
//     size}. Alerts are ordered by environment, then newest lastSeen first.
//   - GET api/v1/alerts/count: the same filters without severity and paging;
//     {critical, high, medium, low, total}.
//   - GET api/v1/accounts: every environment (disabled ones with isEnabled
//     false) as a plain array, filtered by provider and accountIds; with
//     Config.AccountsPageSize, paged in the inventory envelope (the document
//     calls it paginated without saying how), and with
//     Config.NumericAccountIDs, AWS ids as JSON numbers.
//   - GET api/v1/vms, users, serverless (provider mandatory), containers
//     (cloudProvider eks/aks/gke/native × containerType): page from 0,
//     size 100..500 (mandatory), envelope with errorMessage null, and the
//     documented {"errorMessage": …} 400s.
//   - GET api/v1/search/{AWS,AZURE,GCP}_ACTIVITY_LOG: each enabled
//     environment's activity-log events (Config.ActivityLogsPerEnvironment),
//     page from 1, size 1..10000 (mandatory); see search.go for the parts
//     the document leaves out (response, messages, fields).
//   - Errors of the alert endpoints, 401, 404 ("No message available"),
//     405, 429 and 5xx come in Spring Boot's body {timestamp, status, error,
//     message, path}.
//   - Faults (Config.Faults): 5xx every N requests (500, 502, 503 with
//     Retry-After), 429 with Retry-After every N requests, which blocks that
//     endpoint until then, and dropped connections (before any byte, or
//     mid-body). Requests that arrive at a blocked endpoint are logged as
//     violations and get another 429.
//   - A request log (Requests) with page identities, so tests can assert
//     that every page was fetched completely exactly once (DuplicatePages)
//     and that no request ignored a Retry-After (Violations).
//
// # Data model
//
// Everything derives from Config.Seed and Config.Now; nothing is stored.
// The alerts of an environment are evenly spaced over HistoryDays, newest
// first, and their filterable attributes repeat with a fixed period (see
// alerts.go), so a page, a count or a filter costs the same for a hundred
// alerts or ten million. CountAlerts, CountHosts, CountUsers,
// CountServerless and CountContainers say what a correct client receives.
//
// # Choices where the document is silent
//
//   - lastSeenFrom/lastSeenTo bounds are inclusive; with only one of them,
//     the other side is open. Times follow the document's grammar:
//     yyyy-MM-dd['T'HH:mm:ss][+/-hh:mm]; "Z" is refused.
//   - Unknown policyTagList values match nothing (no error); unknown states
//     or severities get 400 "State not supported" / "Severity not
//     supported"; an alerts page that is missing or below 1 gets "Page
//     number should be greater than 0", a size below 1 "Pageable size cannot
//     be less than 1".
//   - A negative serverless page gets "Page number should be greater than 0";
//     other endpoints read invalid pages as 0, as documented. With
//     Config.ServerlessPagesFromOne, serverless refuses page 0 too and counts
//     from 1 (the document says both).
//   - Alerts' firstSeen/lastSeen are epoch milliseconds, or seconds with
//     Config.EpochSeconds (the document states no unit). AWS hosts' accountId
//     is a JSON number, as the vms sample types it.
//   - Config.PlainTextErrors answers every 400 with the bare message as
//     text/plain.
//   - native Kubernetes environments have no "clusters" (400 "Provider:native
//     not supported for Container-Type:clusters"); GuardDuty alerts exist
//     only in AWS environments.
//   - The document states no rate limits: there is no budget, only the
//     injected 429s. Disabled and Docker environments hold no alerts and no
//     inventory.
//
// Go's http.Transport silently retries an idempotent GET whose reused
// connection closes before any response byte; such a drop is then
// invisible to the client and both attempts appear in the request log.
package emulator
