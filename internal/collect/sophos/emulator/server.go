package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Endpoints (seed 004).
const (
	pathAlerts     = "/api/v1/alerts"
	pathCount      = "/api/v1/alerts/count"
	pathAccounts   = "/api/v1/accounts"
	pathVMs        = "/api/v1/vms"
	pathUsers      = "/api/v1/users"
	pathServerless = "/api/v1/serverless"
	pathContainers = "/api/v1/containers"
)

// Alert paging (seed 004): page "Should start with 1"; size "Should not be
// more than 50. Default : 20". Inventory paging: page from 0; size 100..500.
const (
	maxAlertPageSize     = 50
	defaultAlertPageSize = 20
	minInventoryPageSize = 100
	maxInventoryPageSize = 500
	maxDays              = 365
)

// The document's messages.
const (
	msgNoKey          = "ApiKey not provided"
	msgUnauthorized   = "Unauthorized access or ApiKey expired"
	msgNotFound       = "No message available"
	msgBothFilters    = "Can only set one of the filters: set 'days' or else set lastSeenFrom/lastSeenTo"
	msgDays           = "Days cannot be less than 1 and greater than 365"
	msgBothDates      = "Invalid Date format for both lastSeenFrom/lastSeenTo"
	msgDateFormat     = "Date in '%s' is not in proper format It accepts formats described by the following syntax: [date-element] 'T' [time-element] [offset] where date-element = yyyy-MM-dd and time-element(optional) = HH:mm:ss and offset(optional) = [+/-]hh:mm"
	msgToAfterFrom    = "Parameter ‘lastSeenTo’ should come after ‘lastSeenFrom’"
	msgAlertType      = "Alert Type not supported"
	msgProviderType   = "Provider Type not supported"
	msgProviderType2  = "Provider type not supported"
	msgAccountIDs     = "Account Ids %s not found"
	msgSizeMax        = "Pageable size cannot be greater than %d"
	msgSizeMin        = "Pageable size cannot be less than %d"
	msgPageNumber     = "Page number should be greater than 0"
	msgServerlessProv = "Provider %s not supported"
	msgNoProvider     = "Provider not provided."
	msgNoCType        = "Container-Type not provided."
	msgBadCType       = "Invalid Container-Type:%s"
	msgCTypeProvider  = "Provider:%s not supported for Container-Type:%s"
	// Not in the document (the emulator's choice for undocumented cases).
	msgState    = "State not supported"
	msgSeverity = "Severity not supported"
)

// response is a rendered response.
type response struct {
	status     int
	body       []byte
	retryAfter time.Duration
	pageID     string
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := &Request{Entry: emulatorkit.NewEntry(r)}
	if resp := s.serve(w, r, e); resp != nil {
		s.write(w, e, resp)
	}
	s.log.Record(e)
}

type handler func(s *Server, q url.Values, now time.Time) *response

var routes = map[string]handler{
	pathAlerts:     (*Server).handleAlerts,
	pathCount:      (*Server).handleCount,
	pathAccounts:   (*Server).handleAccounts,
	pathVMs:        func(s *Server, q url.Values, _ time.Time) *response { return s.handleInventory(q, pathVMs) },
	pathUsers:      func(s *Server, q url.Values, _ time.Time) *response { return s.handleInventory(q, pathUsers) },
	pathServerless: func(s *Server, q url.Values, _ time.Time) *response { return s.handleInventory(q, pathServerless) },
	pathContainers: func(s *Server, q url.Values, _ time.Time) *response { return s.handleInventory(q, pathContainers) },
}

// serve runs the pipeline: route, method, API key, Retry-After block,
// injected faults, handler. It returns nil when the response was already
// dealt with (a dropped connection).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, e *Request) *response {
	now := s.cfg.Now().UTC()
	path := strings.TrimSuffix(r.URL.Path, "/")
	h, ok := routes[path]
	if !ok {
		return s.springError(http.StatusNotFound, msgNotFound, r.URL.Path, now)
	}
	if r.Method != http.MethodGet {
		return s.springError(http.StatusMethodNotAllowed, fmt.Sprintf("Request method '%s' not supported", r.Method), path, now)
	}
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return s.springError(http.StatusBadRequest, msgNoKey, path, now)
	}
	scheme, key, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "ApiKey") || strings.TrimSpace(key) != s.cfg.APIKey {
		return s.springError(http.StatusUnauthorized, msgUnauthorized, path, now)
	}
	if wait := s.blocks.Remaining(path, time.Now()); wait > 0 {
		e.Violation = true
		resp := s.springError(http.StatusTooManyRequests, "Too Many Requests", path, now)
		resp.retryAfter = wait
		return resp
	}
	f := s.cfg.Faults
	fault := s.faults.Next(emulatorkit.Cadence{ErrorEvery: f.ErrorEvery, RateLimitEvery: f.RateLimitEvery, DropEvery: f.DropEvery})
	switch {
	case fault.Status == http.StatusTooManyRequests:
		e.AddFault("429")
		s.blocks.Block(path, time.Now().Add(s.cfg.Faults.RetryAfter))
		resp := s.springError(http.StatusTooManyRequests, "Too Many Requests", path, now)
		resp.retryAfter = s.cfg.Faults.RetryAfter
		return resp
	case fault.Status != 0:
		e.AddFault(strconv.Itoa(fault.Status))
		resp := s.springError(fault.Status, http.StatusText(fault.Status)+" (injected fault)", path, now)
		if fault.Status == http.StatusServiceUnavailable {
			resp.retryAfter = s.cfg.Faults.RetryAfter
		}
		return resp
	}
	q := r.URL.Query()
	resp := h(s, q, now)
	if resp.status == http.StatusOK && (path == pathAlerts || path == pathVMs || path == pathUsers || path == pathServerless || path == pathContainers) {
		resp.pageID = path + "?" + q.Encode()
	}
	if fault.Drop != emulatorkit.DropNone {
		s.setHeaders(w.Header(), resp)
		s.log.Drop(w, e, resp.status, resp.body, fault.Drop)
		return nil
	}
	return resp
}

func (s *Server) setHeaders(h http.Header, resp *response) {
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	if resp.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatFloat(resp.retryAfter.Seconds(), 'f', -1, 64))
	}
}

func (s *Server) write(w http.ResponseWriter, e *Request, resp *response) {
	s.setHeaders(w.Header(), resp)
	s.log.Write(w, e, resp.status, resp.body, resp.pageID)
}

// jsonBody renders v. Only emulator-built values are encoded, which cannot
// fail; an error is answered as a 500 rather than a panic all the same.
func jsonBody(status int, v any) *response {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return &response{status: http.StatusInternalServerError, body: []byte(`{"message":"emulator: encoding failed"}`)}
	}
	return &response{status: status, body: bytes.TrimSuffix(b.Bytes(), []byte("\n"))}
}

// springError renders the Spring Boot error body the API's messages come
// in ("No message available" is Spring's 404 text).
func (s *Server) springError(status int, msg, path string, now time.Time) *response {
	return jsonBody(status, struct {
		Timestamp string `json:"timestamp"`
		Status    int    `json:"status"`
		Error     string `json:"error"`
		Message   string `json:"message"`
		Path      string `json:"path"`
	}{now.Format("2006-01-02T15:04:05.000+00:00"), status, http.StatusText(status), msg, path})
}

// inventoryError renders the {"errorMessage": …} body of the inventory
// endpoints.
func inventoryError(msg string) *response {
	return jsonBody(http.StatusBadRequest, struct {
		ErrorMessage string `json:"errorMessage"`
	}{msg})
}

func list(q url.Values, key string) []string {
	var out []string
	for _, v := range strings.Split(q.Get(key), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseAPITime parses the document's ISO 8601 form: yyyy-MM-dd, optionally
// 'T' HH:mm:ss, optionally an offset [+/-]hh:mm (UTC when absent). "Z" is
// not in the grammar and is refused, as is a '+' sent unencoded (it arrives
// as a space).
func parseAPITime(v string) (time.Time, bool) {
	for _, l := range []string{"2006-01-02T15:04:05-07:00", "2006-01-02T15:04:05", "2006-01-02-07:00", "2006-01-02"} {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseFilter checks the alert filters in the order of the document's
// failure table and returns the first failure's message.
func (s *Server) parseFilter(q url.Values, withSeverity bool) (Filter, string) {
	var f Filter
	days, from, to := q.Get("days"), q.Get("lastSeenFrom"), q.Get("lastSeenTo")
	if days != "" && (from != "" || to != "") {
		return f, msgBothFilters
	}
	if days != "" {
		d, err := strconv.Atoi(days)
		if err != nil || d < 1 || d > maxDays {
			return f, msgDays
		}
		f.Days = d
	}
	var okFrom, okTo bool = true, true
	if from != "" {
		f.LastSeenFrom, okFrom = parseAPITime(from)
	}
	if to != "" {
		f.LastSeenTo, okTo = parseAPITime(to)
	}
	switch {
	case !okFrom && !okTo:
		return f, msgBothDates
	case !okFrom:
		return f, fmt.Sprintf(msgDateFormat, "lastSeenFrom")
	case !okTo:
		return f, fmt.Sprintf(msgDateFormat, "lastSeenTo")
	}
	if from != "" && to != "" && !f.LastSeenTo.After(f.LastSeenFrom) {
		return f, msgToAfterFrom
	}
	f.AlertTypes = list(q, "alertType")
	for _, v := range f.AlertTypes {
		if !slices.Contains(alertTypeValues, v) {
			return f, msgAlertType
		}
	}
	f.Providers = list(q, "providerList")
	for _, v := range f.Providers {
		if !slices.Contains(providerValues, v) {
			return f, msgProviderType
		}
	}
	f.PolicyTags = list(q, "policyTagList") // unknown tags match nothing
	f.AccountIDs = list(q, "accountIds")
	if msg := s.checkAccounts(f.AccountIDs); msg != "" {
		return f, msg
	}
	f.States = list(q, "states")
	for _, v := range f.States {
		if !slices.Contains(stateValues, v) {
			return f, msgState
		}
	}
	if withSeverity {
		f.Severities = list(q, "severity")
		for _, v := range f.Severities {
			if !slices.Contains(severityValues, v) {
				return f, msgSeverity
			}
		}
	}
	return f, ""
}

// checkAccounts returns "Account Ids <ids> not found" for unknown ids.
func (s *Server) checkAccounts(ids []string) string {
	var missing []string
	for _, id := range ids {
		if s.byID[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf(msgAccountIDs, strings.Join(missing, ","))
	}
	return ""
}

// pageEnvelope is the paging envelope of the paginated endpoints.
type pageEnvelope struct {
	ErrorMessage json.RawMessage `json:"errorMessage,omitempty"` // inventory endpoints: null
	Data         []any           `json:"data"`
	CurrentPage  int             `json:"currentPage"`
	HasNext      bool            `json:"hasNext"`
	HasPrevious  bool            `json:"hasPrevious"`
	TotalPages   int             `json:"totalPages"`
	Size         int             `json:"size"`
}

func (s *Server) handleAlerts(q url.Values, now time.Time) *response {
	f, msg := s.parseFilter(q, true)
	if msg != "" {
		return s.springError(http.StatusBadRequest, msg, pathAlerts, now)
	}
	size := defaultAlertPageSize
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			return s.springError(http.StatusBadRequest, fmt.Sprintf(msgSizeMin, 1), pathAlerts, now)
		case n > maxAlertPageSize:
			return s.springError(http.StatusBadRequest, fmt.Sprintf(msgSizeMax, maxAlertPageSize), pathAlerts, now)
		}
		size = n
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		return s.springError(http.StatusBadRequest, msgPageNumber, pathAlerts, now)
	}
	sel := s.selectAlerts(f, now)
	env := pageEnvelope{Data: []any{}, CurrentPage: page, Size: size,
		TotalPages: int((sel.total + int64(size) - 1) / int64(size)), HasPrevious: page > 1}
	start := sel.total
	if int64(page) <= sel.total { // no overflow on absurd page numbers
		start = int64(page-1) * int64(size)
	}
	end := min(start+int64(size), sel.total)
	env.HasNext = end < sel.total
	// Walk the environments to the one holding alert number start.
	k := start
	for i := range sel.envs {
		es := &sel.envs[i]
		for ; k < es.n && start < end; k, start = k+1, start+1 {
			env.Data = append(env.Data, s.alertAt(es.e, s.kth(es, sel.lo, k)))
		}
		if start >= end {
			break
		}
		k -= es.n
	}
	return jsonBody(http.StatusOK, env)
}

func (s *Server) handleCount(q url.Values, now time.Time) *response {
	f, msg := s.parseFilter(q, false)
	if msg != "" {
		return s.springError(http.StatusBadRequest, msg, pathCount, now)
	}
	c := s.countAlerts(f, now)
	return jsonBody(http.StatusOK, wireCounts{Critical: c.Critical, High: c.High, Medium: c.Medium, Low: c.Low, Total: c.Alerts})
}

func (s *Server) handleAccounts(q url.Values, _ time.Time) *response {
	provider := q.Get("provider")
	if provider != "" && !slices.Contains(accountTypes, provider) {
		return inventoryError(msgProviderType2)
	}
	ids := list(q, "accountIds")
	if msg := s.checkAccounts(ids); msg != "" {
		return inventoryError(msg)
	}
	out := []wireAccount{}
	for _, e := range s.envs {
		if (provider == "" || e.pub.Type == provider) && (len(ids) == 0 || slices.Contains(ids, e.pub.ID)) {
			out = append(out, s.account(e))
		}
	}
	size := s.cfg.AccountsPageSize
	if size <= 0 {
		return jsonBody(http.StatusOK, out)
	}
	if v := q.Get("size"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			size = min(n, s.cfg.AccountsPageSize)
		}
	}
	page := 0
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return inventoryError("page number should be a non-negative integer")
		}
		page = n
	}
	pages := max(1, (len(out)+size-1)/size)
	lo, hi := min(page*size, len(out)), min((page+1)*size, len(out))
	return jsonBody(http.StatusOK, map[string]any{"errorMessage": nil, "data": out[lo:hi], "currentPage": page,
		"hasNext": page+1 < pages, "hasPrevious": page > 0, "totalPages": pages, "size": size})
}

func (s *Server) handleInventory(q url.Values, path string) *response {
	ids := list(q, "accountIds")
	var k inventoryKind
	provider := q.Get("provider")
	switch path {
	case pathContainers:
		cp, ct := q.Get("cloudProvider"), q.Get("containerType")
		switch {
		case cp == "":
			return inventoryError(msgNoProvider)
		case ct == "":
			return inventoryError(msgNoCType)
		case !slices.Contains(containerTypes, ct):
			return inventoryError(fmt.Sprintf(msgBadCType, ct))
		}
		k = s.containersKind(cp, ct)
		if len(k.types) == 0 {
			return inventoryError(fmt.Sprintf(msgCTypeProvider, cp, ct))
		}
		provider = k.types[0]
	case pathVMs:
		k = s.hostsKind()
	case pathUsers:
		k = s.usersKind()
	case pathServerless:
		k = s.serverlessKind()
	}
	if msg := s.checkAccounts(ids); msg != "" {
		return inventoryError(msg)
	}
	size, err := strconv.Atoi(q.Get("size"))
	switch {
	case err == nil && size > maxInventoryPageSize:
		return inventoryError(fmt.Sprintf(msgSizeMax, maxInventoryPageSize))
	case err != nil || size < minInventoryPageSize:
		return inventoryError(fmt.Sprintf(msgSizeMin, minInventoryPageSize))
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 0 {
		if path == pathServerless && err == nil {
			return inventoryError(msgPageNumber)
		}
		page = 0 // "invalid values will be considered as [page]:0"
	}
	if path == pathServerless && s.cfg.ServerlessPagesFromOne {
		if page < 1 {
			return inventoryError(msgPageNumber)
		}
		page--
	}
	if !slices.Contains(k.types, provider) {
		if path == pathServerless {
			p := provider
			if p == "" {
				p = "null"
			}
			return inventoryError(fmt.Sprintf(msgServerlessProv, p))
		}
		return inventoryError(msgProviderType2)
	}
	envs := s.inventoryEnvs(k, provider, ids)
	total := len(envs) * k.perEnv
	out := pageEnvelope{Data: []any{}, CurrentPage: page, Size: size, HasPrevious: page > 0,
		TotalPages: (total + size - 1) / size, ErrorMessage: json.RawMessage("null")}
	start := total
	if page <= total { // no overflow on absurd page numbers
		start = page * size
	}
	for n := start; n < min(start+size, total); n++ {
		out.Data = append(out.Data, k.render(s, envs[n/k.perEnv], n%k.perEnv))
	}
	out.HasNext = start+size < total
	return jsonBody(http.StatusOK, out)
}
