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
		// firstSeen/lastSeen units are unstated: seconds by magnitude.
		{`1793520000`, want, false},
		{`"1793520000"`, want, false},
		{`99999999999`, time.Unix(99999999999, 0).UTC(), false},
		{`100000000000`, time.UnixMilli(100000000000).UTC(), false},
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
		err     string
	}{
		{`[{"accountId":123456789012,"accountType":"AWS","isEnabled":true}]`, 1, true, ""},
		{`[{"accountId":"a","accountType":"Azure"}]`, 1, true, ""},
		{`[{"accountId":"a","isEnabled":false}]`, 1, false, ""},
		{`{"data":[{"accountId":"a"}],"hasNext":false}`, 1, true, ""},
		{`{"data":[],"errorMessage":"boom"}`, 0, false, "boom"},
		{`null`, 0, false, "response is null"},
		{`{}`, 0, false, `no "data"`},
		{`{"data":null,"hasNext":false}`, 0, false, `no "data"`},
		{`"x"`, 0, false, "JSON array"},
		{`[{"accountId":{}}]`, 0, false, "environment 0"},
	}
	for _, tc := range tests {
		got, _, err := decodeAccounts(json.RawMessage(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != tc.n {
			t.Errorf("%s: %v, %v", tc.in, got, err)
			continue
		}
		if tc.n > 0 && (got[0].Enabled() != tc.enabled || string(got[0].Raw) == "") {
			t.Errorf("%s: %+v", tc.in, got[0])
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
		if accts, _, err := decodeAccounts(b); err == nil {
			for _, a := range accts {
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

// A 12-digit AWS account id sent as a JSON number keeps its leading zero;
// other providers' ids, and ids already 12 digits long, are left alone.
func TestAccountIDOf(t *testing.T) {
	for _, tc := range []struct{ provider, in, want string }{
		{"AWS", `12345678901`, "012345678901"},
		{"aws", `"12345678901"`, "012345678901"},
		{"AWS", `123456789012`, "123456789012"},
		{"GCP", `12345678901`, "12345678901"},
		{"Azure", `"8e7f0c2a-1b2c-4d3e-9f00-1234567890ab"`, "8e7f0c2a-1b2c-4d3e-9f00-1234567890ab"},
	} {
		var id Text
		if err := json.Unmarshal([]byte(tc.in), &id); err != nil {
			t.Fatal(err)
		}
		if got := AccountIDOf(tc.provider, id); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.provider, tc.in, got, tc.want)
		}
	}
	accts, _, err := decodeAccounts(json.RawMessage(`[{"accountId": 12345678901, "accountType": "AWS", "name": "prod"}]`))
	if err != nil || len(accts) != 1 || accts[0].AccountID != "012345678901" {
		t.Errorf("environments %+v, %v", accts, err)
	}
}
