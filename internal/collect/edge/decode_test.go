package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2020, 12, 18, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Time
		err  bool
	}{
		{"seconds", `1608278400`, want, false},
		{"milliseconds", `1608278400000`, want, false},
		{"microseconds", `1608278400000000`, want, false},
		{"nanoseconds", `1608278400000000000`, want, false},
		{"quoted milliseconds (protobuf int64)", `"1608278400000"`, want, false},
		{"RFC 3339", `"2020-12-18T09:00:00+01:00"`, want, false},
		{"zero is unset", `0`, time.Time{}, false},
		{"null", `null`, time.Time{}, false},
		{"empty string", `""`, time.Time{}, false},
		{"negative", `-5`, time.Time{}, true},
		{"fraction", `1608278400.5`, time.Time{}, true},
		{"words", `"yesterday"`, time.Time{}, true},
		{"bool", `true`, time.Time{}, true},
		{"object", `{}`, time.Time{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got Time
			err := json.Unmarshal([]byte(tc.in), &got)
			if (err != nil) != tc.err || !got.Equal(tc.want) {
				t.Fatalf("got %v, %v; want %v, err=%v", got, err, tc.want, tc.err)
			}
			if err == nil && !got.IsZero() && got.Location() != time.UTC {
				t.Error("not UTC")
			}
		})
	}
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{`1608278400000`, `"1608278400"`, `null`, `"2020-12-18T08:00:00.123456789Z"`, `-1`, `9223372036854775807`, `"0001-01-01T00:00:00Z"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Time
		if json.Unmarshal(b, &v) != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %v: %v", v.Time, err)
		}
		var back Time
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-read %s: %v", out, err)
		}
		if !back.Equal(v.Time) || back.IsZero() != v.IsZero() {
			t.Fatalf("round trip %v -> %s -> %v", v.Time, out, back.Time)
		}
	})
}

func TestEnumAndStatusName(t *testing.T) {
	tests := []struct {
		in, text, status string
		err              bool
	}{
		{`2`, "2", StatusActive, false},
		{`"2"`, "2", StatusActive, false},
		{`"SUSPENDED"`, "SUSPENDED", StatusSuspended, false},
		{`"deleted"`, "deleted", StatusDeleted, false},
		{`0`, "0", "UNSPECIFIED", false},
		{`null`, "", "UNSPECIFIED", false},
		{`9`, "9", "STATUS_9", false},
		{`1.5`, "", "", true},
		{`[]`, "", "", true},
	}
	for _, tc := range tests {
		var e Enum
		err := json.Unmarshal([]byte(tc.in), &e)
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v", tc.in, err)
			continue
		}
		if err == nil && (string(e) != tc.text || StatusName(e) != tc.status) {
			t.Errorf("%s: %q / %s, want %q / %s", tc.in, e, StatusName(e), tc.text, tc.status)
		}
	}
}

func decodeAll[T any](t *testing.T, body, key string) ([]T, string, error) {
	t.Helper()
	var out []T
	next, err := decodePage(strings.NewReader(body), key, func(v T) bool { out = append(out, v); return true })
	return out, next, err
}

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		uuids []string
		next  string
		err   string
	}{
		{"token first", `{"continuation_token":"n1","users":[{"uuid":"a"},{"uuid":"b"}]}`, []string{"a", "b"}, "n1", ""},
		{"token last", `{"users":[{"uuid":"a"}],"continuation_token":"n2"}`, []string{"a"}, "n2", ""},
		{"no token", `{"users":[{"uuid":"a"}]}`, []string{"a"}, "", ""},
		{"empty token", `{"users":[],"continuation_token":""}`, nil, "", ""},
		{"list omitted (protobuf)", `{}`, nil, "", ""},
		{"null list and token", `{"users":null,"continuation_token":null}`, nil, "", ""},
		{"siblings skipped", `{"apps":[{"x":[1,{"y":null}]}],"users":[{"uuid":"a"}],"groups":{"a":"b"},"n":3}`, []string{"a"}, "", ""},
		{"unknown record fields", `{"users":[{"uuid":"a","new_field":{"deep":[1,2]}}]}`, []string{"a"}, "", ""},
		{"not an object", `[{"uuid":"a"}]`, nil, "", "not a JSON object"},
		{"list not an array", `{"users":{"uuid":"a"}}`, nil, "", "not an array"},
		{"list twice", `{"users":[],"users":[]}`, nil, "", "appears twice"},
		{"token not a string", `{"continuation_token":5,"users":[]}`, nil, "", "continuation_token"},
		{"bad record", `{"users":[{"uuid":"a"},{"uuid":5}]}`, []string{"a"}, "", "users[1]"},
		{"truncated", `{"users":[{"uuid":"a"}`, []string{"a"}, "", "decode response"},
		{"trailing data", `{"users":[]} {}`, nil, "", "after the JSON object"},
		{"empty body", ``, nil, "", "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, next, err := decodeAll[User](t, tc.body, "users")
			var uuids []string
			for _, u := range got {
				uuids = append(uuids, u.UUID)
			}
			if !reflect.DeepEqual(uuids, tc.uuids) {
				t.Errorf("records %v, want %v", uuids, tc.uuids)
			}
			if tc.err == "" {
				if err != nil || next != tc.next {
					t.Errorf("next %q, err %v; want %q", next, err, tc.next)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, errDecode) {
				t.Errorf("err %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestDecodePageStops(t *testing.T) {
	n := 0
	_, err := decodePage(strings.NewReader(`{"users":[{"uuid":"a"},{"uuid":"b"},{"uuid":"c"}]}`), "users",
		func(User) bool { n++; return n < 2 })
	if err != nil || n != 2 {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

// page is the buffered reading of what decodePage streams.
type page struct {
	Users []User `json:"users"`
	Next  string `json:"continuation_token,omitempty"`
}

// FuzzDecodePage: any input is decoded without panic; what decodes, when
// written back, decodes to the same records and token (write-then-read).
func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{
		`{"continuation_token":"x","users":[{"uuid":"a","status":2,"tags":["t"],"create_time":1608278400000}]}`,
		`{"users":[{"uuid":"b","status":"SUSPENDED","create_time":"1608278400","role":null}],"other":[1,[2,{"3":4}]]}`,
		`{}`, `{"users":null}`, `{"users":[{}]}`, `[]`, `{"users":[{"create_time":-1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []User
		next, err := decodePage(bytes.NewReader(b), "users", func(u User) bool { got = append(got, u); return true })
		if err != nil {
			return
		}
		out, err := json.Marshal(page{Users: got, Next: next})
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back []User
		next2, err := decodePage(bytes.NewReader(out), "users", func(u User) bool { back = append(back, u); return true })
		if err != nil {
			t.Fatalf("re-read %s: %v", out, err)
		}
		if next2 != next || len(back) != len(got) {
			t.Fatalf("round trip: %d records, token %q -> %d, %q", len(got), next, len(back), next2)
		}
		for i := range got {
			if !sameUser(got[i], back[i]) {
				t.Fatalf("record %d: %+v -> %s -> %+v", i, got[i], out, back[i])
			}
		}
	})
}

func sameUser(a, b User) bool {
	times := func(u User) [3]time.Time {
		return [3]time.Time{u.CreateTime.Time, u.UpdateTime.Time, u.RecordUpdateTime.Time}
	}
	ta, tb := times(a), times(b)
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	a.CreateTime, a.UpdateTime, a.RecordUpdateTime = Time{}, Time{}, Time{}
	b.CreateTime, b.UpdateTime, b.RecordUpdateTime = Time{}, Time{}, Time{}
	return reflect.DeepEqual(a, b)
}
