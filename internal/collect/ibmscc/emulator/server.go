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
		e:   &Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery},
		now: s.cfg.Now().UTC(),
	}
	if resp := s.serve(w, c); resp != nil {
		s.write(w, c, resp)
	}
	s.record(c.e)
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
	c.e.Team = c.r.Header.Get("TeamID")
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
	if retry := s.checkBlock(rt.family); retry > 0 {
		c.e.Violation = true
		resp := s.fail(errorf(http.StatusTooManyRequests, "Too Many Requests"))
		resp.retryAfter = retry
		return resp
	}

	plan := s.nextFault()
	switch {
	case plan.expire:
		c.addFault("expire")
		s.revoke(tok)
		return s.fail(errorf(http.StatusUnauthorized, "Invalid or missing auth token: the token has expired"))
	case plan.status == http.StatusTooManyRequests:
		c.addFault("429")
		s.block(rt.family, time.Now().Add(time.Second))
		resp := s.fail(errorf(http.StatusTooManyRequests, "Too Many Requests"))
		resp.retryAfter = 1
		return resp
	case plan.status != 0:
		c.addFault(strconv.Itoa(plan.status))
		resp := s.fail(errorf(plan.status, "%s (injected fault)", http.StatusText(plan.status)))
		if plan.status == http.StatusServiceUnavailable {
			resp.retryAfter = 1
		}
		return resp
	}

	c.q = c.r.URL.Query()
	resp := rt.handle(s, c)
	if rt.paged && resp.status == http.StatusOK {
		resp.pageID = c.r.URL.Path + "?" + c.q.Encode()
	}
	if plan.drop != dropNone {
		s.drop(w, c, resp, plan.drop)
		return nil
	}
	return resp
}

func (c *call) addFault(f string) {
	if c.e.Fault == "" {
		c.e.Fault = f
	} else {
		c.e.Fault += "," + f
	}
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

// checkBlock returns the seconds left of family's Retry-After block.
func (s *Server) checkBlock(family string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.blocked[family]; ok {
		if d := time.Until(until); d > 0 {
			return int((d + time.Second - 1) / time.Second)
		}
	}
	return 0
}

func (s *Server) block(family string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.blocked[family]) {
		s.blocked[family] = until
	}
}

// Injected connection drops.
const (
	dropNone = iota
	dropBefore
	dropMid
)

type faultPlan struct {
	expire bool
	status int
	drop   int
}

// nextFault advances the fault counter. Precedence when cadences coincide:
// expired token, 5xx, 429, drop.
func (s *Server) nextFault() faultPlan {
	f := s.cfg.Faults
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	n := s.faultSeq
	every := func(k int) bool { return k > 0 && n%uint64(k) == 0 }
	var p faultPlan
	switch {
	case every(f.ExpireTokenEvery):
		p.expire = true
	case every(f.ErrorEvery):
		p.status = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[s.errorSeq%3]
		s.errorSeq++
	case every(f.RateLimitEvery):
		p.status = http.StatusTooManyRequests
	case every(f.DropEvery):
		p.drop = dropBefore + int(s.dropSeq%2)
		s.dropSeq++
	}
	return p
}

// drop breaks the connection: before any byte, or after the status line,
// the headers (with the full Content-Length) and half of the body.
func (s *Server) drop(w http.ResponseWriter, c *call, resp *response, mode int) {
	defer s.putBuf(resp.body)
	body := resp.body.Bytes()
	if mode == dropBefore {
		c.addFault("drop-before")
	} else {
		c.addFault("drop-mid")
		c.e.Status = resp.status
	}
	s.beginWrite(c.e)
	h := w.Header()
	s.setHeaders(h, resp)
	if hj, ok := w.(http.Hijacker); ok {
		conn, brw, err := hj.Hijack()
		if err == nil {
			defer conn.Close()
			if mode == dropMid {
				fmt.Fprintf(brw, "HTTP/1.1 %03d %s\r\n", resp.status, http.StatusText(resp.status))
				h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
				_ = h.Write(brw)
				_, _ = brw.WriteString("\r\n")
				_, _ = brw.Write(body[:len(body)/2])
				_ = brw.Flush()
			}
			return
		}
	}
	// Not hijackable (HTTP/2): abort the response through net/http.
	if mode == dropMid {
		w.WriteHeader(resp.status)
		_, _ = w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	s.record(c.e)
	panic(http.ErrAbortHandler)
}

func (s *Server) setHeaders(h http.Header, resp *response) {
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(resp.body.Len()))
	if resp.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(resp.retryAfter))
	}
}

func (s *Server) write(w http.ResponseWriter, c *call, resp *response) {
	defer s.putBuf(resp.body)
	s.beginWrite(c.e)
	s.setHeaders(w.Header(), resp)
	w.WriteHeader(resp.status)
	n, err := w.Write(resp.body.Bytes())
	c.e.Status = resp.status
	c.e.PageID = resp.pageID
	c.e.Completed = resp.status/100 == 2 && err == nil && n == resp.body.Len()
}

// record appends the finished request to the log.
func (s *Server) record(e *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, *e)
	if e.Completed && e.PageID != "" {
		s.pages[e.PageID]++
	}
	if done, ok := s.writing[e]; ok {
		close(done)
		delete(s.writing, e)
	}
}

// beginWrite marks the request as answering: from here the client may see
// the response before the request is logged.
func (s *Server) beginWrite(e *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writing[e] = make(chan struct{})
}

// settle waits (at most 2 s) until the responses being written when it is
// called are logged.
func (s *Server) settle() {
	s.mu.Lock()
	pending := make([]chan struct{}, 0, len(s.writing))
	for _, ch := range s.writing {
		pending = append(pending, ch)
	}
	s.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	timeout := time.NewTimer(2 * time.Second)
	defer timeout.Stop()
	for _, ch := range pending {
		select {
		case <-ch:
		case <-timeout.C:
			return
		}
	}
}

func (s *Server) getBuf() *bytes.Buffer { return s.bufs.Get().(*bytes.Buffer) }

func (s *Server) putBuf(b *bytes.Buffer) {
	if b == nil || b.Cap() > 64<<20 {
		return
	}
	b.Reset()
	s.bufs.Put(b)
}

// jsonResp renders v. Only emulator-built values are encoded.
func (s *Server) jsonResp(status int, v any) *response {
	b := s.getBuf()
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
