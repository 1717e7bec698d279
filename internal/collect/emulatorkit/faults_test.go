package emulatorkit

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// planString renders a FaultPlan compactly: "-" for none, else "slow",
// "expire", the status, "before", "mid", joined with "+".
func planString(p FaultPlan) string {
	var parts []string
	if p.Slow {
		parts = append(parts, "slow")
	}
	if p.Expire {
		parts = append(parts, "expire")
	}
	if p.Status != 0 {
		parts = append(parts, strconv.Itoa(p.Status))
	}
	switch p.Drop {
	case DropBefore:
		parts = append(parts, "before")
	case DropMid:
		parts = append(parts, "mid")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "+")
}

func TestFaultCadence(t *testing.T) {
	tests := []struct {
		name    string
		cadence Cadence
		want    string // the plans of requests 1, 2, ...
	}{
		{"none", Cadence{}, "- - - - -"},
		{"negative is never", Cadence{ErrorEvery: -1, DropEvery: -2}, "- - - -"},
		{"5xx cycle", Cadence{ErrorEvery: 2}, "- 500 - 502 - 503 - 500"},
		{"429", Cadence{RateLimitEvery: 3}, "- - 429 - - 429"},
		{"drops alternate", Cadence{DropEvery: 1}, "before mid before mid"},
		{"expire", Cadence{ExpireEvery: 2}, "- expire - expire"},
		{"slow is independent", Cadence{SlowEvery: 2, ErrorEvery: 2, DropEvery: 3}, "- slow+500 before slow+502 - slow+503"},
		{"precedence", Cadence{ExpireEvery: 4, ErrorEvery: 2, RateLimitEvery: 3, DropEvery: 1}, "before 500 429 expire mid 502 before expire 429 503 mid expire"},
		{"counters advance only when injected", Cadence{ErrorEvery: 2, DropEvery: 2, RateLimitEvery: 5}, "- 500 - 502 429 503 - 500 - 502"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := strings.Fields(tc.want)
			var f FaultCounter
			var got []string
			for range want {
				got = append(got, planString(f.Next(tc.cadence)))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("plans %q\nwant  %q", got, want)
			}
		})
	}
}

func TestFaultCounterConcurrent(t *testing.T) {
	var f FaultCounter
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			p := f.Next(Cadence{ErrorEvery: 3, DropEvery: 4})
			mu.Lock()
			counts[planString(p)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	// Of 60 requests: 20 multiples of 3 (5xx, ~7 each); of the 15 multiples
	// of 4, 5 are multiples of 12 and so 5xx: 10 drops, 5 of each kind.
	if counts["500"] != 7 || counts["502"] != 7 || counts["503"] != 6 || counts["before"] != 5 || counts["mid"] != 5 {
		t.Fatalf("counts %v", counts)
	}
}

// dropServer serves body with status, dropping the connection with mode.
func dropServer(t *testing.T, l *testLog, status int, body string, mode DropMode) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := &request{Entry: NewEntry(r)}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		l.Drop(w, e, status, []byte(body), mode)
		l.Record(e)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestDropHijacked(t *testing.T) {
	body := `{"data":["` + strings.Repeat("x", 1000) + `"]}`
	tests := []struct {
		mode      DropMode
		fault     string
		status    int // logged
		wantResp  bool
		wantBytes int
	}{
		{DropBefore, "drop-before", 0, false, 0},
		{DropMid, "drop-mid", 200, true, len(body) / 2},
	}
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			var l testLog
			ts := dropServer(t, &l, 200, body, tc.mode)
			tr := &http.Transport{DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(ts.URL + "/p")
			if !tc.wantResp {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got HTTP %d, want a dropped connection", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != tc.wantBytes || resp.ContentLength != int64(len(body)) {
					t.Fatalf("HTTP %d, %d of %d bytes, err %v", resp.StatusCode, len(b), resp.ContentLength, err)
				}
				if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Date") == "" {
					t.Fatalf("headers %v", resp.Header)
				}
			}
			log := l.Requests()
			if len(log) != 1 || log[0].Fault != tc.fault || log[0].Status != tc.status || log[0].Completed || log[0].Path != "/p" {
				t.Fatalf("log %+v", log)
			}
		})
	}
}

func TestDropNotHijackable(t *testing.T) {
	for _, tc := range []struct {
		mode  DropMode
		fault string
		sent  string // what reaches the recorder
	}{
		{DropBefore, "drop-before", ""},
		{DropMid, "drop-mid", "0123"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			var l testLog
			rec := httptest.NewRecorder()
			e := &request{Entry: Entry{Path: "/h2"}}
			func() {
				defer func() {
					if r := recover(); r != http.ErrAbortHandler {
						t.Fatalf("recovered %v, want http.ErrAbortHandler", r)
					}
				}()
				l.Drop(rec, e, 201, []byte("01234567"), tc.mode)
				t.Fatal("Drop returned")
			}()
			if got := rec.Body.String(); got != tc.sent || (tc.mode == DropMid && (rec.Code != 201 || !rec.Flushed)) {
				t.Fatalf("recorder: %d %q flushed %v", rec.Code, got, rec.Flushed)
			}
			// Recorded before the abort, and no longer in flight.
			start := time.Now()
			log := l.Requests()
			if len(log) != 1 || log[0].Fault != tc.fault || time.Since(start) > time.Second {
				t.Fatalf("log %+v", log)
			}
		})
	}
}

func TestDropAddsToOtherFaults(t *testing.T) {
	var l testLog
	e := &request{Entry: Entry{Fault: "slow"}}
	func() {
		defer func() { _ = recover() }()
		l.Drop(httptest.NewRecorder(), e, 200, nil, DropBefore)
	}()
	if e.Fault != "slow,drop-before" {
		t.Fatalf("fault %q", e.Fault)
	}
}

func TestBlocks(t *testing.T) {
	t0 := time.Now()
	type step struct {
		block     string        // scope to block, "" none
		until     time.Duration // block end after t0
		scope     string        // scope to ask
		at        time.Duration // asked at t0+at
		remaining time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"never blocked", []step{{scope: "a", remaining: 0}}},
		{"blocked", []step{{block: "a", until: time.Second, scope: "a", remaining: time.Second}, {scope: "a", at: 400 * time.Millisecond, remaining: 600 * time.Millisecond}}},
		{"scopes are separate", []step{{block: "a", until: time.Second, scope: "b", remaining: 0}}},
		{"expires", []step{{block: "a", until: time.Second, scope: "a", at: time.Second, remaining: 0}, {scope: "a", at: 2 * time.Second, remaining: 0}}},
		{"a longer block stays", []step{{block: "a", until: 3 * time.Second, scope: "a", remaining: 3 * time.Second}, {block: "a", until: time.Second, scope: "a", remaining: 3 * time.Second}}},
		{"a longer block extends", []step{{block: "a", until: time.Second, scope: "a", remaining: time.Second}, {block: "a", until: 5 * time.Second, scope: "a", remaining: 5 * time.Second}}},
		{"blocked again after expiry", []step{{block: "a", until: time.Second, scope: "a", at: 2 * time.Second, remaining: 0}, {block: "a", until: 3 * time.Second, scope: "a", at: 2 * time.Second, remaining: time.Second}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b Blocks
			for i, s := range tc.steps {
				if s.block != "" {
					b.Block(s.block, t0.Add(s.until))
				}
				if got := b.Remaining(s.scope, t0.Add(s.at)); got != s.remaining {
					t.Fatalf("step %d: remaining %v, want %v", i, got, s.remaining)
				}
			}
		})
	}
}

func TestCeilSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{-time.Second, 0}, {0, 0}, {time.Nanosecond, 1}, {999 * time.Millisecond, 1}, {time.Second, 1},
		{time.Second + time.Nanosecond, 2}, {59500 * time.Millisecond, 60}, {time.Hour, 3600},
	} {
		if got := CeilSeconds(tc.d); got != tc.want {
			t.Errorf("CeilSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func TestBufferPool(t *testing.T) {
	var p BufferPool
	for _, tc := range []struct {
		name string
		size int
	}{{"small", 10}, {"large", maxPooledBuffer + 1}} {
		t.Run(tc.name, func(t *testing.T) {
			b := p.Get()
			if b.Len() != 0 {
				t.Fatalf("got a buffer holding %d bytes", b.Len())
			}
			b.Grow(tc.size)
			b.WriteString("data")
			p.Put(b)
			if b.Cap() <= maxPooledBuffer && b.Len() != 0 {
				t.Fatal("a pooled buffer was not reset")
			}
			if got := p.Get(); got.Len() != 0 {
				t.Fatalf("got a buffer holding %q", got.String())
			}
		})
	}
	p.Put(nil) // ignored
	if !bytes.Equal(p.Get().Bytes(), nil) {
		t.Fatal("not empty")
	}
}
