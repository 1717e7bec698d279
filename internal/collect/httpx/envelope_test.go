package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDecodeEnvelope(t *testing.T) {
	errCap := errors.New("at the cap")
	tests := []struct {
		name    string
		in      string
		stopAt  int // Record returns false at this record (1-based); 0 never
		readyFn func(total int) error
		want    []int
		total   int
		d       Decoded
		listed  int // what Ready was told
		err     string
		is      error
	}{
		{name: "meta first", in: `{"paging":{"total":2},"data":[1,2]}`, want: []int{1, 2}, total: 2, d: Decoded{List: true, Records: 2}, listed: -1},
		{name: "meta after the list", in: `{"data":[1,2],"other":[[1],{"a":2}],"paging":{"total":2}}`, want: []int{1, 2}, total: 2, d: Decoded{List: true, Records: 2}, listed: 2},
		{name: "no meta", in: `{"data":[3]}`, want: []int{3}, d: Decoded{List: true, Records: 1}, listed: 1},
		{name: "null list", in: `{"data":null,"paging":{"total":0}}`, d: Decoded{}},
		{name: "no list", in: `{"paging":{"total":0}}`, d: Decoded{}, listed: -1},
		{name: "stop", in: `{"paging":{"total":3},"data":[1,2,3]}`, stopAt: 2, want: []int{1, 2}, total: 3, d: Decoded{List: true, Records: 2, Stopped: true}, listed: -1},
		{name: "ready refuses before any record", in: `{"data":[1,2],"paging":{"total":9}}`, total: 9,
			readyFn: func(total int) error {
				if total > 5 {
					return errCap
				}
				return nil
			}, err: "at the cap", is: errCap, d: Decoded{List: true}},
		{name: "list twice", in: `{"data":[1],"data":[2]}`, err: `key "data" appears twice`, is: ErrDecode},
		{name: "meta twice", in: `{"paging":{"total":1},"paging":{"total":1},"data":[]}`, total: 1, err: `key "paging" appears twice`, is: ErrDecode},
		{name: "bad record", in: `{"data":[1,"x"]}`, want: []int{1}, err: "data[1]", is: ErrDecode},
		{name: "list not an array", in: `{"data":{}}`, err: "not an array", is: ErrDecode},
		{name: "not an object", in: `[1]`, err: "not a JSON object", is: ErrDecode},
		{name: "trailing data", in: `{"data":[]} {}`, err: "after the JSON object", is: ErrDecode},
		{name: "truncated", in: `{"paging":{"total":2},"data":[1,`, want: []int{1}, is: ErrDecode},
		{name: "truncated, list first", in: `{"data":[1,`, is: ErrDecode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			var paging struct {
				Total int `json:"total"`
			}
			readyCalls, gotListed := 0, 0
			e := Envelope{
				List: "data",
				Meta: map[string]any{"paging": &paging},
				Ready: func(listed int) error {
					readyCalls++
					gotListed = listed
					if len(got) > 0 {
						t.Errorf("Ready ran after %d records", len(got))
					}
					if tc.readyFn != nil {
						return tc.readyFn(paging.Total)
					}
					return nil
				},
				Record: func(dec *json.Decoder) (bool, error) {
					var v int
					if err := dec.Decode(&v); err != nil {
						return false, err
					}
					got = append(got, v)
					return tc.stopAt == 0 || len(got) < tc.stopAt, nil
				},
			}
			d, err := DecodeEnvelope(strings.NewReader(tc.in), e)
			if tc.err != "" || tc.is != nil {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, tc.is) {
					t.Fatalf("err = %v, want %q (%v)", err, tc.err, tc.is)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && !equalInts(got, tc.want)) {
				t.Errorf("records = %v, want %v", got, tc.want)
			}
			if err == nil && (d != tc.d || paging.Total != tc.total) {
				t.Errorf("decoded = %+v total %d, want %+v total %d", d, paging.Total, tc.d, tc.total)
			}
			if err == nil && readyCalls != 1 {
				t.Errorf("Ready ran %d times", readyCalls)
			}
			if err == nil && gotListed != tc.listed {
				t.Errorf("Ready was told %d records listed, want %d", gotListed, tc.listed)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDecodeEnvelopeHeldMemory: a huge value next to the list, or a huge
// record, fails at the value budget instead of being held.
func TestDecodeEnvelopeBudget(t *testing.T) {
	if got := (Envelope{}).maxValue(); got != DefaultMaxValueBytes {
		t.Errorf("an Envelope's budget is %d by default, want DefaultMaxValueBytes", got)
	}
	// A budget of 1 MiB: the default's 32 MiB would be scanned by the race
	// detector's build for seconds, to the same end.
	const budget = 1 << 20
	big := strings.Repeat(" ", budget+1<<20)
	for name, in := range map[string]io.ReadSeeker{
		"padding before a record": strings.NewReader(`{"data":[` + big + `1]}`),
		"a huge string":           strings.NewReader(`{"data":["` + strings.Repeat("a", budget+1<<20) + `"]}`),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeEnvelope(in, Envelope{List: "data", MaxValueBytes: budget, Record: func(dec *json.Decoder) (bool, error) {
				var v any
				return true, dec.Decode(&v)
			}})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
		})
	}
}
