package schedule

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"15 2 * * *", true}, {"@daily", true}, {"@every 6h", true}, {"0 0 1 * MON", true},
		{"* * * * * *", false}, {"tomorrow", false}, {"", false}, {"61 * * * *", false},
	} {
		if _, err := ParseSpec(tc.spec); (err == nil) != tc.ok {
			t.Errorf("ParseSpec(%q) = %v", tc.spec, err)
		}
	}
	// The time zone is honoured: 02:15 in Berlin is 01:15 UTC in winter.
	s, _ := ParseSpec("15 2 * * *")
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	next := s.Next(time.Date(2026, 11, 24, 0, 0, 0, 0, berlin))
	if got := next.UTC().Format("15:04"); got != "01:15" {
		t.Errorf("next run at %s UTC, want 01:15", got)
	}
}

// The scheduling tests run in a synctest bubble: cron's ticks, the jobs'
// work and the grace period pass on the bubble's fake clock, in no time.

func TestNoOverlap(t *testing.T) {
	synctest.Test(t, testNoOverlap)
}

func testNoOverlap(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var active, maxActive, runs atomic.Int64
	job := func(ctx context.Context) error {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			m := maxActive.Load()
			if n <= m || maxActive.CompareAndSwap(m, n) {
				break
			}
		}
		runs.Add(1)
		time.Sleep(2500 * time.Millisecond) // longer than the 1 s tick
		return nil
	}
	stats := &Stats{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{Spec: "@every 1s", Grace: 10 * time.Second}, job, stats) }()
	time.Sleep(5200 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("clean stop expected: %v", err)
	}
	if maxActive.Load() != 1 {
		t.Errorf("%d runs overlapped", maxActive.Load())
	}
	if stats.Skipped.Load() == 0 || stats.Started.Load() < 1 {
		t.Errorf("started %d, skipped %d", stats.Started.Load(), stats.Skipped.Load())
	}
}

func TestStopWaitsThenCancels(t *testing.T) {
	tests := []struct {
		name      string
		work      time.Duration
		grace     time.Duration
		wantErr   bool
		cancelled bool
	}{
		{"finishes within the grace period", 300 * time.Millisecond, 5 * time.Second, false, false},
		{"cancelled when the grace period ends", time.Hour, 500 * time.Millisecond, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				started := make(chan struct{})
				var sawCancel atomic.Bool
				job := func(ctx context.Context) error {
					close(started)
					select {
					case <-time.After(tc.work): // the job's work, on the bubble's clock
						return nil
					case <-ctx.Done():
						sawCancel.Store(true)
						return ctx.Err()
					}
				}
				done := make(chan error, 1)
				go func() { done <- Run(ctx, Options{Spec: "@every 1s", Grace: tc.grace}, job, nil) }()
				<-started
				t0 := time.Now()
				cancel() // SIGTERM
				err := <-done
				if (err != nil) != tc.wantErr || sawCancel.Load() != tc.cancelled {
					t.Fatalf("err %v, job cancelled %v", err, sawCancel.Load())
				}
				// The fake clock moves only when everything waits, so the
				// stop takes exactly the work or the grace period.
				if took, want := time.Since(t0), min(tc.work, tc.grace); took != want {
					t.Errorf("stop took %s, want %s (work %s, grace %s)", took, want, tc.work, tc.grace)
				}
			})
		})
	}
}
