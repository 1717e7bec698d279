package httpx

import (
	"testing"
	"time"
)

// A bucket's latency is the median of its requests' times: one slow first
// request does not make every request of the kind look slow; at most
// latencySamples are kept.
func TestStatsLatency(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		obs  []time.Duration
		want time.Duration
		n    int
	}{
		{"none", nil, 0, 0},
		{"one", []time.Duration{7 * ms}, 7 * ms, 1},
		{"a slow first", []time.Duration{90 * ms, 10 * ms, 12 * ms}, 12 * ms, 3},
		{"even count", []time.Duration{10 * ms, 20 * ms, 30 * ms, 400 * ms}, 25 * ms, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Stats
			for _, d := range tc.obs {
				s.observe("/api/v2/Reports", d)
			}
			s.observe("/api/v2/CloudAccounts", time.Second) // another bucket's
			if got, n := s.Latency("/api/v2/Reports"); got != tc.want || n != tc.n {
				t.Errorf("Latency = %v of %d, want %v of %d", got, n, tc.want, tc.n)
			}
			if got := s.Latencies()["/api/v2/CloudAccounts"]; got != time.Second {
				t.Errorf("Latencies: CloudAccounts %v", got)
			}
		})
	}
	var s Stats
	for i := range 2 * latencySamples {
		s.observe("b", time.Duration(i))
	}
	if _, n := s.Latency("b"); n != latencySamples {
		t.Errorf("%d samples kept, want %d", n, latencySamples)
	}
}
