package lacework

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/collect/httpx"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2020, 12, 18, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{`"2020-12-18T08:00:00Z"`, want, false},
		{`"2020-12-18T08:00:00.000Z"`, want, false},
		{`"2020-12-18T08"`, want, false},
		{`"2020-12-18"`, want.Add(-8 * time.Hour), false},
		{`"2020-12-18T09:00:00+01:00"`, want, false},
		{`1608278400000`, want, false},
		{`"1608278400000"`, want, false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"yesterday"`, time.Time{}, true},
		{`true`, time.Time{}, true},
	}
	for _, tc := range tests {
		var got Time
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("%s: got %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("%s: not UTC", tc.in)
		}
	}
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{`"2020-12-18T08:00:00Z"`, `1608278400000`, `null`, `"2020-12-18T08"`, `-1e300`, `"99999999999999999999"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v Time
		if json.Unmarshal(b, &v) != nil {
			return
		}
		// Round trip: what we write, we read back as the same instant (ms).
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Time
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-read %s: %v", out, err)
		}
		if !back.Equal(v.Truncate(time.Millisecond)) && v.Year() >= 0 && v.Year() <= 9999 {
			t.Fatalf("round trip %v -> %s -> %v", v, out, back)
		}
	})
}

func TestSplitIDAlias(t *testing.T) {
	tests := []struct{ in, id, alias string }{
		{"81A2D8F9 (Pay-As-You-Go)", "81A2D8F9", "Pay-As-You-Go"},
		{"proj-a", "proj-a", ""},
		{" 123 (org (nested)) ", "123", "org (nested)"},
		{"(only alias)", "", "only alias"},
	}
	for _, tc := range tests {
		id, alias := SplitIDAlias(tc.in)
		if id != tc.id || alias != tc.alias {
			t.Errorf("SplitIDAlias(%q) = %q, %q", tc.in, id, alias)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	home := t.TempDir()
	profile := `[default]
account = "acme"
subaccount = "acme-prod"
api_key = "ACME_KEY_123456"
api_secret = "_profile_secret"

[other]
account = "other.lacework.net"
api_key = "OTHER_KEY"
api_secret = "_other_secret"
`
	if err := os.WriteFile(filepath.Join(home, ".lacework.toml"), []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		home    string
		env     map[string]string
		want    Credentials
		wantErr bool
	}{
		{"profile only", home, nil, Credentials{Account: "acme", SubAccount: "acme-prod", KeyID: "ACME_KEY_123456", Secret: "_profile_secret"}, false},
		{"env overrides profile", home, map[string]string{"LW_API_SECRET": "_env", "LW_API_URL": "http://127.0.0.1:1"},
			Credentials{Account: "acme", SubAccount: "acme-prod", KeyID: "ACME_KEY_123456", Secret: "_env", BaseURL: "http://127.0.0.1:1"}, false},
		{"named profile", home, map[string]string{"LW_PROFILE": "other"}, Credentials{Account: "other.lacework.net", KeyID: "OTHER_KEY", Secret: "_other_secret"}, false},
		{"missing profile name", home, map[string]string{"LW_PROFILE": "nope"}, Credentials{}, true},
		{"no file, env only", t.TempDir(), map[string]string{"LW_ACCOUNT": "x", "LW_API_KEY": "k", "LW_API_SECRET": "s", "LW_API_SERVER_URL": "https://x.example"},
			Credentials{Account: "x", KeyID: "k", Secret: "s", BaseURL: "https://x.example"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadCredentials(env(tc.env), tc.home)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tc.wantErr && got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := (Credentials{Account: "other.lacework.net"}).URL(); got != "https://other.lacework.net" {
		t.Errorf("URL() = %s", got)
	}
}

func TestCredentialsValidateNamesEveryProblem(t *testing.T) {
	err := Credentials{}.Validate()
	for _, want := range []string{"LW_ACCOUNT", "LW_API_KEY", "LW_API_SECRET"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func reportFromBytes(t testing.TB, b []byte) (*Report, error) {
	t.Helper()
	r := &Report{file: httpx.SpooledBytes(b), name: "test"}
	if err := r.readHeader(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

const sampleReport = `{"data":[{"reportType":"AWS_CIS_14","reportTitle":"CIS 1.4",
 "recommendations":[
  {"ACCOUNT_ID":"123456789012","START_TIME":1665418788940,"SUPPRESSIONS":[],"STATUS":"NonCompliant","REC_ID":"R1","CATEGORY":"IAM","TITLE":"t1",
   "VIOLATIONS":[{"region":"us-east-1","reasons":["r"],"resource":"arn:1"},{"resource":"arn:2"}],"RESOURCE_COUNT":2,"SEVERITY":1,"EXTRA":{"a":[1,2]}},
  {"REC_ID":"R2","STATUS":"Compliant","SEVERITY":3,"VIOLATIONS":null}],
 "summary":[{"NUM_RECOMMENDATIONS":2,"NUM_COMPLIANT":1,"NUM_NOT_COMPLIANT":1}],
 "accountId":"123456789012","accountAlias":"prod","reportTime":"2022-10-10T16:19:48.940Z"}],"ok":true,"message":"SUCCESS"}`

func TestReportStreamsRecommendations(t *testing.T) {
	r, err := reportFromBytes(t, []byte(sampleReport))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := r.Header
	if h.ReportType != "AWS_CIS_14" || h.AccountID != "123456789012" || h.AccountAlias != "prod" ||
		h.ReportTime.IsZero() || len(h.Summary) != 1 || h.Summary[0].NumCompliant != 1 {
		t.Fatalf("header %+v", h)
	}
	var recs []Recommendation
	for rec, err := range r.Recommendations() {
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != 2 || recs[0].RecID != "R1" || len(recs[0].Violations) != 2 || recs[0].Severity != 1 ||
		recs[0].StartTime.UnixMilli() != 1665418788940 || recs[1].Violations != nil {
		t.Fatalf("recommendations %+v", recs)
	}
	// Iterating twice gives the same rows; stopping early is fine.
	for range r.Recommendations() {
		break
	}
}

func TestReportErrors(t *testing.T) {
	for _, body := range []string{`{"data":[]}`, `{"data":null}`, `[]`, `{"data":[{"recommendations":[1,`, `not json`} {
		if r, err := reportFromBytes(t, []byte(body)); err == nil {
			r.Close()
			t.Errorf("%s: no error", body)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder of every endpoint; none may
// panic, and a report that decodes must stream without panicking either.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(sampleReport))
	f.Add([]byte(`{"paging":{"rows":1,"totalRows":1,"urls":{"nextPage":null}},"data":[{"account":{"AccountId":"1"},"reportTime":1}]}`))
	f.Add([]byte(`{"data":[{"accounts":[{"accountName":"A","userEnabled":1}]}]}`))
	f.Add([]byte(`{"data":[{"type":"GcpCfg","enabled":1,"data":{"idType":"PROJECT","id":"p"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e page[Evaluation]
		_ = json.Unmarshal(b, &e)
		var inv page[Resource]
		_ = json.Unmarshal(b, &inv)
		var al page[AuditLog]
		_ = json.Unmarshal(b, &al)
		var up struct{ Data []UserProfile }
		_ = json.Unmarshal(b, &up)
		var ca struct{ Data []CloudAccount }
		if json.Unmarshal(b, &ca) == nil {
			for _, a := range ca.Data {
				var d cloudAccountData
				_ = json.Unmarshal(a.Data, &d)
			}
		}
		var tok tokenResponse
		_ = json.Unmarshal(b, &tok)
		if r, err := reportFromBytes(t, b); err == nil {
			for _, err := range r.Recommendations() {
				if err != nil {
					break
				}
			}
			r.Close()
		}
	})
}

// UserProfile is a bare array in the document's sample and a "data"
// envelope in lacework/go-sdk: both are read, and an answer that is
// neither is an error, never an organization without sub-accounts.
func TestUserProfilesShapes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // profiles; -1 for an error
	}{
		{`[{"username":"a","accounts":[{"accountName":"X","userEnabled":1}]}]`, 1},
		{`{"data":[{"username":"a"},{"username":"b"}]}`, 2},
		{`[]`, 0},
		{`{}`, -1},
		{`{"data":null}`, -1},
		{`null`, -1},
		{`"x"`, -1},
	} {
		var u userProfiles
		err := json.Unmarshal([]byte(tc.in), &u)
		if (err != nil) != (tc.want < 0) || tc.want >= 0 && len(u) != tc.want {
			t.Errorf("%s: %d profiles, err %v; want %d", tc.in, len(u), err, tc.want)
		}
	}
}

// plainString takes the strings without escapes or anything but
// printable ASCII, giving what json.Unmarshal gives, and leaves every
// other value to it.
func TestPlainString(t *testing.T) {
	for in, plain := range map[string]bool{`""`: true, `"2026-11-20T03:04:05.000Z"`: true, `"a b~"`: true, `"1700000000000"`: true,
		`"\u00e9"`: false, `"é"`: false, `"a\"b"`: false, `"a\\b"`: false, "\"a\tb\"": false, `"x`: false, `x"`: false, `"`: false, `1`: false} {
		got, ok := plainString([]byte(in))
		if ok != plain {
			t.Errorf("plainString(%s): %v, want %v", in, ok, plain)
		}
		var want string
		if err := json.Unmarshal([]byte(in), &want); ok && (err != nil || got != want) {
			t.Errorf("plainString(%s) = %q; json.Unmarshal: %q, %v", in, got, want, err)
		}
	}
}
