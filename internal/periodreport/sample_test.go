package periodreport

import (
	"math/big"
	"slices"
	"testing"
)

// specSample draws the sample as SampleMethod describes it, in 128-bit
// arithmetic with math/big rather than through math/rand/v2: the method
// printed in the report is enough to draw the same days.
func specSample(n int, items []int, seed uint64) []int {
	mod128 := new(big.Int).Lsh(big.NewInt(1), 128)
	mod64 := new(big.Int).Lsh(big.NewInt(1), 64)
	hex := func(s string) *big.Int { v, _ := new(big.Int).SetString(s, 16); return v }
	mul, inc := hex("2360ed051fc65da44385df649fccf645"), hex("5851f42d4c957f2d14057b7ef767814f")
	state := new(big.Int).Lsh(new(big.Int).SetUint64(seed), 64)
	next := func() uint64 {
		state.Mul(state, mul).Add(state, inc).Mod(state, mod128)
		hi := new(big.Int).Rsh(state, 64).Uint64()
		lo := new(big.Int).Mod(state, mod64).Uint64()
		hi ^= hi >> 32
		hi *= 0xda942042e4dd58b5
		hi ^= hi >> 48
		hi *= lo | 1
		return hi
	}
	xs := slices.Clone(items)
	n = min(n, len(xs))
	for i := range n {
		m := uint64(len(xs) - i)
		threshold := new(big.Int).Mod(new(big.Int).Sub(mod64, new(big.Int).SetUint64(m)), new(big.Int).SetUint64(m)).Uint64()
		u := next()
		for u < threshold {
			u = next()
		}
		j := i + int(u%m)
		xs[i], xs[j] = xs[j], xs[i]
	}
	return xs[:n]
}

func TestSample(t *testing.T) {
	days := make([]int, 30)
	for i := range days {
		days[i] = i
	}
	for _, tc := range []struct {
		name  string
		items []int
		n     int
		seed  uint64
	}{
		{"a few of a month", days, 5, 42},
		{"another seed", days, 5, 43},
		{"seed zero", days, 5, 0},
		{"the largest seed", days, 7, ^uint64(0)},
		{"all of them", days, 30, 9},
		{"more than there are", days[:4], 10, 9},
		{"none", days, 0, 9},
		{"one day", days[:1], 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Sample(tc.items, tc.n, tc.seed)
			if want := specSample(tc.n, tc.items, tc.seed); !slices.Equal(got, want) {
				t.Fatalf("Sample = %v; the printed method draws %v", got, want)
			}
			if again := Sample(tc.items, tc.n, tc.seed); !slices.Equal(got, again) {
				t.Errorf("the same seed drew %v, then %v", got, again)
			}
			if len(got) != min(tc.n, len(tc.items)) {
				t.Errorf("%d drawn of %d asked, %d there", len(got), tc.n, len(tc.items))
			}
			seen := map[int]bool{}
			for _, x := range got {
				if seen[x] || !slices.Contains(tc.items, x) {
					t.Errorf("drew %d twice, or one not offered: %v", x, got)
				}
				seen[x] = true
			}
		})
	}
	if a, b := Sample(days, 5, 42), Sample(days, 5, 43); slices.Equal(a, b) {
		t.Errorf("seeds 42 and 43 drew the same days %v", a)
	}
}
