package job

import (
	"context"
	"sync"
)

// Prefetching: a unit's fetch waits for the rate limiter and the server,
// its processing (spooling, then the pack's files) for the CPU and the
// store. Done one after the other, the two add up, and a key's budget goes
// unused while its last report is written. The prefetcher runs the fetches
// ahead of the one consumer that takes their results, in the plan's order,
// so that the files are written exactly as if the units had been fetched
// one by one (the pack does not depend on which fetch ends first).
//
// Fetches are grouped by lane, the rate-limit budget their requests draw on
// (source.ReportUnit.Lane: an API key): at most perLane of a lane run at
// once, lanes side by side. perLane is 2: one request on the wire while the
// previous report is spooled. More would only queue in the HTTP layer, which
// sends one request of a bucket at a time per key (httpx.Limiter).
//
// What is fetched and not yet taken is bounded too: at most ahead results
// (in flight or waiting), so that the consumer, when slower, holds back the
// fetches instead of the disk filling with spooled reports. A result holds
// its data on disk (spooled), never in memory.
const (
	prefetchPerLane = 2
	prefetchAhead   = 4 // per lane
)

// prefetcher fetches items 0..n-1 ahead of Next, which returns them in
// order. Stop ends it; the results never taken are discarded.
type prefetcher[T any] struct {
	results []chan T // one per item, each sent at most once
	next    int
	window  chan struct{} // a slot per item dispatched and not yet taken
	stop    chan struct{}
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	discard func(T)
	stopped bool
}

// newPrefetcher starts fetching n items, item i on lane lane(i), at most
// perLane of a lane at once and at most ahead items dispatched and not yet
// taken by Next. fetch gets a context that Stop cancels; it must not block
// once that is done. discard releases a result Next never returned.
func newPrefetcher[T any](ctx context.Context, n int, lane func(int) string, perLane, ahead int, fetch func(context.Context, int) T, discard func(T)) *prefetcher[T] {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher[T]{results: make([]chan T, n), window: make(chan struct{}, max(ahead, 1)), stop: make(chan struct{}),
		cancel: cancel, discard: discard}
	queues := map[string]chan int{}
	var order []string
	for i := range n {
		p.results[i] = make(chan T, 1)
		if _, ok := queues[lane(i)]; !ok {
			// Never full: at most ahead items wait in all queues together.
			queues[lane(i)] = make(chan int, max(ahead, 1))
			order = append(order, lane(i))
		}
	}
	for _, l := range order {
		for range max(perLane, 1) {
			p.wg.Go(func() {
				for i := range queues[l] {
					p.results[i] <- fetch(ctx, i)
				}
			})
		}
	}
	// The feeder dispatches the items in order as the window lets it. It
	// stops only at Stop, not when ctx ends: fetches then fail at once, and
	// every item Next waits for is still dispatched.
	p.wg.Go(func() {
		defer func() {
			for _, q := range queues {
				close(q)
			}
		}()
		for i := range n {
			select {
			case p.window <- struct{}{}:
			case <-p.stop:
				return
			}
			queues[lane(i)] <- i
		}
	})
	return p
}

// Next waits for the next item's result; false when all were taken.
func (p *prefetcher[T]) Next() (T, bool) {
	if p.next >= len(p.results) || p.stopped {
		var zero T
		return zero, false
	}
	v := <-p.results[p.next]
	p.results[p.next] = nil
	p.next++
	<-p.window
	return v, true
}

// Stop cancels the fetches in flight, waits for them, and discards every
// result not taken. It is safe to call more than once.
func (p *prefetcher[T]) Stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	close(p.stop)
	p.cancel()
	p.wg.Wait()
	for _, c := range p.results[p.next:] {
		select {
		case v := <-c:
			p.discard(v)
		default: // never dispatched
		}
	}
}
