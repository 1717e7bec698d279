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

// Paths served.
const (
	PathToken            = "/identity/token"
	pathViews            = "/api/cspm/v1/compliance/views"
	pathRequirements     = "/api/cspm/v1/compliance/requirements"
	pathCloudResources   = "/api/cspm/v1/cloud/resources"
	pathKubeResources    = "/api/cspm/v1/kube/resources"
	pathClusterResources = "/api/cspm/v1/clusteranalysis/resources"
	pathInventory        = "/api/cspm/v1/inventory/resources"
	pathAuditEvents      = "/api/v2/activityAudit/events"
)

// Endpoint families: each is blocked as a whole by an injected 429.
const (
	familyCompliance = "compliance"
	familyResources  = "resources"
	familyInventory  = "inventory"
	familyAudit      = "audit"
)

type handler func(s *Server, c *call) *response

type route struct {
	family string
	paged  bool
	handle handler
}

var routes = map[string]route{
	pathViews:            {familyCompliance, false, (*Server).handleViews},
	pathRequirements:     {familyCompliance, true, (*Server).handleRequirements},
	pathCloudResources:   {familyResources, true, (*Server).handleResources},
	pathKubeResources:    {familyResources, true, (*Server).handleResources},
	pathClusterResources: {familyResources, true, (*Server).handleResources},
	pathInventory:        {familyInventory, true, (*Server).handleInventory},
	pathAuditEvents:      {familyAudit, true, (*Server).handleAudit},
}

// call is the state of one request.
type call struct {
	r   *http.Request
	e   *Request
	now time.Time // emulated clock, UTC
	q   url.Values
}

// response is a rendered response; body comes from the buffer pool.
type response struct {
	status     int
	body       *bytes.Buffer
	retryAfter int
	pageID     string
}

// apiError is a 4xx/5xx outcome.
type apiError struct {
	status int
	msg    string
}

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

// serve runs the pipeline: route, method, IAM token, instance, team,
// Retry-After block, injected faults, query check, handler. nil means the
// response was already dealt with (a dropped connection).
func (s *Server) serve(w http.ResponseWriter, c *call) *response {
	if c.r.URL.Path == PathToken {
		if c.r.Method != http.MethodPost {
			return s.fail(errorf(http.StatusMethodNotAllowed, "method %s not allowed", c.r.Method))
		}
		return s.handleToken(c)
	}
	rt, ok := routes[c.r.URL.Path]
	if !ok {
		return s.fail(errorf(http.StatusNotFound, "Not Found: %s", c.r.URL.Path))
	}
	if c.r.Method != http.MethodGet {
		return s.fail(errorf(http.StatusMethodNotAllowed, "method %s not allowed", c.r.Method))
	}
	c.e.Instance = c.r.Header.Get("IBMInstanceID")
	// The real service reads SysdigTeamID (ibmscc.HeaderTeam); a "TeamID"
	// header is ignored here as it presumably is there.
	c.e.Team = c.r.Header.Get("SysdigTeamID")
	tok, err := s.authenticate(c.r)
	if err != nil {
		return s.fail(err)
	}
	// The token alone does not say which instance to read: IBM's
	// "Invalid or missing auth token" covers a missing or unknown
	// IBMInstanceID too.
	switch inst := strings.TrimSpace(c.e.Instance); {
	case inst == "":
		return s.fail(errorf(http.StatusUnauthorized, "Invalid or missing auth token: the IBMInstanceID header is missing"))
	case !strings.EqualFold(inst, s.cfg.InstanceID):
		return s.fail(errorf(http.StatusUnauthorized, "Invalid or missing auth token: no Workload Protection instance %s in this account", inst))
	}
	if team := strings.TrimSpace(c.e.Team); team != "" && !slices.Contains(s.cfg.Teams, team) {
		return s.fail(errorf(http.StatusForbidden, "Forbidden: the user is not a member of team %s", team))
	}
	if retry := emulatorkit.CeilSeconds(s.blocks.Remaining(rt.family, time.Now())); retry > 0 {
		c.e.Violation = true
		resp := s.fail(errorf(http.StatusTooManyRequests, "Too Many Requests"))
		resp.retryAfter = retry
		return resp
	}

	f := s.cfg.Faults
	plan := s.faults.Next(emulatorkit.Cadence{ExpireEvery: f.ExpireTokenEvery, ErrorEvery: f.ErrorEvery, RateLimitEvery: f.RateLimitEvery, DropEvery: f.DropEvery})
	switch {
	case plan.Expire:
		c.e.AddFault("expire")
		s.revoke(tok)
		return s.fail(errorf(http.StatusUnauthorized, "Invalid or missing auth token: the token has expired"))
	case plan.Status == http.StatusTooManyRequests:
		c.e.AddFault("429")
		s.blocks.Block(rt.family, time.Now().Add(time.Second))
		resp := s.fail(errorf(http.StatusTooManyRequests, "Too Many Requests"))
		resp.retryAfter = 1
		return resp
	case plan.Status != 0:
		c.e.AddFault(strconv.Itoa(plan.Status))
		resp := s.fail(errorf(plan.Status, "%s (injected fault)", http.StatusText(plan.Status)))
		if plan.Status == http.StatusServiceUnavailable {
			resp.retryAfter = 1
		}
		return resp
	}

	c.q = c.r.URL.Query()
	resp := rt.handle(s, c)
	if rt.paged && resp.status == http.StatusOK {
		resp.pageID = c.r.URL.Path + "?" + c.q.Encode()
	}
	if plan.Drop != emulatorkit.DropNone {
		s.drop(w, c, resp, plan.Drop)
		return nil
	}
	return resp
}

// checkQuery refuses parameters the endpoint does not know: a misspelt
// parameter gets 400 rather than being ignored.
func (c *call) checkQuery(allowed ...string) *apiError {
	for k := range c.q {
		if !slices.Contains(allowed, k) {
			return errorf(http.StatusBadRequest, "unknown query parameter %q (want one of %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// paging reads pageNumber and pageSize (1-based; defaults per endpoint).
func (s *Server) paging(c *call, defSize int) (page, size int, err *apiError) {
	page, size = 1, defSize
	if v := c.q.Get("pageNumber"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || n > 1<<30 {
			return 0, 0, errorf(http.StatusBadRequest, "pageNumber %q: want an integer from 1 to %d", v, 1<<30)
		}
		page = n
	}
	if v := c.q.Get("pageSize"); v != "" {
		n, e := strconv.Atoi(v)
		if e != nil || n < 1 || n > s.cfg.MaxPageSize {
			return 0, 0, errorf(http.StatusBadRequest, "pageSize %q: want an integer from 1 to %d", v, s.cfg.MaxPageSize)
		}
		size = n
	}
	return page, size, nil
}

// window returns the [lo, hi) offsets of a page in a list of total rows.
func window(page, size int, total int64) (int64, int64) {
	lo := min(int64(page-1)*int64(size), total)
	return lo, min(lo+int64(size), total)
}

// drop breaks the connection instead of sending resp (see
// emulatorkit.Log.Drop).
func (s *Server) drop(w http.ResponseWriter, c *call, resp *response, mode emulatorkit.DropMode) {
	defer s.bufs.Put(resp.body)
	s.setHeaders(w.Header(), resp)
	s.log.Drop(w, c.e, resp.status, resp.body.Bytes(), mode)
}

func (s *Server) setHeaders(h http.Header, resp *response) {
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(resp.body.Len()))
	if resp.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(resp.retryAfter))
	}
}

func (s *Server) write(w http.ResponseWriter, c *call, resp *response) {
	defer s.bufs.Put(resp.body)
	s.setHeaders(w.Header(), resp)
	s.log.Write(w, c.e, resp.status, resp.body.Bytes(), resp.pageID)
}

// jsonResp renders v. Only emulator-built values are encoded.
func (s *Server) jsonResp(status int, v any) *response {
	b := s.bufs.Get()
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.Reset()
		fmt.Fprintf(b, `{"message":%q}`, "emulator: encoding response: "+err.Error())
		return &response{status: http.StatusInternalServerError, body: b}
	}
	return &response{status: status, body: b}
}

// fail renders an error as {"message": "…"}, the shape of the Sysdig API's
// errors.
func (s *Server) fail(err *apiError) *response {
	return s.jsonResp(err.status, struct {
		Message string `json:"message"`
	}{err.msg})
}
