package sophos

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{`1793520000000`, want, false},
		{`"1793520000000"`, want, false},
		{`1793520000000.7`, want, false},
		// firstSeen/lastSeen units are unstated (seed 004): seconds by
		// magnitude, as a number or a quoted number.
		{`1793520000`, want, false},
		{`"1793520000"`, want, false},
		{`1793520000.0`, want, false},
		{`99999999999`, time.Unix(99999999999, 0).UTC(), false},     // the largest seconds value
		{`100000000000`, time.UnixMilli(100000000000).UTC(), false}, // the smallest milliseconds value
		{`0`, time.Time{}, false},
		{`253402300800000`, time.Time{}, true}, // after 9999
		{`"2026-11-01T08:00:00Z"`, want, false},
		{`"2026-11-01T08:00:00.000+00:00"`, want, false},
		{`"2026-11-01T09:00:00+01:00"`, want, false},
		{`"2026-11-01T08:00:00"`, want, false},
		{`"2026-11-01"`, want.Add(-8 * time.Hour), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, true},
		{`-5`, time.Time{}, true},
		{`true`, time.Time{}, true},
		{`{}`, time.Time{}, true},
	}
	for _, tc := range tests {
		var got Time
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("%s: got %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil && !got.IsZero() && got.Location() != time.UTC {
			t.Errorf("%s: not UTC", tc.in)
		}
	}
}

func TestTextAndInt(t *testing.T) {
	var a struct {
		ID    Text `json:"id"`
		Score Int  `json:"score"`
	}
	for in, want := range map[string][2]string{
		`{"id": 12345678901234567890, "score": "42"}`: {"12345678901234567890", "42"},
		`{"id": "i-0abc", "score": 7.9}`:              {"i-0abc", "7"},
		`{"id": null, "score": null}`:                 {"", "0"},
		`{"id": true, "score": ""}`:                   {"true", "0"},
	} {
		a.ID, a.Score = "x", -1
		if err := json.Unmarshal([]byte(in), &a); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if string(a.ID) != want[0] || int64(a.Score) != mustInt(want[1]) {
			t.Errorf("%s: got %q, %d", in, a.ID, a.Score)
		}
	}
	for _, in := range []string{`{"id": {}}`, `{"score": "many"}`, `{"score": 1e300}`, `{"id": [1]}`} {
		if err := json.Unmarshal([]byte(in), &a); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

func mustInt(s string) int64 {
	var n Int
	if err := n.UnmarshalJSON([]byte(s)); err != nil {
		panic(err)
	}
	return int64(n)
}

func TestTagsJSON(t *testing.T) {
	tests := []struct{ more, want string }{
		{`{"tags":"{ \"Name\":\"web\" }"}`, `{ "Name":"web" }`},
		{`{"tags":{"env":"prod"}}`, `{"env":"prod"}`},
		{`{"tags":null,"mappedTags":"env=prod"}`, `"env=prod"`},
		{`{"mappedTags":"{\"a\":1}"}`, `{"a":1}`},
		{`{"tags":""}`, ``},
		{`{"tags":[]}`, `[]`},
		{`[1,2]`, ``},
		{``, ``},
	}
	for _, tc := range tests {
		if got := ParseMoreInfo(json.RawMessage(tc.more)).TagsJSON(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.more, got, tc.want)
		}
	}
}

func TestDecodeAccounts(t *testing.T) {
	tests := []struct {
		in      string
		n       int
		enabled bool
		id      string
		paged   bool
		err     string
	}{
		{`[{"accountId":123456789012,"accountType":"AWS","isEnabled":true}]`, 1, true, "123456789012", false, ""},
		// AWS ids lose their leading zeros as JSON numbers; they are 12 digits.
		{`[{"accountId":12345678901,"accountType":"AWS"}]`, 1, true, "012345678901", false, ""},
		{`[{"accountId":"12345678901","accountType":"aws"}]`, 1, true, "012345678901", false, ""},
		{`[{"accountId":12345678901,"accountType":"GCP"}]`, 1, true, "12345678901", false, ""},
		{`[{"accountId":"i-abc","accountType":"AWS"}]`, 1, true, "i-abc", false, ""},
		{`[{"accountId":"a","accountType":"Azure"}]`, 1, true, "a", false, ""},
		{`[{"accountId":"a","isEnabled":false}]`, 1, false, "a", false, ""},
		{`{"data":[{"accountId":"a"}],"hasNext":false}`, 1, true, "a", true, ""},
		{`{"data":[{"accountId":"a"}],"hasNext":true,"currentPage":0,"totalPages":2}`, 1, true, "a", true, ""},
		{`{"data":[],"errorMessage":"boom"}`, 0, false, "", false, "boom"},
		{`null`, 0, false, "", false, "response is null"},
		{`{}`, 0, false, "", false, `no "data"`},
		{`{"data":null,"hasNext":false}`, 0, false, "", false, `no "data"`},
		{`"x"`, 0, false, "", false, "JSON array"},
		{`[{"accountId":{}}]`, 0, false, "", false, "environment 0"},
	}
	for _, tc := range tests {
		got, err := decodeAccounts(json.RawMessage(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got.accounts) != tc.n || got.paged != tc.paged {
			t.Errorf("%s: %+v, %v", tc.in, got, err)
			continue
		}
		if a := got.accounts[0]; a.Enabled() != tc.enabled || string(a.Raw) == "" || string(a.AccountID) != tc.id {
			t.Errorf("%s: %+v, want id %q", tc.in, a, tc.id)
		}
	}
}

// FuzzAlertPage feeds arbitrary bytes to the alert page decoder and the
// helpers the source uses on a decoded alert: nothing may panic, and what
// decodes must survive a re-encoding with the same alerts.
func FuzzAlertPage(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"id":1,"accountId":"123","alertId":"OPX-1","criticalLevel":"HIGH","firstSeen":1,"lastSeen":"1700000000000",` +
			`"ruleResult":{"affectedResources":[{"id":"1","affectedResource":"arn:x","dataMap":{"region":"eu-west-1"},"remediateDate":null}],` +
			`"resultprefix":null,"controlId":101}}],"currentPage":1,"hasNext":true,"totalPages":"3","size":50}`,
		`{"data":null,"hasNext":false}`,
		`{"data":[{"lastSeen":-1}]}`,
		`{"data":[{"ruleResult":{"affectedResources":[{"dataMap":[1,2]}]}}]}`,
		`{"errorMessage":"x","data":[{"score":"1e3"}]}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var pg Page[Alert]
		if json.Unmarshal(b, &pg) != nil {
			return
		}
		for _, a := range pg.Data {
			for _, r := range a.RuleResult.AffectedResources {
				_ = r.Region()
			}
		}
		out, err := json.Marshal(pg)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var back Page[Alert]
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if len(back.Data) != len(pg.Data) || back.HasNext != pg.HasNext {
			t.Fatalf("round trip changed the page: %d/%v -> %d/%v", len(pg.Data), pg.HasNext, len(back.Data), back.HasNext)
		}
		for i := range pg.Data {
			if !back.Data[i].LastSeen.Equal(pg.Data[i].LastSeen.Truncate(time.Millisecond)) || back.Data[i].ID != pg.Data[i].ID {
				t.Fatalf("alert %d changed: %+v -> %+v", i, pg.Data[i], back.Data[i])
			}
		}
	})
}

// FuzzInventory covers the inventory decoders: accounts responses, pages of
// hosts and the moreInfo helpers. TagsJSON must return valid JSON or "".
func FuzzInventory(f *testing.F) {
	for _, s := range []string{
		`[{"accountId":"1","accountType":"AWS","accountSyncBenchmark":{"latestSuccessSyncTime":"2026-11-22T11:00:00.000+00:00"}}]`,
		`{"errorMessage":null,"data":[{"accountType":"AZURE","accountId":"s","instanceId":"/subscriptions/s/vm","moreInfo":{"region":"westeurope","tags":{"a":"b"}}}],"hasNext":false}`,
		`{"data":[{"moreInfo":{"tags":"{ \"Name\":\"x\" }","mappedTags":"k=v"}}]}`,
		`{"data":[{"moreInfo":"not an object"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if pg, err := decodeAccounts(b); err == nil {
			for _, a := range pg.accounts {
				_, _ = a.Cloud(), a.Enabled()
			}
		}
		var pg Page[Host]
		if json.Unmarshal(b, &pg) != nil {
			return
		}
		for _, h := range pg.Data {
			m := ParseMoreInfo(h.MoreInfo)
			if tags := m.TagsJSON(); tags != "" && !json.Valid([]byte(tags)) {
				t.Fatalf("TagsJSON %q is not JSON", tags)
			}
			_ = NormalizeCloud(h.AccountType)
		}
	})
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{`"2026-11-01T08:00:00+01:00"`, `1793520000000`, `null`, `"2026-11-01"`, `-1e300`, `"99999999999999999999"`, `1e20`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Time
		if json.Unmarshal(b, &v) != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Time
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-read %s: %v", out, err)
		}
		if !back.Equal(v.Truncate(time.Millisecond)) {
			t.Fatalf("round trip %v -> %s -> %v", v, out, back)
		}
	})
}

// A page that contradicts the announced or documented paging ends the query.
func TestPageBounds(t *testing.T) {
	s := pageSpec{size: 50}
	for _, tc := range []struct {
		name                string
		n, rows, totalPages int
		hasNext, noData     bool
		want                string
	}{
		{"a middle page", 1, 50, 3, true, false, ""},
		{"the last page", 2, 7, 3, false, false, ""},
		{"no total announced", 5, 50, 0, true, false, ""},
		{"empty result", 0, 0, 0, false, false, ""},
		{"no data key", 0, 0, 0, false, true, `no "data"`},
		{"more rows than the size", 0, 51, 1, false, false, "more than 50 rows in a page of size 50"},
		{"past the announced pages", 3, 50, 3, true, false, "page 4 of 3 announced pages"},
		{"short: ends before the announced pages", 0, 50, 3, false, false, "announced 3 pages (totalPages), 1 were delivered"},
	} {
		err := pageBounds(s, tc.n, tc.rows, tc.hasNext, tc.noData, tc.totalPages)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrPaging) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// An alert's firstSeen and lastSeen decode to the same instants whether the
// API sends seconds or milliseconds (seed 004 states no unit).
func TestAlertTimesInSecondsOrMilliseconds(t *testing.T) {
	first, last := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		page string
	}{
		{"milliseconds", `{"data":[{"firstSeen":1790812800000,"lastSeen":1793520000000,"ruleResult":{"affectedResources":[{"firstSeen":1790812800000}]}}]}`},
		{"seconds", `{"data":[{"firstSeen":1790812800,"lastSeen":1793520000,"ruleResult":{"affectedResources":[{"firstSeen":1790812800}]}}]}`},
		{"quoted seconds", `{"data":[{"firstSeen":"1790812800","lastSeen":"1793520000","ruleResult":{"affectedResources":[{"firstSeen":"1790812800"}]}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pg Page[Alert]
			if err := json.Unmarshal([]byte(tc.page), &pg); err != nil {
				t.Fatal(err)
			}
			a := pg.Data[0]
			if !a.FirstSeen.Equal(first) || !a.LastSeen.Equal(last) || !a.RuleResult.AffectedResources[0].FirstSeen.Equal(first) {
				t.Errorf("firstSeen %v, lastSeen %v, resource firstSeen %v; want %v, %v", a.FirstSeen, a.LastSeen, a.RuleResult.AffectedResources[0].FirstSeen, first, last)
			}
		})
	}
}
