package job_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/job"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/source"
)

// 2,000 cloud accounts × 5 frameworks need 20,000 requests in Lacework's
// Reports bucket (a report's JSON and its PDF each) at 480 an hour: about
// 41 hours with one key, so a daily schedule cannot hold it; the plan
// says so before the run, and how many keys would.
func TestPlanWarnsBeyondTheSchedule(t *testing.T) {
	reports := source.Bucket{Name: "Reports", Units: 10000, Requests: 20000, PerHour: 480, Burst: 480}
	search := source.Bucket{Name: "Inventory/search", Units: 20, Requests: 300, PerHour: 480, Burst: 480}
	tp := job.TenantPlan{Tenant: "acme", Buckets: []source.Bucket{reports, search}, Latency: 200 * time.Millisecond}
	for _, tc := range []struct {
		limit time.Duration
		keys  int
	}{
		{24 * time.Hour, 2},  // 19,040 beyond the burst at 960/h: 19.8 h
		{12 * time.Hour, 4},  // 18,080 at 1,920/h: 9.4 h; 3 keys: 12.9 h
		{time.Hour, 21},      // 20,000 - 21×480 = 9,920 beyond the bursts, at 10,080/h: 59 min
		{time.Minute, 0},     // beyond 64 keys
		{100 * time.Hour, 1}, // one key: 40.7 h
	} {
		if got := tp.KeysFor(tc.limit); got != tc.keys {
			t.Errorf("KeysFor(%v) = %d, want %d", tc.limit, got, tc.keys)
		}
	}
	now := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	print := func(interval time.Duration) string {
		var b bytes.Buffer
		job.Plan{Tenants: []job.TenantPlan{tp}}.Print(&b, period.Window{From: now.Add(-24 * time.Hour), To: now},
			job.Schedule{Spec: "15 2 * * *", Interval: interval, Now: now})
		return b.String()
	}
	out := print(24 * time.Hour)
	eta := now.Add(tp.ETA()).Format(time.RFC3339)
	for _, want := range []string{"WARNING: that is longer than the schedule's interval (24h0m0s", "2 API keys would fit it", "--shard i/2", "it would end about " + eta} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if out := print(100 * time.Hour); strings.Contains(out, "WARNING") {
		t.Errorf("a plan within the schedule warns:\n%s", out)
	}
}

// A bucket's time is the longer of its requests one at a time (at its own
// latency, else the plan's floor) and what the rate limit allows beyond
// the burst; a tenant's is discovery's, then its slowest bucket's.
func TestPlanDurationModel(t *testing.T) {
	for _, tc := range []struct {
		name     string
		b        source.Bucket
		fallback time.Duration
		want     time.Duration
	}{
		{"within the burst: latency", source.Bucket{Requests: 100, PerHour: 480, Burst: 480, Latency: 10 * time.Millisecond}, time.Millisecond, time.Second},
		{"untimed: the floor", source.Bucket{Requests: 100, PerHour: 480, Burst: 480}, 2 * time.Millisecond, 200 * time.Millisecond},
		{"beyond the burst: the rate limit", source.Bucket{Requests: 1440, PerHour: 480, Burst: 480, Latency: time.Second}, 0, 2 * time.Hour},
		{"slow requests beyond the burst: latency", source.Bucket{Requests: 1440, PerHour: 480, Burst: 480, Latency: 10 * time.Second}, 0, 4 * time.Hour},
		{"no burst given: an hour's budget", source.Bucket{Requests: 960, PerHour: 480}, 0, time.Hour},
		{"no rate limit", source.Bucket{Requests: 50, Latency: 100 * time.Millisecond}, 0, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := job.Duration(tc.b, tc.fallback); got != tc.want {
				t.Errorf("Duration = %v, want %v", got, tc.want)
			}
		})
	}
	tp := job.TenantPlan{DiscoveryTime: 3 * time.Second, Latency: time.Millisecond, Buckets: []source.Bucket{
		{Name: "Reports · API key A", Requests: 1440, PerHour: 480, Burst: 480, Latency: 20 * time.Millisecond},
		{Name: "Reports · API key B", Requests: 960, PerHour: 480, Burst: 480, Latency: 20 * time.Millisecond},
		{Name: "AuditLogs", Requests: 10, PerHour: 480, Burst: 480},
	}}
	if got, want := tp.ETA(), 3*time.Second+2*time.Hour; got != want {
		t.Errorf("ETA = %v, want %v", got, want)
	}
	var b bytes.Buffer
	job.Plan{Tenants: []job.TenantPlan{tp}}.Print(&b, period.Window{}, job.Schedule{})
	for _, want := range []string{"discovery (3s)", "Reports 20ms, 1ms where none of a bucket's requests was timed"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, b.String())
		}
	}
}

// The writing after the last request: each framework's workbook and PDF
// once its last report is in and the one before it is written, then the
// pack's end, at the timed costs.
func TestPlanWritingModel(t *testing.T) {
	w := &job.WriteCost{FrameworkFixed: time.Second, PerReport: 10 * time.Millisecond, EndFixed: 2 * time.Second, EndPerReport: time.Millisecond}
	// 2,880 reports on one key: 480 at once, then 480 an hour; the last
	// report is in at 5 h.
	reports := source.Bucket{Name: "Reports", Requests: 2880, PerHour: 480, Burst: 480, Reports: true}
	tp := job.TenantPlan{DiscoveryTime: 3 * time.Second, Buckets: []source.Bucket{reports}, Frameworks: []int{1440, 0, 1440}, Writing: w}
	// The first framework's reports are in at 2 h and written by then (15.4
	// s); the second's at 5 h: 15.4 s, then the end: 2 s + 2.88 s.
	want := 5*time.Hour + time.Second + 14400*time.Millisecond + 2*time.Second + 2880*time.Millisecond
	if got := tp.Written(5 * time.Hour); got != want {
		t.Errorf("Written = %v, want %v", got, want)
	}
	if got := tp.ETA(); got != 3*time.Second+want {
		t.Errorf("ETA = %v, want %v", got, 3*time.Second+want)
	}
	// Without a rate limit the reports come faster than they are written:
	// the frameworks' writing queues up behind the first.
	fast := tp
	fast.Buckets = []source.Bucket{{Name: "Reports", Requests: 2880, Latency: time.Millisecond, Reports: true}}
	want = 1440*time.Millisecond + 2*(time.Second+14400*time.Millisecond) + 2*time.Second + 2880*time.Millisecond
	if got := fast.Written(2880 * time.Millisecond); got != want {
		t.Errorf("Written without a rate limit = %v, want %v", got, want)
	}
	var b bytes.Buffer
	job.Plan{Tenants: []job.TenantPlan{tp}}.Print(&b, period.Window{}, job.Schedule{})
	if !strings.Contains(b.String(), "its workbook and PDF: 1s + 10ms a report") {
		t.Errorf("plan does not say what the writing costs:\n%s", b.String())
	}
	tp.Writing = nil
	if got := tp.ETA(); got != 3*time.Second+5*time.Hour {
		t.Errorf("ETA without the writing timed = %v, want %v", got, 3*time.Second+5*time.Hour)
	}
}
