package periodreport

import "math/rand/v2"

// SampleMethod says, in the report, how the sample is drawn: enough for
// anyone to draw it again, with this program or without it.
const SampleMethod = `The days with a pack are listed in date order (index 0 = the earliest),
D of them. A PCG generator is seeded with the seed S: Go's math/rand/v2
NewPCG(S, 0), a 128-bit state with high half S and low half 0. Each draw
sets state = state * 0x2360ed051fc65da44385df649fccf645
+ 0x5851f42d4c957f2d14057b7ef767814f (mod 2^128), then outputs, from the
new state's halves hi and lo (DXSM): hi ^= hi >> 32; hi *= 0xda942042e4dd58b5;
hi ^= hi >> 48; hi *= lo | 1 (all mod 2^64). Then a partial Fisher-Yates
shuffle: for i = 0 .. N-1, with m = D - i, draw u until u >= (2^64 - m) mod m,
take j = i + (u mod m) and swap positions i and j. The first N positions, in
that order, are the sample (N = D when fewer days have a pack than asked).`

// SampleCode is the same draw in Go, for the report.
const SampleCode = `  src := rand.NewPCG(S, 0) // math/rand/v2
  for i := 0; i < N; i++ {
      m := uint64(len(days) - i)
      u := src.Uint64()
      for u < -m%m { u = src.Uint64() }
      j := i + int(u%m)
      days[i], days[j] = days[j], days[i]
  }
  sample := days[:N]`

// Sample draws n of items (n capped at their number) with seed, by
// SampleMethod, and returns them in draw order. items is not modified.
func Sample[T any](items []T, n int, seed uint64) []T {
	xs := append([]T(nil), items...)
	n = min(n, len(xs))
	src := rand.NewPCG(seed, 0)
	for i := range n {
		m := uint64(len(xs) - i)
		u := src.Uint64()
		for u < -m%m { // (2^64 - m) mod m: the draws that would bias u mod m
			u = src.Uint64()
		}
		j := i + int(u%m)
		xs[i], xs[j] = xs[j], xs[i]
	}
	return xs[:n]
}
