package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

const (
	// maxBodyBytes: "POST body content is limited to 1 MB" (API document).
	maxBodyBytes = 1 << 20
)

// Rate-limit functionalities (buckets), one per endpoint family.
const (
	bucketTokens      = "access/tokens"
	bucketUserProfile = "UserProfile"
	bucketCloudAccts  = "CloudAccounts"
	bucketAzureSubs   = "Configs/AzureSubscriptions"
	bucketGcpProjects = "Configs/GcpProjects"
	bucketReportDefs  = "ReportDefinitions"
	bucketReports     = "Reports"
	bucketEvaluations = "Configs/ComplianceEvaluations/search"
	bucketInventory   = "Inventory/search"
	bucketAuditLogs   = "AuditLogs"
)

// Next-page path prefixes (the token follows).
const (
	nextEvaluations = "/api/v2/Configs/ComplianceEvaluations/search/next/"
	nextInventory   = "/api/v2/Inventory/search/next/"
	nextAuditLogs   = "/api/v2/AuditLogs/next/"
)

type handlerFunc func(s *Server, c *call) *response

// route is a matched endpoint.
type route struct {
	bucket string
	method string
	handle handlerFunc
}

// exactRoutes maps full paths to endpoints.
var exactRoutes = map[string]route{
	"/api/v2/access/tokens":                        {bucketTokens, http.MethodPost, nil},
	"/api/v2/UserProfile":                          {bucketUserProfile, http.MethodGet, (*Server).handleUserProfile},
	"/api/v2/CloudAccounts":                        {bucketCloudAccts, http.MethodGet, (*Server).handleCloudAccounts},
	"/api/v2/Configs/AzureSubscriptions":           {bucketAzureSubs, http.MethodGet, (*Server).handleAzureSubscriptions},
	"/api/v2/Configs/GcpProjects":                  {bucketGcpProjects, http.MethodGet, (*Server).handleGcpProjects},
	"/api/v2/ReportDefinitions":                    {bucketReportDefs, http.MethodGet, (*Server).handleReportDefinitions},
	"/api/v2/Reports":                              {bucketReports, http.MethodGet, (*Server).handleReports},
	"/api/v2/Configs/ComplianceEvaluations/search": {bucketEvaluations, http.MethodPost, (*Server).handleEvaluationsSearch},
	"/api/v2/Inventory/search":                     {bucketInventory, http.MethodPost, (*Server).handleInventorySearch},
	"/api/v2/AuditLogs":                            {bucketAuditLogs, http.MethodGet, (*Server).handleAuditLogsGet},
	"/api/v2/AuditLogs/search":                     {bucketAuditLogs, http.MethodPost, (*Server).handleAuditLogsSearch},
}

// prefixRoutes take exactly one more non-empty path segment.
var prefixRoutes = []struct {
	prefix string
	route  route
}{
	{"/api/v2/CloudAccounts/", route{bucketCloudAccts, http.MethodGet, (*Server).handleCloudAccounts}},
	{"/api/v2/ReportDefinitions/", route{bucketReportDefs, http.MethodGet, (*Server).handleReportDefinitions}},
	{nextEvaluations, route{bucketEvaluations, http.MethodGet, (*Server).handleNextPage}},
	{nextInventory, route{bucketInventory, http.MethodGet, (*Server).handleNextPage}},
	{nextAuditLogs, route{bucketAuditLogs, http.MethodGet, (*Server).handleNextPage}},
}

func match(path string) (route, string, bool) {
	if rt, ok := exactRoutes[path]; ok {
		return rt, "", true
	}
	for _, p := range prefixRoutes {
		if tail, ok := strings.CutPrefix(path, p.prefix); ok && tail != "" && !strings.Contains(tail, "/") {
			return p.route, tail, true
		}
	}
	return route{}, "", false
}

// call is the state of one request.
type call struct {
	r    *http.Request
	e    *Request
	sub  *subAccount
	now  time.Time // emulated clock (Config.Now), UTC
	tail string    // last path segment of prefix routes
}

// response is a fully rendered response; body comes from the buffer pool.
type response struct {
	status      int
	contentType string
	body        *bytes.Buffer
	retryAfter  int // seconds; 0 = no Retry-After header
	allow       string
	pageID      string
	rl          rateState
}

// apiError is a 4xx/5xx outcome of request validation.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{
		r:   r,
		e:   &Request{Entry: emulatorkit.NewEntry(r)},
		now: s.cfg.Now().UTC(),
	}
	if resp := s.serve(w, c); resp != nil {
		s.write(w, c, resp)
	}
	s.log.Record(c.e)
}

// serve runs the request pipeline: route, method, authentication, account,
// rate limit, injected faults, handler. It returns nil when the response was
// already dealt with (dropped connection, vanished client).
func (s *Server) serve(w http.ResponseWriter, c *call) *response {
	rt, tail, ok := match(c.r.URL.Path)
	if !ok {
		return s.fail(errorf(http.StatusNotFound, "no such endpoint: %s", c.r.URL.Path), s.peek(""))
	}
	c.tail = tail
	c.e.Bucket = rt.bucket
	if rt.bucket != bucketTokens {
		c.e.AccountName = strings.ToLower(strings.TrimSpace(c.r.Header.Get("Account-Name")))
	}
	if c.r.Method != rt.method {
		resp := s.fail(errorf(http.StatusMethodNotAllowed, "method %s not allowed for %s", c.r.Method, c.r.URL.Path), s.peek(s.cfg.KeyID+"|"+rt.bucket))
		resp.allow = rt.method
		return resp
	}
	if rt.bucket == bucketTokens {
		return s.handleToken(c)
	}
	keyID, err := s.authenticate(c.r)
	if err != nil {
		return s.fail(err, s.peek(s.cfg.KeyID+"|"+rt.bucket))
	}
	bucketName := keyID + "|" + rt.bucket
	c.e.KeyID = keyID
	if err := s.resolveAccount(c); err != nil {
		return s.fail(err, s.peek(bucketName))
	}
	rl, retry, violation := s.take(bucketName, s.cfg.Clock())
	if violation {
		c.e.Violation = true
	}
	if retry > 0 {
		resp := s.fail(errorf(http.StatusTooManyRequests, "Rate limit exceeded"), rl)
		resp.retryAfter = retry
		return resp
	}

	f := s.cfg.Faults
	plan := s.faults.Next(emulatorkit.Cadence{ErrorEvery: f.ErrorEvery, RateLimitEvery: f.RateLimitEvery, DropEvery: f.DropEvery, SlowEvery: f.SlowEvery})
	if plan.Slow && f.SlowDelay > 0 {
		c.e.AddFault("slow")
		t := time.NewTimer(s.cfg.Faults.SlowDelay)
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			t.Stop()
			return nil
		}
	}
	switch {
	case plan.Status == http.StatusTooManyRequests:
		c.e.AddFault("429")
		s.block(bucketName, s.cfg.Clock().Add(time.Second))
		// Reported like a real exhaustion: nothing left until Retry-After.
		resp := s.fail(errorf(http.StatusTooManyRequests, "Rate limit exceeded"), rateState{limit: rl.limit, reset: 1})
		resp.retryAfter = 1
		return resp
	case plan.Status != 0:
		c.e.AddFault(strconv.Itoa(plan.Status))
		resp := s.fail(errorf(plan.Status, "%s (injected fault)", http.StatusText(plan.Status)), rl)
		if plan.Status == http.StatusServiceUnavailable {
			resp.retryAfter = 1
		}
		return resp
	}

	resp := rt.handle(s, c)
	resp.rl = rl
	if plan.Drop != emulatorkit.DropNone {
		s.drop(w, c, resp, plan.Drop)
		return nil
	}
	return resp
}

// resolveAccount sets c.sub from the Account-Name header (case-insensitive;
// default: the primary account).
func (s *Server) resolveAccount(c *call) *apiError {
	raw := strings.TrimSpace(c.r.Header.Get("Account-Name"))
	name := strings.ToLower(raw)
	if name == "" {
		name = s.cfg.Account
	}
	sa := s.subs[name]
	if sa == nil {
		c.e.AccountName = raw
		return errorf(http.StatusForbidden, "Access denied to account %s: no such account in organization %s", raw, strings.ToUpper(s.cfg.Account))
	}
	c.e.AccountName = name
	if sa.pub.Forbidden {
		return errorf(http.StatusForbidden, "Access denied to account %s", name)
	}
	c.sub = sa
	return nil
}

// drop breaks the connection instead of sending resp (see
// emulatorkit.Log.Drop).
func (s *Server) drop(w http.ResponseWriter, c *call, resp *response, mode emulatorkit.DropMode) {
	defer s.bufs.Put(resp.body)
	s.setHeaders(w.Header(), resp)
	s.log.Drop(w, c.e, resp.status, resp.body.Bytes(), mode)
}

func (s *Server) setHeaders(h http.Header, resp *response) {
	h.Set("Content-Type", resp.contentType)
	h.Set("Content-Length", strconv.Itoa(resp.body.Len()))
	h.Set("RateLimit-Limit", strconv.Itoa(resp.rl.limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(resp.rl.remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(resp.rl.reset))
	if resp.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(resp.retryAfter))
	}
	if resp.allow != "" {
		h.Set("Allow", resp.allow)
	}
}

func (s *Server) write(w http.ResponseWriter, c *call, resp *response) {
	defer s.bufs.Put(resp.body)
	s.setHeaders(w.Header(), resp)
	s.log.Write(w, c.e, resp.status, resp.body.Bytes(), resp.pageID)
}

// newEncoder returns a JSON encoder writing to b. HTML characters are not
// escaped.
func newEncoder(b *bytes.Buffer) *json.Encoder {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc
}

// encodeTo writes v as JSON to b without the encoder's trailing newline.
func encodeTo(enc *json.Encoder, b *bytes.Buffer, v any) {
	if err := enc.Encode(v); err != nil {
		// Only emulator-built values are encoded; failing is a bug.
		panic(fmt.Sprintf("emulator: encoding response: %v", err))
	}
	b.Truncate(b.Len() - 1)
}

// jsonResp renders v as a JSON response.
func (s *Server) jsonResp(status int, v any) *response {
	b := s.bufs.Get()
	encodeTo(newEncoder(b), b, v)
	return &response{status: status, contentType: "application/json", body: b}
}

// fail renders an error as {"message": "..."}.
func (s *Server) fail(err *apiError, rl rateState) *response {
	resp := s.jsonResp(err.status, struct {
		Message string `json:"message"`
	}{err.msg})
	resp.rl = rl
	return resp
}

// failResp converts a handler error into a response.
func (s *Server) failResp(err error) *response {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errorf(http.StatusInternalServerError, "%v", err)
	}
	return s.fail(ae, rateState{})
}

// readJSON decodes a POST body into dst. It enforces Content-Type
// application/json and the 1 MB body limit, and rejects trailing data. With
// keys != nil, object keys are checked case-sensitively (encoding/json
// matches them case-insensitively) against the allowed set: a client
// sending "timefilter" gets 400, as from a case-sensitive server. An empty
// body leaves dst unchanged.
func readJSON(r *http.Request, dst any, keys *keySpec) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusBadRequest, "Content-Type must be application/json")
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "reading request body: %v", err)
	}
	if len(data) > maxBodyBytes {
		return errorf(http.StatusBadRequest, "request body exceeds the 1 MB limit")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(dst); err != nil {
		return errorf(http.StatusBadRequest, "invalid request body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "invalid request body: unexpected data after the JSON value")
	}
	if keys != nil {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return errorf(http.StatusBadRequest, "invalid request body: %v", err)
		}
		if err := keys.check(v, "request body"); err != nil {
			return err
		}
	}
	return nil
}

// keySpec is the exact (case-sensitive) set of keys allowed in a JSON
// object, with the specs of nested objects and of array elements.
type keySpec struct {
	keys   map[string]*keySpec // nil value: scalar or unchecked
	arrays map[string]*keySpec // element spec of array-valued keys
}

func (k *keySpec) check(v any, where string) *apiError {
	obj, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil
		}
		return errorf(http.StatusBadRequest, "invalid request body: %s must be a JSON object", where)
	}
	for name, val := range obj {
		sub, known := k.keys[name]
		elem, isArray := k.arrays[name]
		switch {
		case isArray:
			arr, _ := val.([]any)
			for i, x := range arr {
				if err := elem.check(x, where+"."+name+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
		case !known:
			return errorf(http.StatusBadRequest, "invalid request body: unknown field %q in %s", name, where)
		case sub != nil:
			if err := sub.check(val, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// searchKeys returns the key spec of a search body with the given extra
// top-level keys (dataset, csp).
func searchKeys(extra ...string) *keySpec {
	k := &keySpec{
		keys: map[string]*keySpec{
			"timeFilter": {keys: map[string]*keySpec{"startTime": nil, "endTime": nil}},
			"returns":    nil,
		},
		arrays: map[string]*keySpec{
			"filters": {keys: map[string]*keySpec{"expression": nil, "field": nil, "value": nil, "values": nil}},
		},
	}
	for _, x := range extra {
		k.keys[x] = nil
	}
	return k
}
