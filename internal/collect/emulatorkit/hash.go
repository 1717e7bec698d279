package emulatorkit

// Deterministic derivation of generated values.
//
// Every value an emulator generates is a pure function of its seed and a
// path of names and indices (sub-account, dataset, row index, ...). A Key is
// an immutable 64-bit node of that derivation tree; an Rng is a small
// splitmix64 stream started from a Key. Nothing here is shared or mutable
// between requests.

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

// Key is a node of the derivation tree.
type Key uint64

// NewKey returns the root key of seed. salt separates the emulators: the
// same seed gives every emulator its own, unrelated data.
func NewKey(seed int64, salt uint64) Key { return Key(mix64(uint64(seed) ^ salt)) }

// Str derives a child key from a string (FNV-1a, then mixed with the parent).
func (k Key) Str(s string) Key {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return Key(mix64(uint64(k) ^ mix64(h+golden)))
}

// Num derives a child key from an integer.
func (k Key) Num(v int64) Key { return Key(mix64(uint64(k) ^ mix64(uint64(v)+golden))) }

// Mod returns the key modulo m, a value in [0, m); m must be > 0.
func (k Key) Mod(m int) int { return int(uint64(k) % uint64(m)) }

// Rng starts a deterministic stream at k.
func (k Key) Rng() Rng { return Rng{s: uint64(k)} }

// Rng is a splitmix64 stream. It is a value type: copy it to fork a stream.
type Rng struct{ s uint64 }

// Fork returns a copy of the stream with v mixed into its state: a stream
// that depends on v as well as on r's position. Fork(0) is a plain copy.
func (r Rng) Fork(v uint64) Rng {
	r.s ^= v
	return r
}

// Next returns the stream's next 64 bits.
func (r *Rng) Next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// Intn returns a value in [0, n); n must be > 0.
func (r *Rng) Intn(n int) int { return int(r.Next() % uint64(n)) }

// Int63n returns a value in [0, n); n must be > 0.
func (r *Rng) Int63n(n int64) int64 { return int64(r.Next() % uint64(n)) }

const hexDigits = "0123456789abcdef"

// Hex returns n lower-case hex digits.
func (r *Rng) Hex(n int) string {
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%16 == 0 {
			v = r.Next()
		}
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// Digits returns n decimal digits, the first one non-zero.
func (r *Rng) Digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d := r.Intn(10)
		if i == 0 {
			d = 1 + r.Intn(9)
		}
		b[i] = byte('0' + d)
	}
	return string(b)
}

// UUID returns a random-looking UUID string (version 4 layout).
func (r *Rng) UUID() string {
	h := []byte(r.Hex(32))
	h[12] = '4'
	h[16] = "89ab"[r.Intn(4)]
	s := string(h)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// Pick returns one of xs, drawn from r; xs must not be empty.
func Pick[T any](r *Rng, xs []T) T { return xs[r.Intn(len(xs))] }
