package job

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The prefetcher returns the items in order however their fetches end,
// runs at most perLane fetches of a lane at once (and that many, when the
// consumer is slow to take them), lanes side by side, holds at most ahead
// items fetched and not yet taken, and so overlaps the fetches with the
// consumer's work: the run takes the consumer's time, not the sum.
func TestPrefetcherOrderAndBounds(t *testing.T) {
	type lanes struct {
		name  string
		lane  func(i int) string
		fetch func(i int) time.Duration // how long item i's fetch takes
	}
	for _, tc := range []lanes{
		{"one lane", func(int) string { return "" }, func(i int) time.Duration { return time.Duration(1+i%3) * 10 * time.Millisecond }},
		{"two lanes round robin", func(i int) string { return []string{"a", "b"}[i%2] }, func(i int) time.Duration { return time.Duration(1+i%5) * 5 * time.Millisecond }},
		{"lanes in runs", func(i int) string { return []string{"a", "b", "c"}[i/7%3] }, func(i int) time.Duration { return 10 * time.Millisecond }},
		{"later items finish first", func(i int) string { return []string{"a", "b", "c", "d"}[i%4] }, func(i int) time.Duration { return time.Duration(40-i) * time.Millisecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n, perLane, ahead, work = 40, 2, 8, 5 * time.Millisecond
				var mu sync.Mutex
				inFlight, peak := map[string]int{}, map[string]int{}
				started, taken, held := 0, 0, 0
				fetch := func(ctx context.Context, i int) int {
					mu.Lock()
					l := tc.lane(i)
					inFlight[l]++
					peak[l] = max(peak[l], inFlight[l])
					started++
					held = max(held, started-taken)
					mu.Unlock()
					time.Sleep(tc.fetch(i)) // the bubble's clock
					mu.Lock()
					inFlight[l]--
					mu.Unlock()
					return i
				}
				start := time.Now()
				p := newPrefetcher(t.Context(), n, tc.lane, perLane, ahead, fetch, func(int) { t.Error("a result discarded") })
				for want := range n {
					got, ok := p.Next()
					if !ok || got != want {
						t.Fatalf("Next = %d, %v; want %d", got, ok, want)
					}
					mu.Lock()
					taken++
					mu.Unlock()
					time.Sleep(work) // writing the item
				}
				if _, ok := p.Next(); ok {
					t.Error("Next after the last item")
				}
				p.Stop()
				elapsed := time.Since(start)
				for l, k := range peak {
					if k > perLane {
						t.Errorf("lane %q: %d fetches at once, want at most %d", l, k, perLane)
					}
				}
				if held > ahead {
					t.Errorf("%d items fetched and not taken, want at most %d", held, ahead)
				}
				var serial time.Duration
				for i := range n {
					serial += tc.fetch(i) + work
				}
				t.Logf("%s: %v (one by one: %v)", tc.name, elapsed, serial)
				if elapsed > serial*3/4 {
					t.Errorf("took %v, one by one %v: the fetches did not overlap the work", elapsed, serial)
				}
			})
		})
	}
}

// A lane's fetches run perLane at once when the consumer keeps up.
func TestPrefetcherFillsLanes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		inFlight, peak := map[string]int{}, map[string]int{}
		lane := func(i int) string { return []string{"a", "b"}[i%2] }
		p := newPrefetcher(t.Context(), 20, lane, 2, 8, func(ctx context.Context, i int) int {
			mu.Lock()
			inFlight[lane(i)]++
			peak[lane(i)] = max(peak[lane(i)], inFlight[lane(i)])
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
			mu.Lock()
			inFlight[lane(i)]--
			mu.Unlock()
			return i
		}, func(int) {})
		defer p.Stop()
		for range 20 {
			p.Next()
		}
		if peak["a"] != 2 || peak["b"] != 2 {
			t.Errorf("peak fetches per lane %v, want 2 each", peak)
		}
	})
}

// Stop cancels the fetches in flight and discards, once each, the results
// the consumer did not take; a cancelled parent still yields every item
// (their fetches fail at once), so the consumer never waits forever.
func TestPrefetcherStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		discarded := map[int]int{}
		fetched := map[int]bool{}
		p := newPrefetcher(t.Context(), 30, func(i int) string { return []string{"a", "b", "c"}[i%3] }, 2, 12,
			func(ctx context.Context, i int) int {
				mu.Lock()
				fetched[i] = true
				mu.Unlock()
				if i >= 5 {
					<-ctx.Done() // a request that only the cancel ends
				}
				return i
			}, func(i int) { mu.Lock(); discarded[i]++; mu.Unlock() })
		for want := range 3 {
			if got, ok := p.Next(); !ok || got != want {
				t.Fatalf("Next = %d, %v; want %d", got, ok, want)
			}
		}
		p.Stop()
		p.Stop()
		if _, ok := p.Next(); ok {
			t.Error("Next after Stop")
		}
		for i := range fetched {
			want := 1
			if i < 3 {
				want = 0
			}
			if discarded[i] != want {
				t.Errorf("item %d discarded %d times, want %d", i, discarded[i], want)
			}
		}
		for i := range discarded {
			if !fetched[i] {
				t.Errorf("item %d discarded, never fetched", i)
			}
		}
		if len(fetched) > 3+12 {
			t.Errorf("%d items fetched, beyond the window", len(fetched))
		}

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		pe := newPrefetcher(ctx, 10, func(int) string { return "" }, 2, 4, func(ctx context.Context, i int) error {
			<-ctx.Done()
			return ctx.Err()
		}, func(error) {})
		defer pe.Stop()
		for range 10 {
			if err, ok := pe.Next(); !ok || err == nil {
				t.Fatalf("Next = %v, %v; want the context's error", err, ok)
			}
		}
	})
}
