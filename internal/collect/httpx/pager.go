package httpx

import (
	"context"
	"iter"
)

// Pager fetches one page per call. more is false after the last page. A
// Pager is used by one goroutine; it keeps at most one page in memory.
type Pager[T any] interface {
	NextPage(ctx context.Context) (rows []T, more bool, err error)
}

// All turns a Pager into an iterator of rows. Iteration stops at the first
// error, which is yielded once with the zero T.
func All[T any](ctx context.Context, p Pager[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			rows, more, err := p.NextPage(ctx)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
}
