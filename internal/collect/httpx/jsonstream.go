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

// SkipValue consumes one JSON value of any kind, holding at most one token
// at a time. A document that ends inside the value is io.ErrUnexpectedEOF.
func SkipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}
