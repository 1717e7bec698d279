// Package ibmscc is the client of the IBM Cloud Security and Compliance
// Center (SCC) Workload Protection API (seed 002), the Sysdig Secure API as
// IBM hosts it. It reads what the evidence pack needs: the CSPM compliance
// views, their requirements and controls with the failing resources of each
// control, the inventory, and the activity-audit events.
//
// Contract:
//   - Authentication: an IBM Cloud API key is exchanged at the IAM token
//     endpoint (POST https://iam.cloud.ibm.com/identity/token, form
//     grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=…; the URL is
//     configurable so an emulator can serve it). The access token is sent as
//     "Authorization: Bearer …" with the instance's GUID in "IBMInstanceID"
//     and, when configured, the team's in "SysdigTeamID" (not the seed's "TeamID": see HeaderTeam).
//     Tokens are renewed before they expire, and once more after a 401.
//   - Errors: a key the IAM endpoint refuses (the document: "400 Client
//     Error: Bad Request for url: https://iam.cloud.ibm.com/identity/token,
//     check the API key") and a 401 that persists after a fresh token wrap
//     httpx.ErrAuth; a 403 wraps ErrForbidden. Other non-2xx responses are
//     *httpx.APIError. 429, 5xx and dropped connections are retried by httpx.
//   - Paging: the CSPM lists use pageNumber/pageSize and report totalCount;
//     the activity audit uses a from/to window (epoch nanoseconds) for the
//     first page and the "prev" cursor after it. A from/to span may not
//     exceed 2 weeks (MaxAuditWindow), so a longer period is read as
//     consecutive half-open windows, each a result set of its own. Every list is an
//     iter.Seq2[T, error] that spools one page to disk, decodes its rows one
//     at a time, and fetches the next
//     only when the caller asks for it. A page that comes back identical to
//     the one before, or a cursor seen twice, ends the iterator with an error
//     instead of looping.
//   - Secrets: the API key is an httpx.Secret; it travels only in the IAM
//     request body and the tokens only in request headers, neither of which
//     anything here logs.
//
// The document gives paths, parameters and status codes but no response
// schemas; the wire structs in types.go follow the public Sysdig Secure API
// (the JSON the Sysdig SDKs and tools decode) and are tolerant where those
// sources disagree (numbers sent as strings, epoch seconds or milliseconds).
package ibmscc
