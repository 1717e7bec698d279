package emulator

// Deterministic derivation of every generated value: a pure function of
// Config.Seed and a path of names and indices (environment, alert index,
// resource index). A key is an immutable node of that derivation tree; an
// rng is a splitmix64 stream started from a key. Nothing here is shared or
// mutable between requests.

const golden = 0x9e3779b97f4a7c15

// mix64 is the splitmix64 finaliser: a bijective, well-mixing 64-bit hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

type key uint64

func newKey(seed int64) key { return key(mix64(uint64(seed) ^ 0x6f707469782d6f70)) }

// str derives a child key from a string (FNV-1a, then mixed with the parent).
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

func (k key) rng() rng { return rng{s: uint64(k)} }

// rng is a splitmix64 stream; copy it to fork a stream.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// intn returns a value in [0, n); n must be > 0.
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

// digits returns n decimal digits, the first one non-zero.
func (r *rng) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d := r.intn(10)
		if i == 0 {
			d = 1 + r.intn(9)
		}
		b[i] = byte('0' + d)
	}
	return string(b)
}

// uuid returns a random-looking (version 4 layout) UUID string.
func (r *rng) uuid() string {
	h := []byte(r.hex(32))
	h[12] = '4'
	h[16] = "89ab"[r.intn(4)]
	s := string(h)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// pick returns one of xs.
func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }
