package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSkipValue(t *testing.T) {
	tests := []struct {
		doc     string
		wantErr error
		next    string // the value after the skipped one
	}{
		{`1 "x"`, nil, "x"},
		{`{"a":[1,{"b":2}],"c":"}"} "x"`, nil, "x"},
		{`[[],[[]]] "x"`, nil, "x"},
		{`{"a":[1,2`, io.ErrUnexpectedEOF, ""},
	}
	for _, tc := range tests {
		dec := json.NewDecoder(strings.NewReader(tc.doc))
		err := SkipValue(dec)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err %v, want %v", tc.doc, err, tc.wantErr)
			continue
		}
		if tc.wantErr == nil {
			var s string
			if err := dec.Decode(&s); err != nil || s != tc.next {
				t.Errorf("%s: next value %q, %v", tc.doc, s, err)
			}
		}
	}
}

func TestExpectDelim(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`[1]`))
	if err := ExpectDelim(dec, '{'); err == nil {
		t.Error("'[' accepted as '{'")
	}
	dec = json.NewDecoder(strings.NewReader(`{}`))
	if err := ExpectDelim(dec, '{'); err != nil {
		t.Error(err)
	}
}
