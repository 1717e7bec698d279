package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// Operations (also the request log's Op).
const (
	opLogin    = "login"
	opUsers    = "users"
	opGroups   = "groups"
	opApps     = "apps"
	opAccesses = "accesses"
	opPolicies = "policies"
	opAudit    = "audit_events"
)

const paramToken = "continuation_token"

// call is the state of one request.
type call struct {
	r   *http.Request
	e   *Request
	now time.Time // data clock, UTC
}

// response is a rendered response; body comes from the buffer pool.
type response struct {
	status     int
	body       *bytes.Buffer
	retryAfter time.Duration
	allow      string
	pageID     string
}

// apiError is a 4xx/5xx outcome.
type apiError struct {
	status int
	msg    string
}

func errorf(status int, format string, a ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, a...)}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{r: r, e: &Request{Entry: emulatorkit.NewEntry(r)}, now: s.cfg.Now().UTC()}
	if resp := s.serve(w, c); resp != nil {
		s.write(w, c, resp)
	}
	s.log.Record(c.e)
}

// serve runs route, method, authentication, rate-limit block, faults and
// the handler. It returns nil when the connection was dropped.
func (s *Server) serve(w http.ResponseWriter, c *call) *response {
	op, ok := s.routes[c.r.URL.Path]
	if !ok {
		return s.fail(errorf(http.StatusNotFound, "no such endpoint: %s", c.r.URL.Path))
	}
	c.e.Op = op
	if c.r.Method != http.MethodGet {
		resp := s.fail(errorf(http.StatusMethodNotAllowed, "method %s not allowed for %s", c.r.Method, c.r.URL.Path))
		resp.allow = http.MethodGet
		return resp
	}
	if op == opLogin {
		return s.handleLogin(c)
	}
	tok, err := s.authenticate(c.r)
	if err != nil {
		return s.fail(err)
	}
	if wait := s.blocks.Remaining(op, time.Now()); wait > 0 {
		c.e.Violation = true
		resp := s.fail(errorf(http.StatusTooManyRequests, "Rate limit exceeded"))
		resp.retryAfter = wait
		return resp
	}
	f := s.cfg.Faults
	plan := s.faults.Next(emulatorkit.Cadence{ExpireEvery: f.ExpireEvery, ErrorEvery: f.ErrorEvery, RateLimitEvery: f.RateLimitEvery, DropEvery: f.DropEvery})
	switch {
	case plan.Expire:
		c.e.AddFault("401")
		s.mu.Lock()
		delete(s.tokens, tok)
		s.mu.Unlock()
		return s.fail(errorf(http.StatusUnauthorized, "session token expired"))
	case plan.Status == http.StatusTooManyRequests:
		c.e.AddFault("429")
		s.blocks.Block(op, time.Now().Add(s.cfg.Faults.RetryAfter))
		resp := s.fail(errorf(http.StatusTooManyRequests, "Rate limit exceeded"))
		resp.retryAfter = s.cfg.Faults.RetryAfter
		return resp
	case plan.Status != 0:
		c.e.AddFault(strconv.Itoa(plan.Status))
		resp := s.fail(errorf(plan.Status, "%s (injected fault)", http.StatusText(plan.Status)))
		if plan.Status == http.StatusServiceUnavailable {
			resp.retryAfter = s.cfg.Faults.RetryAfter
		}
		return resp
	}
	var resp *response
	switch op {
	case opUsers:
		resp = s.handleDirectory(c, op, s.cfg.Users, s.userStatus, func(i int) any { return s.user(i) })
	case opGroups:
		resp = s.handleDirectory(c, op, s.cfg.Groups, s.groupStatus, func(j int) any { return s.group(j) })
	case opApps:
		resp = s.handleDirectory(c, op, s.cfg.Apps, s.appStatus, func(k int) any { return s.app(k) })
	case opAccesses:
		resp = s.handleAccesses(c)
	case opPolicies:
		resp = s.handlePolicies(c)
	default:
		resp = s.handleAudit(c)
	}
	if plan.Drop != emulatorkit.DropNone && resp.status/100 == 2 {
		s.drop(w, c, resp, plan.Drop)
		return nil
	}
	return resp
}

// handleLogin serves TokenLogin: GET ?account=<account>[&redirect=] with
// the long-lived API token as "Authorization: Bearer <token>" (the
// client's inferred header; see the package doc), or, with
// Config.AcceptBasic only, the token's uuid and secret as HTTP Basic
// credentials. The answer has every field of the document's sample.
func (s *Server) handleLogin(c *call) *response {
	q := c.r.URL.Query()
	if err := allowParams(q, []string{"account", "redirect"}, nil); err != nil {
		return s.fail(err)
	}
	account := q.Get("account")
	if account == "" {
		return s.fail(errorf(http.StatusBadRequest, "account is required"))
	}
	ok := false
	if tok, bearer := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer "); bearer {
		ok = equal(strings.TrimSpace(tok), s.cfg.APIToken)
	} else if id, secret, basic := c.r.BasicAuth(); basic && s.cfg.AcceptBasic {
		ok = equal(id, s.cfg.KeyID) && equal(secret, s.cfg.Secret)
	}
	if !ok || account != s.cfg.Account {
		return s.fail(errorf(http.StatusUnauthorized, "invalid API token"))
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return s.fail(errorf(http.StatusInternalServerError, "generating token: %v", err))
	}
	tok := "EDGE_" + hex.EncodeToString(raw[:])
	now := time.Now()
	expires := now.Add(s.cfg.TokenTTL)
	s.mu.Lock()
	if len(s.tokens) >= 1024 {
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
	}
	s.tokens[tok] = expires
	s.mu.Unlock()
	ttl := int64(s.cfg.TokenTTL / time.Second)
	return s.jsonResp(http.StatusOK, struct {
		AccountLocation string   `json:"account_location"`
		AccountName     string   `json:"account_name"`
		AccountShard    string   `json:"account_shard"`
		AccountUUID     string   `json:"account_uuid"`
		BackendShard    string   `json:"backend_shard"`
		ClientIP        string   `json:"client_ip"`
		CreateTime      int64    `json:"create_time"`
		DeviceUUID      string   `json:"device_uuid"`
		EndTime         int64    `json:"end_time"`
		ExpireStartTime int64    `json:"expire_start_time"`
		ExpireTimeSec   int64    `json:"expire_time_sec"`
		GenerationID    int      `json:"generation_id"`
		GeoLocation     string   `json:"geo_location"`
		LoginType       int      `json:"login_type"`
		Status          int      `json:"status"`
		Tags            []string `json:"tags"`
		TimeIDToken     string   `json:"time_id_token"`
		Token           string   `json:"token"`
		TTLSec          int64    `json:"ttl_sec"`
		UpdateTime      int64    `json:"update_time"`
		UserRole        int      `json:"user_role"`
		UserUUID        string   `json:"user_uuid"`
		UUID            string   `json:"uuid"`
		ViewPIILogOnly  bool     `json:"view_pii_log_only"`
	}{
		AccountLocation: "us", AccountName: s.cfg.Account, AccountShard: "shard-1", AccountUUID: s.accountUUID(),
		BackendShard: "backend-1", ClientIP: "127.0.0.1", CreateTime: now.UnixMilli(), DeviceUUID: "",
		EndTime: expires.UnixMilli(), ExpireStartTime: now.UnixMilli(), ExpireTimeSec: expires.Unix(), GenerationID: 1,
		GeoLocation: "US", LoginType: 2, Status: statusActive, Tags: []string{}, TimeIDToken: "", Token: tok, TTLSec: ttl,
		UpdateTime: now.UnixMilli(), UserRole: 1, UserUUID: s.userUUID(0), UUID: s.accessUUID(-1),
	})
}

func (s *Server) accountUUID() string {
	r := s.root.Str("account").Rng()
	return r.UUID()
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// authenticate checks "Authorization: Bearer <token>" and returns the token.
func (s *Server) authenticate(r *http.Request) (string, *apiError) {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	tok, ok := strings.CutPrefix(v, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return "", errorf(http.StatusUnauthorized, "missing session token (Authorization: Bearer)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	if !ok {
		return "", errorf(http.StatusUnauthorized, "invalid session token")
	}
	if !time.Now().Before(exp) {
		delete(s.tokens, tok)
		return "", errorf(http.StatusUnauthorized, "session token expired")
	}
	return tok, nil
}

// allowParams rejects parameters outside allowed, and those in
// notEmulated with a message saying so.
func allowParams(q url.Values, allowed, notEmulated []string) *apiError {
	for name := range q {
		switch {
		case slices.Contains(allowed, name):
		case slices.Contains(notEmulated, name):
			return errorf(http.StatusBadRequest, "parameter %s is not emulated", name)
		default:
			return errorf(http.StatusBadRequest, "unknown parameter %s", name)
		}
	}
	return nil
}

// statusFilter parses "comma separated status to match"; absent matches all.
func statusFilter(q url.Values) (func(int) bool, string, *apiError) {
	v, ok := q["status"]
	if !ok {
		return func(int) bool { return true }, "", nil
	}
	want := map[int]bool{}
	var names []string
	for _, part := range strings.Split(strings.Join(v, ","), ",") {
		name := strings.ToUpper(strings.TrimSpace(part))
		n, ok := statusByName[name]
		if !ok {
			return nil, "", errorf(http.StatusBadRequest, "status %q: want INIT, ACTIVE, SUSPENDED or DELETED", part)
		}
		if !want[n] {
			want[n] = true
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return func(st int) bool { return want[st] }, strings.Join(names, ","), nil
}

// pageState travels, signed, in a continuation token.
type pageState struct {
	Op     string `json:"o"`
	Next   int64  `json:"n"`
	From   int64  `json:"a,omitempty"`
	To     int64  `json:"b,omitempty"`
	Filter string `json:"f,omitempty"`
}

func (s *Server) sign(p pageState) string {
	b, _ := json.Marshal(p)
	m := hmac.New(sha256.New, s.pageKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + hex.EncodeToString(m.Sum(nil)[:8])
}

// pageFrom returns the state of the request's continuation token (ok false
// when it has none).
func (s *Server) pageFrom(q url.Values, op string) (pageState, bool, *apiError) {
	v := q.Get(paramToken)
	if v == "" {
		return pageState{}, false, nil
	}
	bad := errorf(http.StatusBadRequest, "invalid continuation_token")
	data, mac, ok := strings.Cut(v, ".")
	if !ok {
		return pageState{}, false, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil {
		return pageState{}, false, bad
	}
	m := hmac.New(sha256.New, s.pageKey)
	m.Write(b)
	if got, err := hex.DecodeString(mac); err != nil || !hmac.Equal(got, m.Sum(nil)[:8]) {
		return pageState{}, false, bad
	}
	var p pageState
	if json.Unmarshal(b, &p) != nil || p.Op != op || p.Next < 0 {
		return pageState{}, false, bad
	}
	return p, true, nil
}

// handleDirectory serves Query Users, Groups and Apps.
func (s *Server) handleDirectory(c *call, op string, n int, status func(int) int, render func(int) any) *response {
	q := c.r.URL.Query()
	if err := allowParams(q, []string{"status", paramToken}, []string{"tag", "datasource"}); err != nil {
		return s.fail(err)
	}
	keep, filter, err := statusFilter(q)
	if err != nil {
		return s.fail(err)
	}
	start := 0
	if p, ok, err := s.pageFrom(q, op); err != nil {
		return s.fail(err)
	} else if ok {
		if p.Filter != filter || p.Next > int64(n) {
			return s.fail(errorf(http.StatusBadRequest, "continuation_token does not belong to this query"))
		}
		start = int(p.Next)
	}
	var idx []int
	i := start
	for ; i < n && (s.cfg.PageSize == 0 || len(idx) < s.cfg.PageSize); i++ {
		if keep(status(i)) {
			idx = append(idx, i)
		}
	}
	for i < n && !keep(status(i)) { // no token for an empty last page
		i++
	}
	token := ""
	if i < n {
		token = s.sign(pageState{Op: op, Next: int64(i), Filter: filter})
	}
	b := s.bufs.Get()
	enc := newEncoder(b)
	o := objectWriter{b: b}
	o.field(paramToken, token != "", func() { encodeTo(enc, b, token) })
	o.field(op, true, func() { encodeArray(enc, b, idx, render) })
	o.end()
	return &response{status: http.StatusOK, body: b, pageID: fmt.Sprintf("%s|%s|%d", op, filter, start)}
}

// lookupParams reads the required appid and userid (and, for policies,
// resolveDisplayNames) of a lookup: the document marks them required, so
// a missing or empty one is 400. An id that names no app or user selects
// nothing (-1).
func (s *Server) lookupParams(q url.Values, extra ...string) (app, user int, filter string, err *apiError) {
	for _, p := range append([]string{"appid", "userid"}, extra...) {
		if strings.TrimSpace(q.Get(p)) == "" {
			return 0, 0, "", errorf(http.StatusBadRequest, "%s is required", p)
		}
	}
	app, user = -1, -1
	for k := range s.cfg.Apps {
		if strings.EqualFold(s.appUUID(k), q.Get("appid")) {
			app = k
		}
	}
	for i := range s.cfg.Users {
		if strings.EqualFold(s.userUUID(i), q.Get("userid")) {
			user = i
			break
		}
	}
	return app, user, strings.ToLower(q.Get("appid") + "|" + q.Get("userid")), nil
}

// handleAccesses serves Query access objects: the accesses that apply to
// app appid and user userid (both required), with the apps, groups and
// users those accesses name. Every key of the document's sample is
// written, an empty list as [].
func (s *Server) handleAccesses(c *call) *response {
	q := c.r.URL.Query()
	if err := allowParams(q, []string{"appid", "userid", paramToken}, nil); err != nil {
		return s.fail(err)
	}
	app, user, filter, aerr := s.lookupParams(q)
	if aerr != nil {
		return s.fail(aerr)
	}
	var match []int
	if app >= 0 && user >= 0 {
		for m := range s.cfg.Accesses {
			if s.accessApplies(m, app, user) {
				match = append(match, m)
			}
		}
	}
	page, token, start, perr := s.lookupPage(q, opAccesses, filter, match)
	if perr != nil {
		return s.fail(perr)
	}
	apps, groups, users := map[int]bool{}, map[int]bool{}, map[int]bool{}
	for _, m := range page {
		p := s.accessPlan(m)
		for _, k := range p.apps {
			apps[k] = true
		}
		for _, j := range p.groups {
			groups[j] = true
		}
		for _, i := range append(slices.Clone(p.users), p.bare...) {
			users[i] = true
		}
	}
	sorted := func(m map[int]bool) []int { return slices.Sorted(maps.Keys(m)) }
	b := s.bufs.Get()
	enc := newEncoder(b)
	o := objectWriter{b: b}
	o.field("accesses", true, func() {
		encodeArray(enc, b, page, func(m int) any { a, _ := s.access(m); return a })
	})
	o.field("apps", true, func() { encodeArray(enc, b, sorted(apps), func(k int) any { return s.app(k) }) })
	o.field(paramToken, token != "", func() { encodeTo(enc, b, token) })
	o.field("groups", true, func() { encodeArray(enc, b, sorted(groups), func(j int) any { return s.group(j) }) })
	o.field("users", true, func() { encodeArray(enc, b, sorted(users), func(i int) any { return s.user(i) }) })
	o.end()
	return &response{status: http.StatusOK, body: b, pageID: fmt.Sprintf("%s|%s|%d", opAccesses, filter, start)}
}

// handlePolicies serves Query policies: the policies that apply to app
// appid and user userid; resolveDisplayNames is required too ("true"
// fills filter_selector_display_names).
func (s *Server) handlePolicies(c *call) *response {
	q := c.r.URL.Query()
	if err := allowParams(q, []string{"appid", "userid", "resolveDisplayNames", paramToken}, nil); err != nil {
		return s.fail(err)
	}
	app, user, filter, aerr := s.lookupParams(q, "resolveDisplayNames")
	if aerr != nil {
		return s.fail(aerr)
	}
	names, err := strconv.ParseBool(q.Get("resolveDisplayNames"))
	if err != nil {
		return s.fail(errorf(http.StatusBadRequest, "resolveDisplayNames %q: want true or false", q.Get("resolveDisplayNames")))
	}
	var match []int
	if app >= 0 && user >= 0 {
		for m := range s.cfg.Policies {
			if s.policyApplies(m, app, user) {
				match = append(match, m)
			}
		}
	}
	page, token, start, perr := s.lookupPage(q, opPolicies, filter, match)
	if perr != nil {
		return s.fail(perr)
	}
	b := s.bufs.Get()
	enc := newEncoder(b)
	o := objectWriter{b: b}
	o.field(paramToken, token != "", func() { encodeTo(enc, b, token) })
	o.field("policies", true, func() { encodeArray(enc, b, page, func(m int) any { return s.policy(m, names) }) })
	o.end()
	return &response{status: http.StatusOK, body: b, pageID: fmt.Sprintf("%s|%s|%d", opPolicies, filter, start)}
}

// lookupPage pages the matches of a lookup (PageSize, continuation_token
// bound to the operation and the pair).
func (s *Server) lookupPage(q url.Values, op, filter string, match []int) (page []int, token string, start int, err *apiError) {
	if p, ok, perr := s.pageFrom(q, op); perr != nil {
		return nil, "", 0, perr
	} else if ok {
		if p.Filter != filter || p.Next > int64(len(match)) {
			return nil, "", 0, errorf(http.StatusBadRequest, "continuation_token does not belong to this query")
		}
		start = int(p.Next)
	}
	end := len(match)
	if s.cfg.PageSize > 0 {
		end = min(end, start+s.cfg.PageSize)
	}
	if end < len(match) {
		token = s.sign(pageState{Op: op, Next: int64(end), Filter: filter})
	}
	return match[start:end], token, start, nil
}

// handleAudit serves Query Audit Events: start_time (required) and
// end_time (default now) in epoch milliseconds, a half-open window.
func (s *Server) handleAudit(c *call) *response {
	q := c.r.URL.Query()
	if err := allowParams(q, []string{"start_time", "end_time", paramToken}, nil); err != nil {
		return s.fail(err)
	}
	from, err := epochParam(q, "start_time", -1)
	if err != nil {
		return s.fail(err)
	}
	to, err := epochParam(q, "end_time", c.now.UnixMilli())
	if err != nil {
		return s.fail(err)
	}
	if s.cfg.AuditTimesInSeconds {
		from, to = from*1000, to*1000
		if q.Get("end_time") == "" {
			to = c.now.UnixMilli()
		}
	}
	if q.Get("end_time") == "" {
		to = max(to, from) // no end: up to now, or nothing when start_time is in the future
	}
	if to < from {
		return s.fail(errorf(http.StatusBadRequest, "end_time is before start_time"))
	}
	lo, hi := s.auditSpan(from, to)
	start := lo
	if p, ok, err := s.pageFrom(q, opAudit); err != nil {
		return s.fail(err)
	} else if ok {
		if p.From != from || p.To != to || p.Next < lo || p.Next > hi {
			return s.fail(errorf(http.StatusBadRequest, "continuation_token does not belong to this query"))
		}
		start = p.Next
	}
	end := hi
	if s.cfg.PageSize > 0 {
		end = min(hi, start+int64(s.cfg.PageSize))
	}
	token := ""
	if end < hi {
		token = s.sign(pageState{Op: opAudit, Next: end, From: from, To: to})
	}
	b := s.bufs.Get()
	enc := newEncoder(b)
	o := objectWriter{b: b}
	o.field("audit_events", true, func() {
		b.WriteByte('[')
		for n := start; n < end; n++ {
			if n > start {
				b.WriteByte(',')
			}
			encodeTo(enc, b, s.auditEvent(n))
		}
		b.WriteByte(']')
	})
	o.field(paramToken, token != "", func() { encodeTo(enc, b, token) })
	o.end()
	return &response{status: http.StatusOK, body: b, pageID: fmt.Sprintf("%s|%d-%d|%d", opAudit, from, to, start)}
}

// epochParam reads an epoch-millisecond parameter; def < 0 makes it required.
func epochParam(q url.Values, name string, def int64) (int64, *apiError) {
	v := q.Get(name)
	if v == "" {
		if def < 0 {
			return 0, errorf(http.StatusBadRequest, "%s is required", name)
		}
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "%s %q: want epoch milliseconds", name, v)
	}
	return n, nil
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
		h.Set("Retry-After", retryAfterValue(resp.retryAfter))
	}
	if resp.allow != "" {
		h.Set("Allow", resp.allow)
	}
}

// retryAfterValue writes whole seconds as an integer (RFC 9110), a fraction
// as a decimal, rounded up to the millisecond so the client never wakes
// early.
func retryAfterValue(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

func (s *Server) write(w http.ResponseWriter, c *call, resp *response) {
	defer s.bufs.Put(resp.body)
	s.setHeaders(w.Header(), resp)
	s.log.Write(w, c.e, resp.status, resp.body.Bytes(), resp.pageID)
}

func newEncoder(b *bytes.Buffer) *json.Encoder {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc
}

// encodeTo writes v without the encoder's trailing newline. Only
// emulator-built values are encoded, which cannot fail.
func encodeTo(enc *json.Encoder, b *bytes.Buffer, v any) {
	if err := enc.Encode(v); err != nil {
		b.WriteString("null")
		return
	}
	b.Truncate(b.Len() - 1)
}

func encodeArray(enc *json.Encoder, b *bytes.Buffer, idx []int, render func(int) any) {
	b.WriteByte('[')
	for n, i := range idx {
		if n > 0 {
			b.WriteByte(',')
		}
		encodeTo(enc, b, render(i))
	}
	b.WriteByte(']')
}

// objectWriter writes a JSON object field by field, in call order.
type objectWriter struct {
	b    *bytes.Buffer
	open bool
}

func (o *objectWriter) field(name string, present bool, value func()) {
	if !present {
		return
	}
	if o.open {
		o.b.WriteByte(',')
	} else {
		o.b.WriteByte('{')
		o.open = true
	}
	fmt.Fprintf(o.b, "%q:", name)
	value()
}

func (o *objectWriter) end() {
	if !o.open {
		o.b.WriteByte('{')
	}
	o.b.WriteByte('}')
}

func (s *Server) jsonResp(status int, v any) *response {
	b := s.bufs.Get()
	encodeTo(newEncoder(b), b, v)
	return &response{status: status, body: b}
}

// fail renders an error as {"message": "..."}, the document's error shape.
func (s *Server) fail(err *apiError) *response {
	return s.jsonResp(err.status, struct {
		Message string `json:"message"`
	}{err.msg})
}
