package parquet

import (
	"bytes"
	"runtime"
	"testing"

	pq "github.com/parquet-go/parquet-go"
)

// The codec writes exactly parquet-go's bytes (packs stay byte-identical)
// and keeps its encoders through garbage collections.
func TestZstdCodec(t *testing.T) {
	for _, src := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte("evidence row 1234567890 "), 10000)} {
		want, err := pq.Zstd.Encode(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := codec.Encode(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes in: %d bytes out, parquet-go's codec gives %d", len(src), len(got), len(want))
		}
		back, err := codec.Decode(nil, got)
		if err != nil || !bytes.Equal(back, src) {
			t.Fatalf("round trip: %v", err)
		}
	}
	runtime.GC()
	runtime.GC()
	if len(codec.idle) == 0 {
		t.Error("no idle encoder after a collection: they are built again for every page")
	}
}

func BenchmarkZstdEncodeAfterGC(b *testing.B) {
	src := bytes.Repeat([]byte("evidence row 1234567890 "), 4000)
	for _, tc := range []struct {
		name string
		enc  func(dst, src []byte) ([]byte, error)
	}{{"parquet-go", pq.Zstd.Encode}, {"ours", codec.Encode}} {
		b.Run(tc.name, func(b *testing.B) {
			var dst []byte
			for b.Loop() {
				runtime.GC()
				dst, _ = tc.enc(dst, src)
			}
		})
	}
}
