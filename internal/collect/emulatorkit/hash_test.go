package emulatorkit

import (
	"fmt"
	"regexp"
	"testing"
)

// The emulators' salts, as their newKey functions use them.
const (
	saltLacework = 0x6c61636577726b21
	saltSophos   = 0x6f707469782d6f70
	saltIBMSCC   = 0x69626d2d73636321
	saltEdge     = 0x65646765656d7521
)

// TestDerivationIsStable pins derived values: the emulators' data (and the
// tests and benchmarks built on it) must not change when this code does.
// The values were taken from the emulators' own copies before they were
// moved here.
func TestDerivationIsStable(t *testing.T) {
	tests := []struct {
		salt     uint64
		seed     int64
		root, x  uint64 // NewKey, NewKey.Str("x")
		next     uint64 // first Next of root.Str("user").Num(3).Rng()
		intn     int    // then Intn(1000)
		hex      string // then Hex(20)
		uuid     string // then UUID()
		digits   string // then Digits(8)
		lacework bool
	}{
		{saltLacework, 0, 0xf85ad9fcb517872c, 0x22a4118a3489fdda, 0x87789f5406f19e31, 48, "a08fa1ac36eb07b37249", "e5c487f1-020d-4a76-a28e-490303ae8802", "53900941", true},
		{saltLacework, 42, 0xb047521b2113cf8c, 0xed86d408ae6b0da5, 0xf770897f3a3d3580, 30, "25a0ae41c20c51b16e36", "6bc7f5e7-604b-4f59-aabc-4abd8616cf30", "42312524", true},
		{saltSophos, 1, 0xdbe03119b71f83be, 0xb28a54b8ee117da3, 0x191332d5d3ee905f, 126, "94e5462e6e9e38f87002", "05579bb6-c0c8-46ed-bfb2-6d77dabdc118", "41261032", false},
		{saltSophos, -7, 0x327989bf8589fa14, 0x1504e4e7cf207a6, 0x4d8e314db7d68270, 488, "2a27de08a3c5cb29d6ae", "7bbe9922-f10e-406e-91ec-dbf1c0daa5cc", "86057926", false},
		{saltIBMSCC, 0, 0x83b10fd8b154a931, 0x762f2ce43edd85a7, 0x1cf50b2ae1f04712, 577, "6860659c3c587e8d85fa", "", "", false},
		{saltIBMSCC, 42, 0x1275fa5bcd2a3b5a, 0xc5321bdaaab77d1a, 0x612b47e751d710d, 891, "f97310efd9d0e7c2d2bd", "", "", false},
		{saltEdge, 1, 0x211b905e7b1b60a, 0x416bfddc616f279f, 0x35c60b09efc0ead4, 893, "dc5cbfe3abebf4b91af7", "0110e1de-3088-4da3-b932-7a3565bcb26c", "", false},
		{saltEdge, -7, 0x8f47e08effffe0f4, 0x2afe6e653a0cb4f3, 0x2908b925ed0746e0, 898, "ac133b929b6263e61932", "2b1f5f2e-4d4d-4808-997c-3b481b57d47d", "", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%x/%d", tc.salt, tc.seed), func(t *testing.T) {
			k := NewKey(tc.seed, tc.salt)
			if uint64(k) != tc.root || uint64(k.Str("x")) != tc.x {
				t.Fatalf("keys %#x %#x, want %#x %#x", uint64(k), uint64(k.Str("x")), tc.root, tc.x)
			}
			r := k.Str("user").Num(3).Rng()
			if got := r.Next(); got != tc.next {
				t.Fatalf("Next %#x, want %#x", got, tc.next)
			}
			if got := r.Intn(1000); got != tc.intn {
				t.Fatalf("Intn %d, want %d", got, tc.intn)
			}
			if got := r.Hex(20); got != tc.hex {
				t.Fatalf("Hex %q, want %q", got, tc.hex)
			}
			if tc.uuid == "" {
				return
			}
			if got := r.UUID(); got != tc.uuid {
				t.Fatalf("UUID %q, want %q", got, tc.uuid)
			}
			if tc.digits == "" {
				return
			}
			if got := r.Digits(8); got != tc.digits {
				t.Fatalf("Digits %q, want %q", got, tc.digits)
			}
		})
	}
}

func TestModAndPick(t *testing.T) {
	k := NewKey(5, saltIBMSCC).Str("ctl-count").Num(2).Num(9)
	for _, tc := range []struct{ m, want int }{{3, 2}, {99, 44}, {1000, 769}, {1, 0}} {
		if got := k.Mod(tc.m); got != tc.want {
			t.Errorf("Mod(%d) = %d, want %d", tc.m, got, tc.want)
		}
	}
	r := k.Rng()
	if got := Pick(&r, []string{"a", "b", "c", "d", "e"}); got != "b" {
		t.Errorf("Pick strings = %q", got)
	}
	if got := Pick(&r, []int{1, 2, 3}); got != 2 {
		t.Errorf("Pick ints = %d", got)
	}
}

func TestRngShapes(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tests := []struct {
		name string
		gen  func(r *Rng) string
		re   *regexp.Regexp
	}{
		{"hex 0", func(r *Rng) string { return r.Hex(0) }, regexp.MustCompile(`^$`)},
		{"hex 40", func(r *Rng) string { return r.Hex(40) }, regexp.MustCompile(`^[0-9a-f]{40}$`)},
		{"digits 1", func(r *Rng) string { return r.Digits(1) }, regexp.MustCompile(`^[1-9]$`)},
		{"digits 19", func(r *Rng) string { return r.Digits(19) }, regexp.MustCompile(`^[1-9][0-9]{18}$`)},
		{"uuid", func(r *Rng) string { return r.UUID() }, uuid},
		{"intn", func(r *Rng) string { return fmt.Sprint(r.Intn(7)) }, regexp.MustCompile(`^[0-6]$`)},
		{"int63n", func(r *Rng) string { return fmt.Sprint(r.Int63n(1 << 40)) }, regexp.MustCompile(`^[0-9]{1,13}$`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range int64(200) {
				r := NewKey(i, 1).Rng()
				fork := r // copying forks the stream
				a, b := tc.gen(&r), tc.gen(&fork)
				if a != b {
					t.Fatalf("seed %d: a fork gave %q then %q", i, a, b)
				}
				if !tc.re.MatchString(a) {
					t.Fatalf("seed %d: %q does not match %s", i, a, tc.re)
				}
			}
		})
	}
}

func TestFork(t *testing.T) {
	r := NewKey(3, saltLacework).Str("report").Rng()
	r.Next()
	tests := []struct {
		v    uint64
		same bool // as a plain copy of r
	}{{0, true}, {1, false}, {1_763_600_000_000, false}}
	for _, tc := range tests {
		plain, fork := r, r.Fork(tc.v)
		// The state, not only the next value, is XORed with v.
		want := plain.s ^ tc.v
		if fork.s != want {
			t.Errorf("Fork(%d): state %#x, want %#x", tc.v, fork.s, want)
		}
		if a, b := plain.Next(), fork.Next(); (a == b) != tc.same {
			t.Errorf("Fork(%d): next %#x, copy's %#x", tc.v, b, a)
		}
	}
	before := r
	_ = r.Fork(7)
	if r != before {
		t.Error("Fork changed its receiver")
	}
}

func TestKeysSeparate(t *testing.T) {
	root := NewKey(1, saltEdge)
	seen := map[Key]string{}
	for name, k := range map[string]Key{
		"root": root, "other salt": NewKey(1, saltSophos), "other seed": NewKey(2, saltEdge),
		"str a": root.Str("a"), "str b": root.Str("b"), "str empty": root.Str(""),
		"num 0": root.Num(0), "num 1": root.Num(1), "num -1": root.Num(-1),
		"a then 1": root.Str("a").Num(1), "1 then a": root.Num(1).Str("a"),
	} {
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s derive the same key", name, other)
		}
		seen[k] = name
	}
}
