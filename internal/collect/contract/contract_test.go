package contract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample(t *testing.T, resp string, extra map[string]string) Sample {
	t.Helper()
	return Sample{File: "s.json", Doc: "d", Endpoint: "GET /x", Response: json.RawMessage(resp), Extra: extra}
}

func TestCompare(t *testing.T) {
	const doc = `{"paging":{"rows":"int","urls":{"nextPage":null}},"data":[{"id":"string","on":"boolean","t":"<<epoch time>>","tags":[]}]}`
	tests := []struct {
		name  string
		got   string
		extra map[string]string
		want  []string
	}{
		{"same shape", `{"paging":{"rows":5,"urls":{"nextPage":"https://x"}},"data":[{"id":"a","on":false,"t":17,"tags":["x"]}]}`, nil, nil},
		{"nulls and empty lists are fine", `{"paging":{"rows":5,"urls":{"nextPage":null}},"data":[]}`, nil, nil},
		{"a missing key", `{"paging":{"rows":5,"urls":{}},"data":[{"id":"a","on":true,"t":"x"}]}`, nil,
			[]string{"data[].tags: missing (the sample has [array])", "paging.urls.nextPage: missing (the sample has [null])"}},
		{"a wrong type", `{"paging":{"rows":"5","urls":{"nextPage":null}},"data":[{"id":1,"on":"true","t":1,"tags":[]}]}`, nil,
			[]string{"data[].id: number, the sample has [string]", "data[].on: string, the sample has [boolean]", "paging.rows: string, the sample has [number]"}},
		{"an extra key", `{"paging":{"rows":1,"urls":{"nextPage":null},"totalRows":1},"data":[]}`, nil, []string{"paging.totalRows: not in the sample"}},
		{"an extra key with its reason", `{"paging":{"rows":1,"urls":{"nextPage":null},"totalRows":1},"data":[]}`, map[string]string{"paging.totalRows": "seed 000 line 410"}, nil},
		{"anything under a null", `{"paging":{"rows":1,"urls":{"nextPage":{"a":1}}},"data":[]}`, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diffs, err := Compare(sample(t, doc, tc.extra), []byte(tc.got))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(diffs, tc.want) {
				t.Errorf("diffs:\n%s\nwant:\n%s", strings.Join(diffs, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

type stamp struct{ time.Time }

func (s *stamp) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	s.Time = time.Unix(n, 0)
	return nil
}

type row struct {
	ID    string            `json:"id"`
	Count int               `json:"count"`
	On    bool              `json:"on"`
	When  stamp             `json:"when"`
	Tags  []string          `json:"tags"`
	Props map[string]string `json:"props"`
	Inner *struct {
		Name string `json:"name"`
	} `json:"inner"`
	Misnamed string `json:"acountId"` // the sample says accountId
}

func TestUnfilled(t *testing.T) {
	s := sample(t, `[{"id":"a","count":"int","on":false,"when":17,"tags":["x"],"props":{"k":"v"},"inner":{"name":"n"},"accountId":"1"},
		{"id":"","count":0,"on":"boolean","when":18,"tags":[],"props":null,"inner":{"name":""},"accountId":"2"}]`, nil)
	var rows []row
	got, err := Unfilled(s, &rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("unfilled: %v", got)
	}
	// The misnamed field never fills, but only fields whose json name the
	// sample carries are checked: Unfilled finds fields that lose data, and
	// Compare (against the emulator) finds keys we never read.
	type wrong struct {
		ID    int    `json:"count"` // decodes
		Inner string `json:"inner"` // an object into a string: an error
	}
	if _, err := Unfilled(sample(t, `{"count":1,"inner":{"name":"n"}}`, nil), new(wrong)); err == nil {
		t.Error("a type mismatch decoded")
	}
	type lossy struct {
		When struct {
			Seconds int `json:"seconds"`
		} `json:"when"`
	}
	got, err = Unfilled(sample(t, `{"when":{"secs":5}}`, nil), new(lossy))
	if err != nil || !reflect.DeepEqual(got, []string(nil)) {
		t.Errorf("got %v, %v", got, err)
	}
	type zeroed struct {
		Count int `json:"count"`
	}
	got, _ = Unfilled(sample(t, `{"count":"int"}`, nil), new(zeroed))
	if len(got) != 0 {
		t.Errorf("a placeholder did not fill: %v", got)
	}
	got, _ = Unfilled(sample(t, `{"v":5,"w":"x"}`, nil), new(struct {
		V lenient `json:"v"`
		W lenient `json:"w"`
	}))
	if len(got) != 1 || got[0] != "v: zero" {
		t.Errorf("a value our type dropped: %v", got)
	}
}

// lenient keeps strings and silently drops anything else.
type lenient string

func (l *lenient) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*l = lenient(s)
	}
	return nil
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"doc":"seed 000","endpoint":"GET /a","response":{"data":[]}}`), 0o644)
	if s, err := Load(dir); err != nil || len(s) != 1 || s[0].File != "a.json" {
		t.Fatalf("%+v %v", s, err)
	}
	os.WriteFile(filepath.Join(dir, "b.json"), []byte(`{"endpoint":"GET /a","response":{}}`), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "needs doc") {
		t.Fatalf("a sample without its origin loaded: %v", err)
	}
}

func TestConcrete(t *testing.T) {
	b, err := Concrete([]byte(`{"a":"int","b":"Boolean","c":"<<epoch>>","d":["long"],"e":"text"}`))
	if err != nil || string(b) != `{"a":1,"b":true,"c":"\u003c\u003cepoch\u003e\u003e","d":[1],"e":"text"}` {
		t.Errorf("%s %v", b, err)
	}
}

// An empty object in a sample elides its content: any object matches.
func TestCompareElidedObject(t *testing.T) {
	s := sample(t, `{"paging":{"rows":5000,"urls":{}},"data":[{},{}]}`, nil)
	diffs, err := Compare(s, []byte(`{"paging":{"rows":2,"urls":{"nextPage":null}},"data":[{"a":1},{"b":{"c":2}}]}`))
	if err != nil || len(diffs) != 0 {
		t.Errorf("diffs %v, err %v", diffs, err)
	}
	diffs, _ = Compare(s, []byte(`{"paging":{"rows":2,"urls":{}},"data":[1]}`))
	if len(diffs) != 1 || !strings.Contains(diffs[0], "data[]: number") {
		t.Errorf("a number where the sample has an object: %v", diffs)
	}
}
