package emulator

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/emulatorkit"
)

// The activity audit is a series of events evenly spaced over time: event k
// happens at k·spacing nanoseconds after the epoch, where spacing is a day
// divided by AuditEventsPerDay. Events exist in the horizon [Now-90d, Now).

func (s *Server) spacing() int64 { return nanosPerDay / int64(s.cfg.AuditEventsPerDay) }

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0, without overflow.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}

// horizon returns the event indices [lo, hi) that exist.
func (s *Server) horizon() (int64, int64) {
	now := s.cfg.Now().UnixNano()
	sp := s.spacing()
	return ceilDiv(max(now-int64(auditRetention), 0), sp), ceilDiv(max(now, 0), sp)
}

// auditSpan returns the event indices [lo, hi) stamped in [from, to) ns.
func (s *Server) auditSpan(from, to int64) (int64, int64) {
	hLo, hHi := s.horizon()
	sp := s.spacing()
	lo := max(hLo, ceilDiv(max(from, 0), sp))
	hi := min(hHi, ceilDiv(max(to, 0), sp))
	return lo, max(lo, hi)
}

// Cursors name a position: "b:k" continues with the events older than k,
// "a:k" with the events newer than k.
func encodeCursor(dir byte, k int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(dir) + ":" + strconv.FormatInt(k, 10)))
}

func decodeCursor(c string) (byte, int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 3 || (b[0] != 'a' && b[0] != 'b') || b[1] != ':' {
		return 0, 0, false
	}
	k, err := strconv.ParseInt(string(b[2:]), 10, 64)
	if err != nil || k < -1 {
		return 0, 0, false
	}
	return b[0], k, true
}

// maxAuditWindow is the longest from/to span served: "The difference
// between from and to cannot be greater than 2 weeks" (seed 002, stated for
// the secure-events feed whose paging the activity audit shares; for the
// audit events it is inferred, see ibmscc.MaxAuditWindow). Exactly two
// weeks is served; a nanosecond more gets 400.
const maxAuditWindow = 14 * 24 * time.Hour

// minNanos: from and to below 10¹⁷ (March 1973) are taken for seconds or
// milliseconds sent where the document wants nanoseconds, and refused.
const minNanos = 1e17

// handleAudit serves GET /api/v2/activityAudit/events: from and to (epoch
// nanoseconds) or cursor, mutually exclusive; limit 1..9999 (default 100).
// Events come newest first. With from and to, prev and next are always set;
// with a cursor, prev is set iff older events exist and next iff newer ones
// do, and the results are not bounded by the first request's window (the
// document's secure-events paging, which the audit events share).
func (s *Server) handleAudit(c *call) *response {
	if err := c.checkQuery("from", "to", "cursor", "limit", "filter", "types"); err != nil {
		return s.fail(err)
	}
	if c.q.Get("filter") != "" || c.q.Get("types") != "" {
		return s.fail(errorf(http.StatusBadRequest, "filter and types are not supported by the emulator"))
	}
	limit := int64(100)
	if v := c.q.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 9999 {
			return s.fail(errorf(http.StatusBadRequest, "limit %q: want 1 ≤ limit ≤ 9999", v))
		}
		limit = n
	}
	cursor, fromS, toS := c.q.Get("cursor"), c.q.Get("from"), c.q.Get("to")
	hLo, hHi := s.horizon()
	var lo, hi int64 // served indices [lo, hi), returned newest first
	var prevSet, nextSet bool
	total := hHi - hLo
	switch {
	case cursor != "" && (fromS != "" || toS != ""):
		return s.fail(errorf(http.StatusBadRequest, "The pair from and to and the cursor parameter are mutually exclusive"))
	case cursor != "":
		dir, k, ok := decodeCursor(cursor)
		if !ok {
			return s.fail(errorf(http.StatusBadRequest, "invalid cursor"))
		}
		k = min(max(k, hLo-1), hHi)
		if dir == 'b' {
			hi = min(k, hHi)
			lo = max(hLo, hi-limit)
		} else {
			lo = max(k+1, hLo)
			hi = min(lo+limit, hHi)
		}
		lo = min(lo, max(hi, hLo))
		hi = max(hi, lo)
		prevSet, nextSet = lo > hLo, hi < hHi
	default:
		if fromS == "" || toS == "" {
			return s.fail(errorf(http.StatusBadRequest, "from and to, or cursor, are required"))
		}
		from, err1 := strconv.ParseInt(fromS, 10, 64)
		to, err2 := strconv.ParseInt(toS, 10, 64)
		if err1 != nil || err2 != nil || from < minNanos || to < minNanos {
			return s.fail(errorf(http.StatusBadRequest, "from and to must be epoch nanoseconds (e.g. 1546300800000000000)"))
		}
		if from >= to {
			return s.fail(errorf(http.StatusBadRequest, "from must be before to"))
		}
		if to-from > int64(maxAuditWindow) {
			return s.fail(errorf(http.StatusBadRequest, "The difference between from and to cannot be greater than 2 weeks"))
		}
		wLo, wHi := s.auditSpan(from, to)
		hi, lo = wHi, max(wLo, wHi-limit)
		total = wHi - wLo
		prevSet, nextSet = true, true
	}
	type pageJSON struct {
		Prev  string `json:"prev,omitempty"`
		Next  string `json:"next,omitempty"`
		Total int64  `json:"total"`
	}
	pg := pageJSON{Total: total}
	if prevSet {
		pg.Prev = encodeCursor('b', lo)
	}
	if nextSet {
		pg.Next = encodeCursor('a', hi-1)
	}
	data := make([]any, 0, hi-lo)
	for k := hi - 1; k >= lo; k-- {
		data = append(data, s.auditEvent(k))
	}
	return s.jsonResp(http.StatusOK, struct {
		Data []any    `json:"data"`
		Page pageJSON `json:"page"`
	}{data, pg})
}

var (
	auditTypes = []string{"command", "connection", "fileaccess", "kubernetes"}
	auditUsers = []string{"root", "ubuntu", "deploy", "jenkins"}
	auditComms = []string{"bash", "curl", "kubectl", "python3", "sshd", "cat"}
)

// auditEvent renders event k.
func (s *Server) auditEvent(k int64) any {
	rg := s.root.Str("audit").Num(k).Rng()
	ts := k * s.spacing()
	typ := emulatorkit.Pick(&rg, auditTypes)
	host := "ip-10-0-" + strconv.Itoa(rg.Intn(256)) + "-" + strconv.Itoa(rg.Intn(256)) + ".internal"
	cluster := emulatorkit.Pick(&rg, []string{"iks-prod-cluster", "roks-dev"})
	labels := map[string]string{
		"host.hostName":             host,
		"kubernetes.cluster.name":   cluster,
		"kubernetes.namespace.name": emulatorkit.Pick(&rg, []string{"default", "payments", "kube-system"}),
	}
	user := emulatorkit.Pick(&rg, auditUsers)
	comm := emulatorkit.Pick(&rg, auditComms)
	cmdline := comm + " " + emulatorkit.Pick(&rg, []string{"-la /etc", "https://example.com/install.sh", "get pods -A", "manage.py migrate"})
	if s.cfg.Tricky && k%97 == 13 {
		user, cmdline = "مستخدم\u202e", "=cmd|' /C calc'!A0\t"+strings.Repeat("x", 40)+" 中文"
	}
	base := auditBase{rg.Hex(32), encodeCursor('b', k+1), ts, typ, host, rg.Hex(12), labels}
	pid := 1000 + rg.Intn(30000)
	switch typ {
	case "command":
		return struct {
			auditBase
			Cmdline            string `json:"cmdline"`
			Comm               string `json:"comm"`
			Pcomm              string `json:"pcomm"`
			PID                int    `json:"pid"`
			PPID               int    `json:"ppid"`
			UID                int    `json:"uid"`
			Cwd                string `json:"cwd"`
			LoginShellID       int    `json:"loginShellId"`
			LoginShellDistance int    `json:"loginShellDistance"`
			TTY                int    `json:"tty"`
			UserLoginUID       int    `json:"userLoginUid"`
			UserLoginName      string `json:"userLoginName"`
			ProcExepath        string `json:"procExepath"`
		}{base, cmdline, comm, "bash", pid, pid - 1, rg.Intn(2000), "/home/" + user, rg.Intn(99999), rg.Intn(5), 34816,
			rg.Intn(2000), user, "/usr/bin/" + comm}
	case "connection":
		return struct {
			auditBase
			Comm        string   `json:"comm"`
			Cmdline     string   `json:"cmdline"`
			PID         int      `json:"pid"`
			ProcessName string   `json:"processName"`
			ClientIPv4  string   `json:"clientIpv4"`
			ClientPort  int      `json:"clientPort"`
			ServerIPv4  string   `json:"serverIpv4"`
			ServerPort  int      `json:"serverPort"`
			Direction   string   `json:"direction"`
			L4Protocol  string   `json:"l4protocol"`
			DNSDomains  []string `json:"dnsDomains"`
			TTY         int      `json:"tty"`
		}{base, comm, cmdline, pid, comm, "10.0." + strconv.Itoa(rg.Intn(256)) + "." + strconv.Itoa(rg.Intn(256)), 30000 + rg.Intn(30000),
			"172.16." + strconv.Itoa(rg.Intn(256)) + "." + strconv.Itoa(rg.Intn(256)), emulatorkit.Pick(&rg, []int{22, 443, 5432, 6443}),
			emulatorkit.Pick(&rg, []string{"in", "out"}), "tcp", []string{"example.com"}, 0}
	case "fileaccess":
		return struct {
			auditBase
			Comm        string `json:"comm"`
			PID         int    `json:"pid"`
			Directory   string `json:"directory"`
			Filename    string `json:"filename"`
			Permissions string `json:"permissions"`
			TTY         int    `json:"tty"`
		}{base, comm, pid, emulatorkit.Pick(&rg, []string{"/etc", "/root/.ssh", "/var/lib/kubelet"}),
			emulatorkit.Pick(&rg, []string{"shadow", "authorized_keys", "config.yaml"}), emulatorkit.Pick(&rg, []string{"r", "w", "rw"}), 0}
	}
	type kubeUser struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	}
	return struct {
		auditBase
		Resource        string            `json:"resource"`
		SubResource     string            `json:"subResource"`
		Namespace       string            `json:"namespace"`
		Name            string            `json:"name"`
		SourceAddresses []string          `json:"sourceAddresses"`
		User            kubeUser          `json:"user"`
		UserAgent       string            `json:"userAgent"`
		Args            map[string]string `json:"args"`
	}{base, "pods", emulatorkit.Pick(&rg, []string{"exec", "attach"}), labels["kubernetes.namespace.name"], "pod-" + rg.Hex(5),
		[]string{"10.1.2.3"}, kubeUser{user + "@example.com", []string{"system:authenticated"}}, "kubectl/v1.29.0",
		map[string]string{"command": "bash", "container": "app"}}
}

// auditBase holds the fields every audit event has.
type auditBase struct {
	ID          string            `json:"id"`
	Cursor      string            `json:"cursor"`
	Timestamp   int64             `json:"timestamp"`
	Type        string            `json:"type"`
	Hostname    string            `json:"hostname"`
	ContainerID string            `json:"containerId"`
	Labels      map[string]string `json:"labels"`
}
