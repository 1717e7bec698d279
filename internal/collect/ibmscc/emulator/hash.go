package emulator

// Deterministic derivation of every generated value: a key is a node of a
// tree of names and indices (zone, policy, requirement, control, row), and
// every value is a pure function of the seed and a key. Nothing is stored.

const golden = 0x9e3779b97f4a7c15

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

type key uint64

func newKey(seed int64) key { return key(mix64(uint64(seed) ^ 0x69626d2d73636321)) }

// str derives a child key from a string (FNV-1a, mixed with the parent).
func (k key) str(s string) key {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return key(mix64(uint64(k) ^ mix64(h+golden)))
}

// num derives a child key from an integer.
func (k key) num(v int64) key { return key(mix64(uint64(k) ^ mix64(uint64(v)+golden))) }

// n returns a value in [0, m); m must be > 0.
func (k key) n(m int) int { return int(uint64(k) % uint64(m)) }

// rng starts a stream at k.
func (k key) rng() rng { return rng{s: uint64(k)} }

// rng is a splitmix64 stream; copy it to fork.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

const hexDigits = "0123456789abcdef"

// hex returns n lower-case hex digits.
func (r *rng) hex(n int) string {
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%16 == 0 {
			v = r.next()
		}
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b)
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }
