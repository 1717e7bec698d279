package metrics

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var runs = []Run{
	{Tenant: "acme", Success: true, UnitsOK: 50, UnitsFailed: 2, Rows: 63050, Bytes: 8_000_000, Requests: 98, RateLimited: 3, Retries: 5,
		Duration: 2500 * time.Millisecond, Finished: time.Unix(1795500000, 0)},
	{Tenant: "globex", Success: false, Finished: time.Unix(1795500100, 0)},
}

func parse(t *testing.T, r io.Reader, format expfmt.Format) map[string]*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(r, format)
	out := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out[mf.GetName()] = &mf
	}
}

func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
				continue next
			}
		}
		return m.GetGauge().GetValue(), true
	}
	return 0, false
}

func check(t *testing.T, mfs map[string]*dto.MetricFamily) {
	t.Helper()
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
		absent bool
	}{
		{"evidence_last_run_success", map[string]string{"tenant": "acme"}, 1, false},
		{"evidence_last_run_success", map[string]string{"tenant": "globex"}, 0, false},
		{"evidence_last_run_units", map[string]string{"tenant": "acme", "result": "failed"}, 2, false},
		{"evidence_last_run_rows", map[string]string{"tenant": "acme"}, 63050, false},
		{"evidence_last_run_rate_limited", map[string]string{"tenant": "acme"}, 3, false},
		{"evidence_last_run_duration_seconds", map[string]string{"tenant": "acme"}, 2.5, false},
		{"evidence_last_success_timestamp_seconds", map[string]string{"tenant": "acme"}, 1795500000, false},
		{"evidence_last_success_timestamp_seconds", map[string]string{"tenant": "globex"}, 0, true},
	}
	for _, tc := range tests {
		got, ok := value(t, mfs, tc.name, tc.labels)
		if tc.absent {
			if ok {
				t.Errorf("%s%v present", tc.name, tc.labels)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
}

func TestTextfileReadsBack(t *testing.T) {
	p := filepath.Join(t.TempDir(), "evidence.prom")
	if err := WriteTextfile(p, runs); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	check(t, parse(t, bytes.NewReader(b), expfmt.NewFormat(expfmt.TypeTextPlain)))
	// The text also parses with the validating text parser node_exporter uses.
	tp := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := tp.TextToMetricFamilies(bytes.NewReader(b)); err != nil {
		t.Fatalf("text format: %v", err)
	}
}

func TestPushReachesTheGateway(t *testing.T) {
	var mu sync.Mutex
	var body []byte
	var method, path, ctype string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		method, path, ctype = r.Method, r.URL.Path, r.Header.Get("Content-Type")
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	if err := Push(context.Background(), gw.URL, nil, runs, map[string]string{"shard": "1-of-4"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if method != http.MethodPut || path != "/metrics/job/evidence/shard/1-of-4" {
		t.Fatalf("%s %s", method, path)
	}
	check(t, parse(t, bytes.NewReader(body), expfmt.ResponseFormat(http.Header{"Content-Type": {ctype}})))

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer down.Close()
	if err := Push(context.Background(), down.URL, nil, runs, nil); err == nil {
		t.Fatal("push to a failing gateway succeeded")
	}
}
