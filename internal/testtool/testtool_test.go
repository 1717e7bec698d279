package testtool

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records how a gate ended the test: Fatal
// and Skip stop the calling goroutine, as testing's own do.
type recorder struct {
	testing.TB
	mu    sync.Mutex
	ended string // "fatal" or "skip"
	msg   string
}

func (r *recorder) Helper() {}
func (r *recorder) end(how, msg string) {
	r.mu.Lock()
	r.ended, r.msg = how, msg
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) { r.end("fatal", fmt.Sprintf(format, args...)) }
func (r *recorder) Skipf(format string, args ...any)  { r.end("skip", fmt.Sprintf(format, args...)) }

// gate runs f with a recorder in its own goroutine, as a test runs.
func gate(f func(testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestMissingSkipsOnALaptopAndFailsInCI(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		want string
	}{
		{"", "skip"},
		{"true", "fatal"},
		{"1", "fatal"}, // any value: CI services differ
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := gate(func(tb testing.TB) { Missing(tb, "frobnicator", "apt-get install frob", errors.New("not found")) })
			if r.ended != tc.want {
				t.Fatalf("ended with %q, want %q", r.ended, tc.want)
			}
			for _, w := range []string{"frobnicator", "not found", "did NOT run", "apt-get install frob"} {
				if !strings.Contains(r.msg, w) {
					t.Errorf("message lacks %q:\n%s", w, r.msg)
				}
			}
		})
	}
}

func TestProgram(t *testing.T) {
	t.Setenv("CI", "true")
	// A program that is there, and one whose probe fails (the check
	// would not work), and one that is not there.
	if r := gate(func(tb testing.TB) { Program(tb, "go", "-", "version") }); r.ended != "" {
		t.Errorf("go version: %s %s", r.ended, r.msg)
	}
	if r := gate(func(tb testing.TB) { Program(tb, "go", "-", "no-such-subcommand") }); r.ended != "fatal" {
		t.Errorf("a failing probe: %q, want fatal", r.ended)
	}
	if r := gate(func(tb testing.TB) { Program(tb, "evidence-no-such-program", "-") }); r.ended != "fatal" {
		t.Errorf("a missing program: %q, want fatal", r.ended)
	}
}

func TestDuckDBNeedsTheModules(t *testing.T) {
	t.Setenv("CI", "true")
	t.Setenv("EVIDENCE_DUCKDB_NODE_MODULES", t.TempDir()) // no @duckdb/node-api in it
	if r := gate(func(tb testing.TB) { DuckDB(tb) }); r.ended != "fatal" || !strings.Contains(r.msg, "node-api") {
		t.Errorf("an empty modules folder: %q %s", r.ended, r.msg)
	}
}

// QueryDuckDB runs the setup, then each query, in the folder given, and
// a failing statement fails the test with DuckDB's message.
func TestQueryDuckDB(t *testing.T) {
	dir := t.TempDir()
	var got struct {
		One  []map[string]any `json:"one"`
		Rows []map[string]any `json:"rows"`
	}
	QueryDuckDB(t, dir, "CREATE TABLE t AS SELECT 'it''s' AS s, 2::BIGINT AS n; COPY t TO 't.parquet'",
		map[string]string{"one": "SELECT 1 AS x", "rows": "SELECT s, n, current_setting('TimeZone') AS tz FROM 't.parquet'"}, &got)
	if len(got.One) != 1 || fmt.Sprint(got.One[0]["x"]) != "1" {
		t.Errorf("one: %v", got.One)
	}
	if len(got.Rows) != 1 || got.Rows[0]["s"] != "it's" || got.Rows[0]["n"] != "2" || got.Rows[0]["tz"] != "UTC" {
		t.Errorf("rows: %v", got.Rows)
	}
	t.Setenv("CI", "true")
	var out map[string]any
	if r := gate(func(tb testing.TB) {
		QueryDuckDB(tb, dir, "", map[string]string{"bad": "SELECT * FROM no_such_table"}, &out)
	}); r.ended != "fatal" || !strings.Contains(r.msg, "no_such_table") {
		t.Errorf("a failing query: %q %s", r.ended, r.msg)
	}
}
