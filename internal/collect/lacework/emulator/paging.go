package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Result-set kinds (what a next-page token continues).
const (
	kindEvaluations = "eval"
	kindInventory   = "inv"
	kindAuditLogs   = "audit"
)

// pageTokenTTL: "The Next Page URLs stay valid for 24 hours."
const pageTokenTTL = 24 * time.Hour

// kinds describes each paged result-set kind.
var kinds = map[string]struct {
	bucket, nextPrefix string
	// unpaged: answered as {"data": [...]} without paging, as the
	// document's AuditLogs samples are ("No pagination is available for an
	// API if the paging field is missing from a response"). What the real
	// API does past one page is not documented; the emulator takes the
	// worst case, an answer silently cut at PageSize rows (inferred).
	unpaged bool
}{
	kindEvaluations: {bucketEvaluations, nextEvaluations, false},
	kindInventory:   {bucketInventory, nextInventory, false},
	kindAuditLogs:   {bucketAuditLogs, nextAuditLogs, true},
}

// filterSpec is one element of a search body's "filters".
type filterSpec struct {
	Expression string   `json:"expression"`
	Field      string   `json:"field"`
	Value      *string  `json:"value,omitempty"`
	Values     []string `json:"values,omitempty"`
}

// timeFilterSpec is a search body's "timeFilter".
type timeFilterSpec struct {
	StartTime *string `json:"startTime"`
	EndTime   *string `json:"endTime"`
}

// searchBody is the body of the POST .../search endpoints. Which of
// dataset/csp is allowed depends on the endpoint.
type searchBody struct {
	TimeFilter *timeFilterSpec `json:"timeFilter"`
	Filters    []filterSpec    `json:"filters"`
	Returns    []string        `json:"returns"`
	Dataset    *string         `json:"dataset"`
	Csp        *string         `json:"csp"`
}

// resolveWindow turns optional start/end strings into a half-open window.
// Defaults: no start and no end → the 24 hours before now; end only → the 24
// hours before end; start only → [start, now).
func resolveWindow(start, end *string, startName, endName string, now time.Time) (time.Time, time.Time, *apiError) {
	var from, to time.Time
	var err error
	hasStart := start != nil && *start != ""
	hasEnd := end != nil && *end != ""
	if hasEnd {
		if to, err = parseAPITime(endName, *end); err != nil {
			return from, to, errorf(http.StatusBadRequest, "%v", err)
		}
	} else {
		to = now
	}
	if hasStart {
		if from, err = parseAPITime(startName, *start); err != nil {
			return from, to, errorf(http.StatusBadRequest, "%v", err)
		}
	} else {
		from = to.Add(-defaultWindow)
	}
	if !to.After(from) {
		return from, to, errorf(http.StatusBadRequest, "%s must be after %s", endName, startName)
	}
	return from, to, nil
}

// pageState is the whole state of a result set at a page boundary; it is
// the (signed) next-page token, so the server keeps nothing per result set.
type pageState struct {
	V    int          `json:"v"`
	Kind string       `json:"k"`
	Sub  string       `json:"a"`
	DS   string       `json:"d,omitempty"` // dataset or csp
	S    int64        `json:"s"`           // requested window start (ms)
	E    int64        `json:"e"`           // requested window end (ms)
	Lo   int64        `json:"lo"`          // first row index
	Hi   int64        `json:"hi"`          // end row index (exclusive)
	Col  int64        `json:"col,omitempty"`
	Cur  int64        `json:"c"` // next row index to scan
	Off  int64        `json:"o"` // rows served before this page
	Tot  int64        `json:"t"` // totalRows (capped)
	Long int64        `json:"l"` // result position of the over-long value; -1: none
	F    []filterSpec `json:"f,omitempty"`
	R    []string     `json:"r,omitempty"`
	Iat  int64        `json:"i"` // issued at, unix seconds (emulated clock)
}

const pageStateVersion = 1

// pageID names a page for the request log and DuplicatePages.
func (st *pageState) pageID() string {
	id := kinds[st.Kind].bucket + "|" + st.Sub + "|" + st.DS + "|" + fmtMs(st.S) + "|" + fmtMs(st.E) + "|" + strconv.FormatInt(st.Off, 10)
	if len(st.F) > 0 || len(st.R) > 0 {
		js, _ := json.Marshal(struct {
			F []filterSpec
			R []string
		}{st.F, st.R})
		sum := sha256.Sum256(js)
		id += "|q=" + hex.EncodeToString(sum[:4])
	}
	return id
}

func (s *Server) encodeToken(st *pageState) string {
	js, err := json.Marshal(st)
	if err != nil {
		panic("emulator: encoding page token: " + err.Error())
	}
	p := base64.RawURLEncoding.EncodeToString(js)
	return p + "." + s.sign(p)
}

func (s *Server) sign(p string) string {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write([]byte(p))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

func (s *Server) decodeToken(tok string) (pageState, *apiError) {
	var st pageState
	bad := errorf(http.StatusBadRequest, "invalid next page token")
	p, sig, ok := strings.Cut(tok, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.sign(p))) {
		return st, bad
	}
	js, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(js, &st) != nil || st.V != pageStateVersion {
		return st, bad
	}
	return st, nil
}

// handleNextPage serves GET <search>/next/<token> and GET AuditLogs/next/<token>.
func (s *Server) handleNextPage(c *call) *response {
	st, err := s.decodeToken(c.tail)
	if err != nil {
		return s.failResp(err)
	}
	k, ok := kinds[st.Kind]
	if !ok || !strings.HasPrefix(c.r.URL.Path, k.nextPrefix) {
		return s.failResp(errorf(http.StatusBadRequest, "next page token does not belong to this endpoint"))
	}
	if c.now.Sub(time.Unix(st.Iat, 0)) > pageTokenTTL {
		return s.failResp(errorf(http.StatusBadRequest, "next page URL has expired (next page URLs stay valid for 24 hours)"))
	}
	if st.Sub != c.sub.pub.Name {
		return s.failResp(errorf(http.StatusBadRequest, "Account-Name %q does not match the account of this result set (%q)", c.sub.pub.Name, st.Sub))
	}
	switch st.Kind {
	case kindEvaluations:
		src, ok := s.newEvalSource(c.sub, st.DS)
		if !ok {
			return s.failResp(errorf(http.StatusBadRequest, "invalid next page token"))
		}
		return servePage(s, c, st, src, evalFields)
	case kindInventory:
		src, ok := s.newInvSource(c.sub, st.DS, st.Col)
		if !ok {
			return s.failResp(errorf(http.StatusBadRequest, "invalid next page token"))
		}
		return servePage(s, c, st, src, invFields)
	default:
		return servePage(s, c, st, s.newAuditSource(c.sub), auditFields)
	}
}

// rowSource generates the rows of one result-set kind on demand.
type rowSource[R any] interface {
	// row builds row i; it depends only on the seed and the source identity.
	row(i int64) R
	// field returns a filterable field value.
	field(r *R, name string) string
	// setLong puts the over-long value into the row.
	setLong(r *R, v string)
}

// fieldSet lists the filterable fields and the top-level ("returns") fields
// of a row kind.
type fieldSet struct {
	filter   []string
	topLevel []string
}

// startResultSet validates filters and returns, counts the result set and
// serves its first page.
func startResultSet[R any](s *Server, c *call, st pageState, src rowSource[R], fields fieldSet) *response {
	fs, err := compileFilters(st.F, fields.filter)
	if err != nil {
		return s.failResp(err)
	}
	for _, r := range st.R {
		if !slices.Contains(fields.topLevel, r) {
			return s.failResp(errorf(http.StatusBadRequest, "returns: unknown field %q (allowed: %s)", r, strings.Join(fields.topLevel, ", ")))
		}
	}
	st.V = pageStateVersion
	st.Cur, st.Off = st.Lo, 0
	capRows := int64(s.cfg.ResultCap)
	if len(fs) == 0 {
		st.Tot = min(st.Hi-st.Lo, capRows)
	} else {
		for i := st.Lo; i < st.Hi && st.Tot < capRows; i++ {
			r := src.row(i)
			if matchAll(src, &r, fs) {
				st.Tot++
			}
		}
	}
	st.Long = -1
	if s.cfg.Faults.Tricky && st.Tot > 0 {
		r := s.root.Str("long").Str(st.Kind).Str(st.Sub).Str(st.DS).Num(st.Lo).Num(st.Hi).Rng()
		st.Long = r.Int63n(st.Tot)
	}
	return servePage(s, c, st, src, fields)
}

// servePage renders the page starting at st (rows generated on demand,
// encoded into a pooled buffer).
func servePage[R any](s *Server, c *call, st pageState, src rowSource[R], fields fieldSet) *response {
	fs, err := compileFilters(st.F, fields.filter)
	if err != nil {
		return s.failResp(err)
	}
	data := s.bufs.Get()
	defer s.bufs.Put(data)
	enc := newEncoder(data)
	var proj *projector
	if len(st.R) > 0 {
		proj = newProjector(st.R)
	}
	pageSize := int64(s.cfg.PageSize)
	var rows int64
	cur := st.Cur
	for cur < st.Hi && rows < pageSize && st.Off+rows < st.Tot {
		r := src.row(cur)
		cur++
		if !matchAll(src, &r, fs) {
			continue
		}
		if st.Off+rows == st.Long {
			src.setLong(&r, s.long)
		}
		if rows > 0 {
			data.WriteByte(',')
		}
		if proj != nil {
			proj.encode(enc, data, r)
		} else {
			encodeTo(enc, data, r)
		}
		rows++
	}

	var pg struct {
		Rows      int64 `json:"rows"`
		TotalRows int64 `json:"totalRows"`
		Urls      struct {
			NextPage *string `json:"nextPage"`
		} `json:"urls"`
	}
	pg.Rows, pg.TotalRows = rows, st.Tot
	if st.Off+rows < st.Tot {
		next := st
		next.Cur, next.Off, next.Iat = cur, st.Off+rows, c.now.Unix()
		u := requestScheme(c.r) + "://" + c.r.Host + kinds[st.Kind].nextPrefix + s.encodeToken(&next)
		pg.Urls.NextPage = &u
	}
	out := s.bufs.Get()
	out.Grow(data.Len() + 512)
	if kinds[st.Kind].unpaged {
		out.WriteString(`{"data":[`)
	} else {
		out.WriteString(`{"paging":`)
		encodeTo(newEncoder(out), out, &pg)
		out.WriteString(`,"data":[`)
	}
	out.Write(data.Bytes())
	out.WriteString(`]}`)
	return &response{status: http.StatusOK, contentType: "application/json", body: out, pageID: st.pageID()}
}

func requestScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// projector renders only the "returns" top-level fields of a row.
type projector struct {
	keep []string
	tmp  bytes.Buffer
	enc  *json.Encoder
}

func newProjector(keep []string) *projector {
	p := &projector{keep: keep}
	p.enc = newEncoder(&p.tmp)
	return p
}

func (p *projector) encode(enc *json.Encoder, dst *bytes.Buffer, row any) {
	p.tmp.Reset()
	encodeTo(p.enc, &p.tmp, row)
	var all map[string]json.RawMessage
	if err := json.Unmarshal(p.tmp.Bytes(), &all); err != nil {
		panic("emulator: projecting row: " + err.Error())
	}
	out := make(map[string]json.RawMessage, len(p.keep))
	for _, k := range p.keep {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	encodeTo(enc, dst, out)
}

// compiledFilter is a validated filter.
type compiledFilter struct {
	field string
	op    string
	value string
	set   map[string]bool
	re    *regexp.Regexp
	neg   bool
}

// compileFilters validates filters against the API document's rules
// ("Simple & Advanced Search") and the emulator's supported subset:
// eq, ne, in, not_in, like, not_like, ilike, not_ilike, rlike, not_rlike on
// the listed fields. gt/lt/ge/le/between and unknown fields are rejected with
// 400 rather than ignored, so a client never silently receives unfiltered
// data.
func compileFilters(specs []filterSpec, allowed []string) ([]compiledFilter, *apiError) {
	var out []compiledFilter
	for i, f := range specs {
		where := "filters[" + strconv.Itoa(i) + "]"
		if f.Field == "" {
			return nil, errorf(http.StatusBadRequest, "%s: field is required", where)
		}
		if !slices.Contains(allowed, f.Field) {
			return nil, errorf(http.StatusBadRequest, "%s: filtering on field %q is not supported by the emulator (supported: %s)", where, f.Field, strings.Join(allowed, ", "))
		}
		cf := compiledFilter{field: f.Field, op: f.Expression}
		needValue := func() *apiError {
			if f.Value == nil || len(f.Values) > 0 {
				return errorf(http.StatusBadRequest, "%s: expression %q takes \"value\" and not \"values\"", where, f.Expression)
			}
			cf.value = *f.Value
			return nil
		}
		switch op, neg := strings.CutPrefix(f.Expression, "not_"); op {
		case "eq", "ne":
			if neg {
				return nil, errorf(http.StatusBadRequest, "%s: unknown filter expression %q", where, f.Expression)
			}
			if err := needValue(); err != nil {
				return nil, err
			}
			cf.neg = op == "ne"
		case "in":
			if f.Value != nil || len(f.Values) == 0 {
				return nil, errorf(http.StatusBadRequest, "%s: expression %q takes a non-empty \"values\" and not \"value\"", where, f.Expression)
			}
			cf.set = map[string]bool{}
			for _, v := range f.Values {
				cf.set[v] = true
			}
			cf.neg = neg
		case "like", "ilike", "rlike":
			if err := needValue(); err != nil {
				return nil, err
			}
			var err error
			if op == "rlike" {
				cf.re, err = regexp.Compile(`(?s)^(?:` + cf.value + `)$`)
			} else {
				cf.re, err = likeRegexp(cf.value, op == "ilike")
			}
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "%s: invalid pattern %q: %v", where, cf.value, err)
			}
			cf.neg = neg
		case "gt", "lt", "ge", "le", "between", "expr":
			if neg {
				return nil, errorf(http.StatusBadRequest, "%s: unknown filter expression %q", where, f.Expression)
			}
			return nil, errorf(http.StatusBadRequest, "%s: filter expression %q is not supported by the emulator", where, f.Expression)
		default:
			return nil, errorf(http.StatusBadRequest, "%s: unknown filter expression %q", where, f.Expression)
		}
		out = append(out, cf)
	}
	return out, nil
}

// likeRegexp translates a SQL LIKE pattern (% any run, _ one character,
// backslash escapes) into an anchored regular expression.
func likeRegexp(p string, fold bool) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("(?s)")
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	esc := false
	for _, r := range p {
		switch {
		case esc:
			b.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case r == '\\':
			esc = true
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

func (f *compiledFilter) match(v string) bool {
	var ok bool
	switch {
	case f.set != nil:
		ok = f.set[v]
	case f.re != nil:
		ok = f.re.MatchString(v)
	default:
		ok = v == f.value
	}
	return ok != f.neg
}

// matchAll reports whether the row satisfies every filter (they are AND'd).
func matchAll[R any](src rowSource[R], r *R, fs []compiledFilter) bool {
	for i := range fs {
		if !fs[i].match(src.field(r, fs[i].field)) {
			return false
		}
	}
	return true
}
