package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Search (seed 004, "Search": GET /api/v1/search/{searchKey}; page "Starts
// with 1"; size "Integer. Mandatory. ... Max supported value is 10000").
// Only the activity-log keys are emulated.
//
// The document gives no response sample, no error message and no field of
// an activity log. The emulator's choices (inferred, as the client's):
//   - the response is the paged envelope of GET api/v1/alerts (the other
//     endpoint whose pages start at 1), plus totalElements, the row count
//     of Spring Data's Page (the API's errors are Spring Boot's);
//   - size missing, not a number or below 1: 400 "Pageable size cannot be
//     less than 1"; above 10000: 400 "Pageable size cannot be greater than
//     10000" (the alerts' wording); page below 1: 400 "Page number should be
//     greater than 0" (the wording of the outgoing-traffic endpoints, which
//     also count from 1); a missing page is page 1;
//   - any other search key: 400 "Search key <key> not supported";
//   - searchTerm and filters are accepted and ignored;
//   - events carry each cloud's own field names (see logEvent), accountId
//     as a string, and times as epoch milliseconds.
const (
	pathSearch        = "/api/v1/search/"
	maxSearchPageSize = 10000
	msgSearchKey      = "Search key %s not supported"
)

// activityLogTypes maps the activity-log search keys to the environment
// type whose events they return.
var activityLogTypes = map[string]string{"AWS_ACTIVITY_LOG": "AWS", "AZURE_ACTIVITY_LOG": "Azure", "GCP_ACTIVITY_LOG": "GCP"}

// searchEnvelope is pageEnvelope with the row count.
type searchEnvelope struct {
	Data          []any `json:"data"`
	CurrentPage   int   `json:"currentPage"`
	HasNext       bool  `json:"hasNext"`
	HasPrevious   bool  `json:"hasPrevious"`
	TotalPages    int   `json:"totalPages"`
	Size          int   `json:"size"`
	TotalElements int   `json:"totalElements"`
}

func (s *Server) handleSearch(key string, q url.Values, now time.Time) *response {
	path := pathSearch + key
	envType, ok := activityLogTypes[key]
	if !ok {
		return s.springError(http.StatusBadRequest, fmt.Sprintf(msgSearchKey, key), path, now)
	}
	size, err := strconv.Atoi(q.Get("size"))
	switch {
	case err != nil || size < 1:
		return s.springError(http.StatusBadRequest, fmt.Sprintf(msgSizeMin, 1), path, now)
	case size > maxSearchPageSize:
		return s.springError(http.StatusBadRequest, fmt.Sprintf(msgSizeMax, maxSearchPageSize), path, now)
	}
	page := 1
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return s.springError(http.StatusBadRequest, msgPageNumber, path, now)
		}
	}
	envs := s.logEnvs(envType, nil)
	per := s.cfg.ActivityLogsPerEnvironment
	total := len(envs) * per
	out := searchEnvelope{Data: []any{}, CurrentPage: page, Size: size, HasPrevious: page > 1,
		TotalPages: (total + size - 1) / size, TotalElements: total}
	start := total
	if page-1 <= total { // no overflow on absurd page numbers
		start = (page - 1) * size
	}
	for n := start; n < min(start+size, total); n++ {
		out.Data = append(out.Data, s.logEvent(envs[n/per], n%per))
	}
	out.HasNext = start+size < total
	return jsonBody(http.StatusOK, out)
}

// logEnvs are the enabled environments of envType, limited to ids.
func (s *Server) logEnvs(envType string, ids []string) []*env {
	var out []*env
	for _, e := range s.envs {
		if e.pub.Type == envType && !e.pub.Disabled && (len(ids) == 0 || slices.Contains(ids, e.pub.ID)) {
			out = append(out, e)
		}
	}
	return out
}

// logTime is the time (epoch ms) of activity-log event i of an
// environment: evenly spaced over HistoryDays, newest first.
func (s *Server) logTime(i int) int64 {
	step := max(int64(s.cfg.HistoryDays)*msPerDay/int64(s.cfg.ActivityLogsPerEnvironment), 1)
	return s.anchor - int64(i+1)*step
}

// CountActivityLogs returns the activity-log events of provider (AWS,
// Azure, GCP) with a time in [from, to) (zero bounds are open), limited to
// accountIDs when given: what a correct client keeps.
func (s *Server) CountActivityLogs(provider string, from, to time.Time, accountIDs ...string) int {
	n := 0
	for range s.logEnvs(provider, accountIDs) {
		for i := range s.cfg.ActivityLogsPerEnvironment {
			t := time.UnixMilli(s.logTime(i))
			if (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to)) {
				n++
			}
		}
	}
	return n
}

// logEvent renders activity-log event i of e in its cloud's own field
// names (inferred: seed 004 documents none).
func (s *Server) logEvent(e *env, i int) map[string]any {
	r := e.key.Str("activity").Num(int64(i)).Rng()
	at := s.logTime(i)
	user := emulatorkit.Pick(&r, []string{"alice", "bob", "carol", "deployer", "ci-bot"})
	ip := publicIP(&r)
	region := emulatorkit.Pick(&r, regions[e.pub.Type])
	switch e.pub.Type {
	case "AWS":
		ev := emulatorkit.Pick(&r, []struct{ name, source string }{
			{"ConsoleLogin", "signin.amazonaws.com"}, {"CreateUser", "iam.amazonaws.com"}, {"PutBucketPolicy", "s3.amazonaws.com"},
			{"AuthorizeSecurityGroupIngress", "ec2.amazonaws.com"}, {"StopLogging", "cloudtrail.amazonaws.com"}})
		return map[string]any{"accountId": e.pub.ID, "accountType": "AWS", "eventTime": at, "eventName": ev.name, "eventSource": ev.source,
			"userIdentity": map[string]any{"type": "IAMUser", "userName": user, "arn": "arn:aws:iam::" + e.pub.ID + ":user/" + user},
			"awsRegion":    region, "sourceIPAddress": ip, "readOnly": false, "eventId": r.UUID()}
	case "Azure":
		op := emulatorkit.Pick(&r, []string{"Microsoft.Compute/virtualMachines/write", "Microsoft.Authorization/roleAssignments/write",
			"Microsoft.Network/networkSecurityGroups/securityRules/write", "Microsoft.Storage/storageAccounts/listKeys/action"})
		return map[string]any{"accountId": e.pub.ID, "accountType": "Azure", "eventTimestamp": at, "operationName": op,
			"resourceProviderName": strings.SplitN(op, "/", 2)[0], "caller": user + "@example.com", "callerIpAddress": ip,
			"location": region, "status": "Succeeded", "correlationId": r.UUID()}
	default: // GCP
		m := emulatorkit.Pick(&r, []struct{ method, service string }{
			{"v1.compute.instances.insert", "compute.googleapis.com"}, {"SetIamPolicy", "cloudresourcemanager.googleapis.com"},
			{"storage.buckets.update", "storage.googleapis.com"}, {"google.iam.admin.v1.CreateServiceAccountKey", "iam.googleapis.com"}})
		return map[string]any{"accountId": e.pub.ID, "accountType": "GCP", "timestamp": at, "methodName": m.method, "serviceName": m.service,
			"authenticationInfo": map[string]any{"principalEmail": user + "@example.com"}, "callerIp": ip, "location": region,
			"insertId": r.Hex(12)}
	}
}
