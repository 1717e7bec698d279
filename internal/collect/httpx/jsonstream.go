package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Helpers for reading a large response (a Spooled body) token by token,
// so only one record is held at a time.

// ExpectDelim reads the next token and checks it is want ('{', '[', '}' or ']').
func ExpectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// SkipValue consumes one JSON value of any kind. An array's elements and
// an object's members are skipped one at a time, each scanned whole by the
// decoder and dropped (discard), so at most one of them is held: the same
// bound as a record's, and a fraction of the work of reading them token by
// token (a string allocated for every key and value). A document that ends
// inside the value is io.ErrUnexpectedEOF.
func SkipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return eofInside(err)
	}
	open, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar, consumed
	}
	for dec.More() {
		if open == '{' {
			if _, err := dec.Token(); err != nil { // the member's name
				return eofInside(err)
			}
		}
		if err := dec.Decode(&discard{}); err != nil {
			return eofInside(err)
		}
	}
	_, err = dec.Token() // the closing delimiter
	return eofInside(err)
}

// eofInside reports a document that ends inside a value as
// io.ErrUnexpectedEOF.
func eofInside(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// discard is decoded into by checking the value's syntax and dropping it.
type discard struct{}

func (*discard) UnmarshalJSON([]byte) error { return nil }

// DefaultMaxValueBytes bounds what a streaming decoder may pull for one
// record (ValueBudget). Our choice: a record of the documented samples is a
// few KiB; the largest legitimate one, a report recommendation listing
// thousands of violating resources, stays under a few MiB. 32 MiB leaves
// ample room, and bounds the memory a single value (or padding between
// values, which json.Decoder keeps buffered) can take.
const DefaultMaxValueBytes = 32 << 20

// ValueBudget is a reader for a streaming json.Decoder that fails once the
// decoder has pulled more than max bytes since the last Reset: call Reset
// after each record (or key) is consumed. json.Decoder holds a whole value,
// and any whitespace before it, in memory until it is decoded; without a
// budget, one 3 GB string or 3 GB of spaces in a spooled body would be
// held whole. The decoder reads ahead, so up to twice max may be buffered.
type ValueBudget struct {
	r      io.Reader
	max, n int64
}

// NewValueBudget wraps r with a budget of max bytes per value.
func NewValueBudget(r io.Reader, max int64) *ValueBudget { return &ValueBudget{r: r, max: max} }

// Reset starts a new value's budget.
func (b *ValueBudget) Reset() { b.n = 0 }

func (b *ValueBudget) Read(p []byte) (int, error) {
	if b.n >= b.max {
		return 0, fmt.Errorf("%w: one value (or the padding before it) passes %d MiB", ErrTooLarge, b.max>>20)
	}
	if left := b.max - b.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}
