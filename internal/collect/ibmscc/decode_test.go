package ibmscc

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEpochTime(t *testing.T) {
	sec := time.Date(2025, 10, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{`1759579200`, sec, false},                                  // seconds (inventory lastSeen)
		{`"1759579200"`, sec, false},                                // seconds as a string
		{`"1759579200123"`, sec.Add(123 * time.Millisecond), false}, // milliseconds (lastSeenDate)
		{`1759579200123456`, sec.Add(123456 * time.Microsecond), false},
		{`1759579200123456789`, sec.Add(123456789), false}, // nanoseconds (audit timestamp)
		{`"1759579200.5"`, sec.Add(500 * time.Millisecond), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`0`, time.Time{}, false},
		{`-5`, time.Time{}, true},
		{`"yesterday"`, time.Time{}, true},
		{`{}`, time.Time{}, true},
		{`99999999999999999999`, time.Time{}, true},
		{`true`, time.Time{}, true},
	}
	for _, tc := range tests {
		var got EpochTime
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("%s: got %v, %v; want %v, err=%v", tc.in, got.Time, err, tc.want, tc.err)
		}
		if err == nil && !got.IsZero() && got.Location() != time.UTC {
			t.Errorf("%s: not UTC", tc.in)
		}
	}
}

func TestFlexScalars(t *testing.T) {
	ints := []struct {
		in   string
		want FlexInt
		err  bool
	}{
		{`40`, 40, false}, {`"40"`, 40, false}, {`null`, 0, false}, {`""`, 0, false}, {`12.0`, 12, false},
		{`1.5`, 0, true}, {`"x"`, 0, true}, {`[1]`, 0, true}, {`1e400`, 0, true},
	}
	for _, tc := range ints {
		var got FlexInt
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.err || err == nil && got != tc.want {
			t.Errorf("FlexInt %s: got %d, %v", tc.in, got, err)
		}
	}
	strs := []struct {
		in, want string
		err      bool
	}{
		{`"15"`, "15", false}, {`15`, "15", false}, {`true`, "true", false}, {`null`, "", false}, {`{"a":1}`, "", true},
	}
	for _, tc := range strs {
		var got FlexString
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.err || string(got) != tc.want {
			t.Errorf("FlexString %s: got %q, %v", tc.in, got, err)
		}
	}
}

func TestDecodeShapes(t *testing.T) {
	// Shapes seen in the wild: totalCount as a string, ids as numbers,
	// acceptance null or an object, user as a string or an object.
	var lp listPage
	if err := json.Unmarshal([]byte(`{"data":[{"requirementId":16023,"name":"2.1.2 Ensure MFA","pass":false,"severity":"High",
		"policyId":"15","zone":{"id":"100b83d6","name":"Entire Infrastructure"},"controls":[{"id":"16027","objectsCount":138,
		"acceptedCount":118,"passingCount":0,"lastUpdate":"1759636664","resourceApiEndpoint":"/api/cspm/v1/cloud/resources?controlId=16027"}]}],
		"totalCount":"40"}`), &lp); err != nil {
		t.Fatal(err)
	}
	var reqs []Requirement
	if err := json.Unmarshal(lp.Data, &reqs); err != nil {
		t.Fatal(err)
	}
	if lp.TotalCount != 40 || reqs[0].RequirementID != "16023" || reqs[0].Controls[0].Assessed() != 256 || reqs[0].Controls[0].LastUpdate.Year() != 2025 {
		t.Fatalf("decoded %+v %+v", lp.TotalCount, reqs)
	}
	var res []ControlResource
	if err := json.Unmarshal([]byte(`[{"name":"a","passed":false,"acceptance":null},{"name":"b","passed":false,"acceptance":{"reason":"Risk Owned"}}]`), &res); err != nil {
		t.Fatal(err)
	}
	if res[0].Acceptance != nil || res[1].Acceptance == nil || res[1].Acceptance.Reason != "Risk Owned" {
		t.Fatalf("acceptance: %+v", res)
	}
	var evs []AuditEvent
	if err := json.Unmarshal([]byte(`[{"timestamp":1546300800000000001,"type":"kubernetes","user":{"username":"u","groups":["g"]},"labels":{"a":"b","n":3}},
		{"timestamp":"1546300800000000002","type":"command","user":"root","pid":"12"}]`), &evs); err != nil {
		t.Fatal(err)
	}
	if evs[0].Timestamp.UnixNano() != 1546300800000000001 || evs[0].User.Username != "u" || evs[0].Labels["n"] != "3" ||
		evs[1].User.Username != "root" || evs[1].PID != "12" {
		t.Fatalf("audit: %+v", evs)
	}
	var inv InventoryResource
	if err := json.Unmarshal([]byte(`{"id":"x","metadata":{"Account":"123","Region":"us-east-1","tags":{"a":1}}}`), &inv); err != nil {
		t.Fatal(err)
	}
	if inv.Meta("account") != "123" || inv.Meta("region") != "us-east-1" || inv.Meta("tags") != "" {
		t.Fatalf("meta: %+v", inv.Metadata)
	}
}

// FuzzEpochTime: whatever decodes is UTC and, from 1973 on (where the unit
// is unambiguous in nanoseconds), survives a round trip exactly.
func FuzzEpochTime(f *testing.F) {
	for _, s := range []string{`1759579200`, `"1759579200123"`, `1759579200123456789`, `null`, `"1.5"`, `-1`, `1e30`, `"0x10"`, `"NaN"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v EpochTime
		if json.Unmarshal(b, &v) != nil || v.IsZero() {
			return
		}
		if v.Location() != time.UTC {
			t.Fatalf("%s: not UTC", b)
		}
		if v.UnixNano() < 1e17 {
			return // written in nanoseconds, it would read as seconds
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back EpochTime
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s → %s: %v", b, out, err)
		}
		if !back.Equal(v.Time) {
			t.Fatalf("%s → %s → %v, want %v", b, out, back.Time, v.Time)
		}
	})
}

// FuzzDecodeResponses feeds arbitrary bytes to every response decoder: no
// panic, and what a decoder accepts re-encodes.
func FuzzDecodeResponses(f *testing.F) {
	seeds := []string{
		`{"data":[{"requirementId":"1","controls":[{"id":2,"objectsCount":"3"}]}],"totalCount":"1"}`,
		`{"data":[{"zoneId":"z","zoneName":"Entire Infrastructure","policies":[{"id":15,"name":"p","requirementsHistory":[{"date":"1692000000"}]}]}]}`,
		`{"data":[{"timestamp":1546300800000000000,"type":"command","user":"root","labels":{"x":[1]}}],"page":{"prev":"abc","total":"2"}}`,
		`{"data":[{"id":"1","lastSeen":"1660742138","metadata":{"Account":1},"labels":["a"]}],"totalCount":1}`,
		`{"data":null,"totalCount":null}`,
		`{"access_token":"t","expires_in":"3600","token_type":"Bearer"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var lp listPage
		if json.Unmarshal(b, &lp) == nil {
			var reqs []Requirement
			_ = json.Unmarshal(lp.Data, &reqs)
			var res []ControlResource
			_ = json.Unmarshal(lp.Data, &res)
			var inv []InventoryResource
			if json.Unmarshal(lp.Data, &inv) == nil {
				for _, r := range inv {
					_ = r.Meta("account", "region")
				}
			}
			for _, r := range reqs {
				for _, c := range r.Controls {
					_ = c.Assessed()
				}
			}
		}
		var vr viewsResponse
		if json.Unmarshal(b, &vr) == nil {
			for _, v := range vr.Data {
				for _, p := range v.Policies {
					_ = p.LastEvaluated()
				}
			}
		}
		var ap auditPage
		if json.Unmarshal(b, &ap) == nil {
			if _, err := json.Marshal(ap.Data); err != nil {
				t.Fatalf("re-encode audit events: %v", err)
			}
		}
		var tr tokenResponse
		_ = json.Unmarshal(b, &tr)
	})
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{`CIS Docker Benchmark`, `"CIS Docker Benchmark"`},
		{`Custom "Prod" Policy \ v1`, `"Custom \"Prod\" Policy \\ v1"`},
		{``, `""`},
	}
	for _, tc := range tests {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := And(In("policy.name", "a", `b"`), "", "pass=false"); got != `policy.name in ("a", "b\"") and pass=false` {
		t.Errorf("And/In: %s", got)
	}
	if !strings.Contains(In("x", "y"), `("y")`) {
		t.Error("In")
	}
}
