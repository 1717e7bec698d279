package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrDecode marks a response that is not the JSON shape its API documents.
var ErrDecode = errors.New("decode response")

// Envelope describes a list response: one JSON object holding the records
// in an array under List, next to keys about the list (paging, counts).
// DecodeEnvelope reads it from a spooled body one record at a time, so a
// page costs one record of memory, whatever its size.
type Envelope struct {
	// List is the key of the records' array; null reads as an empty list.
	List string
	// Meta decodes other keys into the pointers given. Keys neither here
	// nor List are skipped token by token, never held.
	Meta map[string]any
	// Ready, when set, runs once after every Meta key the object holds has
	// been decoded and before the first record: a pager checks announced
	// totals there. An object whose list comes before a Meta key is read
	// twice (the list is skipped on the first pass, counting its records),
	// so a record is never passed on before Ready. listed is that count, or
	// -1 when the list was not read yet. An error from Ready ends the
	// decoding with that error, unwrapped.
	Ready func(listed int) error
	// Record decodes one record (dec.Decode(&v)); false stops the decoding.
	Record func(dec *json.Decoder) (bool, error)
	// MaxValueBytes bounds each key and record (ValueBudget); 0 is
	// DefaultMaxValueBytes.
	MaxValueBytes int64
}

// maxValue is the budget of each key and record.
func (e Envelope) maxValue() int64 {
	if e.MaxValueBytes > 0 {
		return e.MaxValueBytes
	}
	return DefaultMaxValueBytes
}

// Decoded is what DecodeEnvelope found.
type Decoded struct {
	List    bool // the List key held an array (not null, not missing)
	Records int  // records passed to Record
	Stopped bool // Record returned false
}

// errStop ends a scan when Record asks to stop.
var errStop = errors.New("stop")

// DecodeEnvelope reads one envelope from r (a spooled body, positioned at
// its start). Each key and each record is held against a ValueBudget of
// e.MaxValueBytes. A repeated List or Meta key, a value of the wrong
// type, or anything after the object is an ErrDecode error.
func DecodeEnvelope(r io.ReadSeeker, e Envelope) (Decoded, error) {
	var d Decoded
	seen := map[string]bool{}
	ready, deferred, listed := false, false, -1
	runReady := func() error {
		if ready || e.Ready == nil {
			ready = true
			return nil
		}
		ready = true
		return e.Ready(listed)
	}
	metaDone := func() bool {
		for k := range e.Meta {
			if !seen[k] {
				return false
			}
		}
		return true
	}
	err := scanObject(r, e.maxValue(), func(name string, dec *json.Decoder, budget *ValueBudget) error {
		ptr, isMeta := e.Meta[name]
		if name != e.List && !isMeta {
			return SkipValue(dec)
		}
		if seen[name] {
			return fmt.Errorf("key %q appears twice", name)
		}
		seen[name] = true
		if isMeta {
			return dec.Decode(ptr)
		}
		if e.Ready != nil && !metaDone() {
			deferred = true
			var err error
			listed, err = countList(dec, budget)
			return err
		}
		if err := runReady(); err != nil {
			return &passError{err}
		}
		return readList(dec, budget, e, &d)
	})
	if err == nil {
		err = runReady()
	}
	if err == nil && deferred {
		if _, err = r.Seek(0, io.SeekStart); err == nil {
			err = scanObject(r, e.maxValue(), func(name string, dec *json.Decoder, budget *ValueBudget) error {
				if name != e.List {
					return SkipValue(dec)
				}
				return readList(dec, budget, e, &d)
			})
		}
	}
	if errors.Is(err, errStop) {
		d.Stopped, err = true, nil
	}
	return d, err
}

// scanObject calls key for each key of the one JSON object in r, with the
// decoder positioned at its value; key must consume the value.
func scanObject(r io.Reader, maxValue int64, key func(name string, dec *json.Decoder, budget *ValueBudget) error) error {
	budget := NewValueBudget(r, maxValue)
	dec := json.NewDecoder(budget)
	if err := ExpectDelim(dec, '{'); err != nil {
		return fmt.Errorf("%w: the response is not a JSON object: %w", ErrDecode, err)
	}
	// The budget restarts before More, which reads any padding ahead.
	for budget.Reset(); dec.More(); budget.Reset() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrDecode, err)
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%w: unexpected %v where a key was expected", ErrDecode, tok)
		}
		if err := key(name, dec, budget); err != nil {
			if pe, ok := err.(*passError); ok {
				return pe.err
			}
			if errors.Is(err, errStop) || errors.Is(err, ErrDecode) {
				return err
			}
			return fmt.Errorf("%w: %q: %w", ErrDecode, name, err)
		}
	}
	if err := ExpectDelim(dec, '}'); err != nil {
		return fmt.Errorf("%w: %w", ErrDecode, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: unexpected data after the JSON object", ErrDecode)
	}
	return nil
}

// passError carries an error of Ready through scanObject as it is.
type passError struct{ err error }

func (e *passError) Error() string { return e.err.Error() }

// countList skips the array at dec (or null), counting its elements.
func countList(dec *json.Decoder, budget *ValueBudget) (int, error) {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return 0, err
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '[' {
		return 0, fmt.Errorf("not an array")
	}
	n := 0
	for budget.Reset(); dec.More(); budget.Reset() {
		if err := SkipValue(dec); err != nil {
			return n, err
		}
		n++
	}
	_, err = dec.Token()
	return n, err
}

// readList passes each record of the array at dec to e.Record.
func readList(dec *json.Decoder, budget *ValueBudget, e Envelope, d *Decoded) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '[' {
		return fmt.Errorf("not an array")
	}
	d.List = true
	for i := 0; ; i++ {
		budget.Reset()
		if !dec.More() {
			break
		}
		more, err := e.Record(dec)
		if err != nil {
			return fmt.Errorf("%w: %s[%d]: %w", ErrDecode, e.List, i, err)
		}
		d.Records++
		if !more {
			return errStop
		}
	}
	_, err = dec.Token()
	return err
}
