package emulatorkit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// request is an emulator's log entry: Entry plus fields of its own.
type request struct {
	Entry
	Op string
}

type testLog = Log[request, *request]

func entry(path, pageID string, completed, violation bool) *request {
	return &request{Entry: Entry{Path: path, PageID: pageID, Completed: completed, Violation: violation}, Op: "op-" + path}
}

func TestNewEntryAndAddFault(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://emulator/a/b?x=1&y=2", nil)
	before := time.Now()
	e := NewEntry(r)
	if e.Method != http.MethodPost || e.Path != "/a/b" || e.RawQuery != "x=1&y=2" || e.Time.Before(before) || e.Time.After(time.Now()) {
		t.Fatalf("entry %+v", e)
	}
	for _, tc := range []struct {
		add  []string
		want string
	}{
		{nil, ""},
		{[]string{"500"}, "500"},
		{[]string{"slow", "500"}, "slow,500"},
		{[]string{"slow", "drop-mid", "x"}, "slow,drop-mid,x"},
	} {
		var e Entry
		for _, f := range tc.add {
			e.AddFault(f)
		}
		if e.Fault != tc.want {
			t.Errorf("AddFault %q: %q, want %q", tc.add, e.Fault, tc.want)
		}
	}
}

func TestLogAccessors(t *testing.T) {
	tests := []struct {
		name       string
		entries    []*request
		violations []string // paths
		dups       []string
	}{
		{"empty", nil, nil, nil},
		{"one page", []*request{entry("/a", "p1", true, false)}, nil, nil},
		{"duplicate completed page", []*request{entry("/a", "p1", true, false), entry("/b", "p1", true, false), entry("/c", "p2", true, false)}, nil, []string{"p1"}},
		{"incomplete pages do not count", []*request{entry("/a", "p1", false, false), entry("/b", "p1", true, false), entry("/c", "p1", false, false)}, nil, nil},
		{"no page id does not count", []*request{entry("/a", "", true, false), entry("/b", "", true, false)}, nil, nil},
		{"sorted duplicates", []*request{entry("/1", "z", true, false), entry("/2", "a", true, false), entry("/3", "z", true, false), entry("/4", "a", true, false), entry("/5", "a", true, false)}, nil, []string{"a", "z"}},
		{"violations", []*request{entry("/a", "", false, true), entry("/b", "", false, false), entry("/c", "", false, true)}, []string{"/a", "/c"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l testLog
			for _, e := range tc.entries {
				l.Record(e)
				e.Op = "changed after recording" // the log holds a copy
			}
			got := l.Requests()
			if len(got) != len(tc.entries) {
				t.Fatalf("%d requests, want %d", len(got), len(tc.entries))
			}
			for i, r := range got {
				if r.Path != tc.entries[i].Path || r.Op != "op-"+r.Path {
					t.Fatalf("request %d: %+v", i, r)
				}
			}
			var v []string
			for _, r := range l.Violations() {
				v = append(v, r.Path)
			}
			if !slices.Equal(v, tc.violations) {
				t.Errorf("violations %q, want %q", v, tc.violations)
			}
			if d := l.DuplicatePages(); !slices.Equal(d, tc.dups) {
				t.Errorf("duplicate pages %q, want %q", d, tc.dups)
			}
		})
	}
}

// failingWriter accepts only part of a body.
type failingWriter struct {
	*httptest.ResponseRecorder
	accept int
}

func (w failingWriter) Write(b []byte) (int, error) {
	n, _ := w.ResponseRecorder.Write(b[:min(len(b), w.accept)])
	return n, errors.New("client went away")
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		accept    int // <0: the writer accepts everything
		completed bool
	}{
		{"200 in full", 200, `{"a":1}`, -1, true},
		{"201 in full", 201, `{}`, -1, true},
		{"empty 200", 200, "", -1, true},
		{"404", 404, `{"message":"no"}`, -1, false},
		{"cut body", 200, `{"a":1}`, 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l testLog
			e := entry("/x", "", false, false)
			rec := httptest.NewRecorder()
			var w http.ResponseWriter = rec
			if tc.accept >= 0 {
				w = failingWriter{rec, tc.accept}
			}
			l.Write(w, e, tc.status, []byte(tc.body), "page-1")
			if e.Status != tc.status || e.PageID != "page-1" || e.Completed != tc.completed {
				t.Fatalf("entry %+v", e.Entry)
			}
			if rec.Code != tc.status {
				t.Fatalf("sent %d", rec.Code)
			}
			l.Record(e)
			if dups := l.DuplicatePages(); dups != nil {
				t.Fatalf("dups %q", dups)
			}
		})
	}
}

// The settle tests run in synctest bubbles: the response in flight and the
// settle timeout take their time on the fake clock, exactly.

func TestSettleWaitsForResponsesInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l testLog
		e := entry("/slow", "", true, false)
		l.Begin(e)
		go func() {
			time.Sleep(50 * time.Millisecond)
			l.Record(e)
		}()
		start := time.Now()
		if got := l.Requests(); len(got) != 1 || got[0].Path != "/slow" {
			t.Fatalf("requests %+v: the response in flight was not waited for", got)
		}
		if took := time.Since(start); took != 50*time.Millisecond {
			t.Errorf("settle took %v, want the response's 50ms", took)
		}
	})
}

func TestSettleGivesUp(t *testing.T) {
	synctest.Test(t, testSettleGivesUp)
}

func testSettleGivesUp(t *testing.T) {
	l := testLog{timeout: 30 * time.Millisecond}
	l.Begin(entry("/stuck", "", false, false))
	start := time.Now()
	if got := l.Requests(); len(got) != 0 {
		t.Fatalf("requests %+v", got)
	}
	if took := time.Since(start); took != 30*time.Millisecond {
		t.Fatalf("settle took %v, want its 30ms timeout", took)
	}
	// A response begun after the accessor started is not waited for, and
	// one that is logged stops being waited for.
	l.Record(entry("/other", "", false, false))
	if got := l.Requests(); len(got) != 1 {
		t.Fatalf("requests %+v", got)
	}
}

func TestLogConcurrent(t *testing.T) {
	var l testLog
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			e := entry("/c", "p", true, i%2 == 0)
			l.Begin(e)
			l.Record(e)
			_ = l.Requests()
		})
	}
	wg.Wait()
	if n, v := len(l.Requests()), len(l.Violations()); n != 50 || v != 25 {
		t.Fatalf("%d requests, %d violations", n, v)
	}
	if d := l.DuplicatePages(); !slices.Equal(d, []string{"p"}) {
		t.Fatalf("dups %q", d)
	}
}
