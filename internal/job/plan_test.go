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
