package emulator

import (
	"net/http"
	"strconv"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// auditRow is one AuditLogs row. createdTime is epoch milliseconds (the
// OpenAPI schema types it as an integer).
type auditRow struct {
	AccountName      string `json:"accountName"`
	CreatedTime      int64  `json:"createdTime"`
	EventDescription string `json:"eventDescription"`
	EventName        string `json:"eventName"`
	UserAction       string `json:"userAction"`
	UserName         string `json:"userName"`
}

var auditFields = fieldSet{
	filter:   []string{"accountName", "eventDescription", "eventName", "userAction", "userName"},
	topLevel: []string{"accountName", "createdTime", "eventDescription", "eventName", "userAction", "userName"},
}

// auditSource generates the audit log of one sub-account.
type auditSource struct {
	sub    *subAccount
	k      emulatorkit.Key
	series series
	tricky bool
}

func (s *Server) newAuditSource(sa *subAccount) *auditSource {
	return &auditSource{sub: sa, k: sa.key.Str("auditlogs"), series: series{int64(s.cfg.AuditLogsPerDay)}, tricky: s.cfg.Faults.Tricky}
}

func (a *auditSource) row(g int64) auditRow {
	r := a.k.Num(g).Rng()
	ev := auditEvents[r.Intn(len(auditEvents))]
	row := auditRow{
		AccountName:      a.sub.upper,
		CreatedTime:      a.series.at(g),
		EventName:        ev.eventName,
		UserAction:       ev.userAction,
		UserName:         auditUsers[r.Intn(len(auditUsers))],
		EventDescription: ev.description + " (event " + strconv.FormatInt(g, 36) + ")",
	}
	if a.tricky {
		switch u := r.Intn(128); {
		case u == 0:
			row.EventDescription = trickyCJK
		case u == 1:
			row.EventDescription = trickyAccents
		case u == 2:
			row.EventDescription = trickyRTL
		case u >= 3 && u <= 6:
			row.EventDescription = trickyFormulas[u-3]
		case u == 7:
			row.EventDescription = trickyControl
		case u == 8:
			row.EventDescription = trickyEmoji
		}
	}
	return row
}

func (a *auditSource) field(r *auditRow, name string) string {
	switch name {
	case "accountName":
		return r.AccountName
	case "eventDescription":
		return r.EventDescription
	case "eventName":
		return r.EventName
	case "userAction":
		return r.UserAction
	case "userName":
		return r.UserName
	}
	return ""
}

func (a *auditSource) setLong(r *auditRow, v string) { r.EventDescription = v }

// handleAuditLogsGet serves GET /api/v2/AuditLogs?startTime=&endTime=.
func (s *Server) handleAuditLogsGet(c *call) *response {
	q := c.r.URL.Query()
	var start, end *string
	if v, ok := q["startTime"]; ok {
		start = &v[0]
	}
	if v, ok := q["endTime"]; ok {
		end = &v[0]
	}
	return s.auditResultSet(c, start, end, nil, nil)
}

// handleAuditLogsSearch serves POST /api/v2/AuditLogs/search.
func (s *Server) handleAuditLogsSearch(c *call) *response {
	var body searchBody
	if err := readJSON(c.r, &body, searchKeys()); err != nil {
		return s.failResp(err)
	}
	var start, end *string
	if body.TimeFilter != nil {
		start, end = body.TimeFilter.StartTime, body.TimeFilter.EndTime
	}
	return s.auditResultSet(c, start, end, body.Filters, body.Returns)
}

func (s *Server) auditResultSet(c *call, start, end *string, fs []filterSpec, returns []string) *response {
	sn, en := "startTime", "endTime"
	if c.r.Method != http.MethodGet {
		sn, en = "timeFilter.startTime", "timeFilter.endTime"
	}
	from, to, err := resolveWindow(start, end, sn, en, c.now)
	if err != nil {
		return s.failResp(err)
	}
	st := pageState{Kind: kindAuditLogs, Sub: c.sub.pub.Name, S: msCeil(from), E: msCeil(to), F: fs, R: returns}
	st.Lo, st.Hi = s.seriesSpan(int64(s.cfg.AuditLogsPerDay), from, to, c.now)
	return startResultSet(s, c, st, s.newAuditSource(c.sub), auditFields)
}
