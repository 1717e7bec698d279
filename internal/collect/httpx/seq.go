package httpx

import "iter"

// Map returns seq with f applied to each value. The first error is passed
// on and ends the sequence, as a pager's iterator ends after one.
func Map[T, U any](seq iter.Seq2[T, error], f func(T) U) iter.Seq2[U, error] {
	return func(yield func(U, error) bool) {
		for v, err := range seq {
			if err != nil {
				yield(*new(U), err)
				return
			}
			if !yield(f(v), nil) {
				return
			}
		}
	}
}

// Fail returns an iterator that yields err once: a query refused before
// any request.
func Fail[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) { yield(*new(T), err) }
}
