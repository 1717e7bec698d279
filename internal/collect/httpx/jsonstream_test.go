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

// BenchmarkSkipValue skips a list response's related objects, as the Edge
// client skips the users, groups and apps beside an access lookup's list.
func BenchmarkSkipValue(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`[`)
	for i := range 200 {
		if i > 0 {
			sb.WriteString(`,`)
		}
		sb.WriteString(`{"uuid":"5d1c3a70-e0e1-4c2b-9a51-000000000001","name":"user name","email":"u@example.com","status":1,"groups":["a","b"],"create_time":1700000000000}`)
	}
	sb.WriteString(`]`)
	doc := sb.String()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if err := SkipValue(json.NewDecoder(strings.NewReader(doc))); err != nil {
			b.Fatal(err)
		}
	}
}
