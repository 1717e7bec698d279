package parquet

import (
	"github.com/klauspost/compress/zstd"
	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/format"
)

// zstdCodec is parquet-go's zstd codec (compress/zstd, the same encoder
// settings, so the same bytes) with encoders that survive garbage
// collections. parquet-go keeps its encoders in a pool that every
// collection empties, and a new encoder costs more than compressing a
// page: under a tight memory limit, or the race detector, building them
// again was half the time of writing a small pack. Encoders are kept in
// a bounded channel instead (at most poolSize idle; each holds a few MiB).
type zstdCodec struct {
	idle chan *zstd.Encoder
}

const poolSize = 8

// codec is shared by every writer of the process, as parquet-go's own
// pq.Zstd is.
var codec = &zstdCodec{idle: make(chan *zstd.Encoder, poolSize)}

// Zstd is the codec of every file the writer makes, for a writer of the
// same files with parquet-go alone (internal/bench's floor).
var Zstd compress.Codec = codec

func (c *zstdCodec) String() string                            { return pq.Zstd.String() }
func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

// Encode compresses src into dst as parquet-go's codec does.
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	var e *zstd.Encoder
	select {
	case e = <-c.idle:
	default:
		var err error
		// parquet-go v0.32.0 compress/zstd: level default, one goroutine,
		// zero frames for empty input, no CRC.
		e, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return dst, err
		}
	}
	out := e.EncodeAll(src, dst[:0])
	select {
	case c.idle <- e:
	default: // enough idle encoders: let this one go
	}
	return out, nil
}

// Decode is parquet-go's: the writer never decodes.
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) { return pq.Zstd.Decode(dst, src) }
