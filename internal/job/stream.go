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

// untilErr yields seq's values up to its first error, which it keeps in
// *err. The two kinds of error of a unit part there: the source's (the
// API's) ends the unit early and fails only the unit, the rows before it
// kept; an error of writing the pack, which the streaming functions
// return, is fatal.
func untilErr[T any](seq iter.Seq2[T, error], err *error) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v, e := range seq {
			if e != nil {
				*err = e
				return
			}
			if !yield(v) {
				return
			}
		}
	}
}

// stream drains records into every sink in batches and returns how many
// rows it handed over. Each sink runs in its own goroutine, so the formats
// are written side by side while the next rows are decoded; a batch is
// never changed once handed over. The error is a sink's (writing the
// pack): then stream stops reading records.
func stream(records iter.Seq[dataset.Record], scope dataset.Scope, sinks ...writeRows) (n int64, err error) {
	fan := newFanout(sinks)
	batch := make([]dataset.Row, 0, batchRows)
	for v := range records {
		batch = append(batch, v.Row(scope))
		if len(batch) == cap(batch) {
			if fan.send(batch) != nil {
				return n, fan.close()
			}
			n += int64(len(batch))
			batch = make([]dataset.Row, 0, batchRows)
		}
	}
	if len(batch) > 0 {
		if fan.send(batch) != nil {
			return n, fan.close()
		}
		n += int64(len(batch))
	}
	return n, fan.close()
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
