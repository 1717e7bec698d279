package job

import (
	"cmp"
	"iter"
	"sync"

	"github.com/evidence-pack/evidence/internal/dataset"
)

// The streaming engine: a unit's records go, in batches, to every file that
// holds them (its sheet and its Parquet file), each written in its own
// goroutine while the next rows are decoded.

const batchRows = 1000

type writeRows func([]dataset.Row) error

// stream drains seq into every sink in batches. Each sink runs in its own
// goroutine, so the formats are written side by side while the next rows
// are decoded; a batch is never changed once handed over. An error from seq
// (the API) ends the unit early and comes back as apiErr: the rows before
// it are kept, and the unit is recorded as failed. An error from a sink
// (writing the pack) is fatal and comes back as sinkErr.
func stream(seq iter.Seq2[dataset.Record, error], scope dataset.Scope, sinks ...writeRows) (n int64, apiErr, sinkErr error) {
	fan := newFanout(sinks)
	batch := make([]dataset.Row, 0, batchRows)
	for v, err := range seq {
		if err != nil {
			apiErr = err
			break
		}
		batch = append(batch, v.Row(scope))
		if len(batch) == cap(batch) {
			if fan.send(batch) != nil {
				return n, nil, fan.close()
			}
			n += int64(len(batch))
			batch = make([]dataset.Row, 0, batchRows)
		}
	}
	if len(batch) > 0 {
		if fan.send(batch) != nil {
			return n, apiErr, fan.close()
		}
		n += int64(len(batch))
	}
	return n, apiErr, fan.close()
}

// fanout hands batches to sinks that each write in their own goroutine.
type fanout struct {
	chans []chan []dataset.Row
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func newFanout(sinks []writeRows) *fanout {
	f := &fanout{}
	for _, w := range sinks {
		ch := make(chan []dataset.Row, 4)
		f.chans = append(f.chans, ch)
		f.wg.Go(func() {
			for b := range ch {
				if f.failed() != nil {
					continue // drain: the run is failing
				}
				if err := w(b); err != nil {
					f.mu.Lock()
					f.err = cmp.Or(f.err, err)
					f.mu.Unlock()
				}
			}
		})
	}
	return f
}

func (f *fanout) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// send queues a batch for every sink; it returns a sink's earlier error.
func (f *fanout) send(b []dataset.Row) error {
	if err := f.failed(); err != nil {
		return err
	}
	for _, ch := range f.chans {
		ch <- b
	}
	return nil
}

// close waits for the sinks to write what they were given.
func (f *fanout) close() error {
	for _, ch := range f.chans {
		close(ch)
	}
	f.wg.Wait()
	return f.failed()
}
