package ocsf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/testtool"
)

var (
	day = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	src = Source{PackID: "20261122T021500Z-3f9a1c", Tenant: "acme", Platform: "lacework", Tool: "evidence", ToolVersion: "1.4.0", GeneratedAt: day.Add(26 * time.Hour)}
)

const cis = "CIS Amazon Web Services Foundations Benchmark v1.4.0"

func base() Result {
	return Result{
		Framework: cis, SubAccount: "acme-prod", Cloud: "AWS", AccountID: "123456789012", AccountAlias: "prod",
		ControlID: "1.4", Title: "Ensure no root access key exists", Section: "Identity and Access Management", Requirement: "1",
		Severity: "Critical", Status: "Compliant", ReportTime: day.Add(3 * time.Hour), InfoLink: "https://docs.example.com/1.4",
		RowID: "0123456789abcdef0123456789abcdef",
	}
}

func with(f func(r *Result)) Result { r := base(); f(&r); return r }

// results: every status, clouds, severities, with and without resources.
var results = []struct {
	name                    string
	r                       Result
	complianceID, findingID int32
	severityID              int32
	provider                string
	resources               int
}{
	{"compliant control", base(), 1, 4, 5, "AWS", 0},
	{"violating resource", with(func(r *Result) {
		r.Status, r.Resource, r.ResourceType, r.Region, r.Reasons = "NonCompliant", "arn:aws:s3:::b", "s3:bucket", "eu-west-1", []string{"public", "unencrypted"}
	}), 3, 1, 5, "AWS", 1},
	{"non-compliant without violation rows", with(func(r *Result) { r.Status = "NonCompliant" }), 3, 1, 5, "AWS", 0},
	{"suppressed resource", with(func(r *Result) { r.Status, r.Resource, r.Severity = "Suppressed", "arn:aws:iam::1:root", "High" }), 99, 3, 4, "AWS", 1},
	{"could not assess, Azure", with(func(r *Result) {
		r.Status, r.Cloud, r.AccountID, r.Severity = "CouldNotAssess", "Azure", "9f1a6c1e-0000-4000-8000-000000000001", "Medium"
	}), 2, 1, 3, "Azure", 0},
	{"manual, GCP, info", with(func(r *Result) {
		r.Status, r.Cloud, r.AccountID, r.Severity = "RequiresManualAssessment", "GCP", "proj-1", "Info"
	}), 99, 1, 1, "GCP", 0},
	{"Kubernetes, odd severity, no alias", with(func(r *Result) {
		r.Status, r.Cloud, r.AccountID, r.AccountAlias, r.Severity, r.Resource = "NonCompliant", "Kubernetes", "cluster-1", "", "Severe", "pod/x"
	}), 3, 1, 99, "Kubernetes", 1},
	{"no severity, no time, no link", with(func(r *Result) { r.Severity, r.ReportTime, r.InfoLink, r.Section = "", time.Time{}, "", "" }), 1, 4, 0, "AWS", 0},
}

// TestEventsMatchTheClass: every event passes the schema-driven checker and
// carries the result's values.
func TestEventsMatchTheClass(t *testing.T) {
	s := loadSchema(t)
	for _, tc := range results {
		t.Run(tc.name, func(t *testing.T) {
			e, err := NewEvent(src, tc.r)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range s.check(t, e) {
				t.Error(p)
			}
			if e.Compliance.StatusID != tc.complianceID || e.StatusID != tc.findingID || e.SeverityID != tc.severityID || e.Cloud.Provider != tc.provider || len(e.Resources) != tc.resources {
				t.Errorf("compliance status %d, finding status %d, severity %d, provider %s, %d resources", e.Compliance.StatusID, e.StatusID, e.SeverityID, e.Cloud.Provider, len(e.Resources))
			}
			if e.Compliance.Control != tc.r.ControlID || e.Compliance.Standards[0] != cis || e.Compliance.StatusCode != string(tc.r.Status) {
				t.Errorf("compliance %+v", e.Compliance)
			}
			if e.Metadata.Version != "1.8.0" || e.Metadata.Product.Name != "Lacework" || e.Metadata.Transformations[0].Product.Name != "evidence" {
				t.Errorf("metadata %+v", e.Metadata)
			}
			if e.FindingInfo.UIDAlt != tc.r.RowID {
				t.Errorf("finding uid_alt %s, want the row id", e.FindingInfo.UIDAlt)
			}
			want := tc.r.ReportTime
			if want.IsZero() {
				want = src.GeneratedAt
			}
			if e.Time != want.UnixMilli() {
				t.Errorf("time %d, want %d", e.Time, want.UnixMilli())
			}
			if tc.resources == 1 && (e.Resources[0].UID != tc.r.Resource || e.Resources[0].Region != tc.r.Region) {
				t.Errorf("resource %+v", e.Resources[0])
			}
		})
	}
}

// TestCheckerCatches: events broken in ways the class forbids fail the
// checker (so a passing event means something).
func TestCheckerCatches(t *testing.T) {
	s := loadSchema(t)
	good, err := NewEvent(src, results[1].r)
	if err != nil {
		t.Fatal(err)
	}
	asMapEvent := func() map[string]any {
		b, _ := json.Marshal(good)
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	cases := []struct {
		name   string
		break_ func(m map[string]any)
		want   string
	}{
		{"no compliance", func(m map[string]any) { delete(m, "compliance") }, "required attribute compliance"},
		{"no cloud", func(m map[string]any) { delete(m, "cloud") }, "required attribute cloud"},
		{"no finding uid", func(m map[string]any) { delete(m["finding_info"].(map[string]any), "uid") }, "finding_info: required attribute uid"},
		{"no product", func(m map[string]any) { delete(m["metadata"].(map[string]any), "product") }, "required attribute product"},
		{"no provider", func(m map[string]any) { delete(m["cloud"].(map[string]any), "provider") }, "required attribute provider"},
		{"time as a string", func(m map[string]any) { m["time"] = "2026-11-21" }, "time: 2026-11-21 is not a number"},
		{"time in seconds", func(m map[string]any) { m["time"] = 1_790_000_000 }, "not a time in milliseconds"},
		{"unknown attribute", func(m map[string]any) { m["compliance"].(map[string]any)["framework"] = "x" }, "compliance.framework: not an attribute"},
		{"standards not a list", func(m map[string]any) { m["compliance"].(map[string]any)["standards"] = "x" }, "not an array"},
		{"unknown severity id", func(m map[string]any) { m["severity_id"] = 7 }, "7 is not one of"},
		{"sibling not the caption", func(m map[string]any) { m["severity"] = "Low" }, "caption of 5"},
		{"compliance status out of the enum", func(m map[string]any) { m["compliance"].(map[string]any)["status_id"] = 4 }, "4 is not one of"},
		{"wrong class", func(m map[string]any) { m["class_uid"] = 2004 }, "class_uid 2004"},
		{"type_uid not class×100+activity", func(m map[string]any) { m["type_uid"] = 200300 }, "type_uid 200300"},
		{"deprecated resource", func(m map[string]any) { m["resource"] = map[string]any{"uid": "x"} }, "resource: deprecated"},
		{"resource without name or uid", func(m map[string]any) { m["resources"] = []any{map[string]any{"type": "x"}} }, "at_least_one"},
		{"account type id an integer", func(m map[string]any) { m["cloud"].(map[string]any)["account"].(map[string]any)["type_id"] = 1.5 }, "not an integer"},
	}
	if p := s.check(t, asMapEvent()); len(p) > 0 {
		t.Fatalf("the good event fails: %v", p)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := asMapEvent()
			tc.break_(m)
			probs := s.check(t, m)
			if !strings.Contains(strings.Join(probs, "\n"), tc.want) {
				t.Errorf("problems %q, want one with %q", probs, tc.want)
			}
		})
	}
}

// TestStableIDs: the finding uid is the same in every pack for the same
// (control, resource) and differs between resources; the event uid is the
// pack's.
func TestStableIDs(t *testing.T) {
	r := results[1].r
	a, _ := NewEvent(src, r)
	other := src
	other.PackID = "20261123T021500Z-bbbbbb"
	b, _ := NewEvent(other, r)
	r2 := r
	r2.Resource = "arn:aws:s3:::c"
	c, _ := NewEvent(src, r2)
	if a.FindingInfo.UID != b.FindingInfo.UID || a.FindingInfo.UID == c.FindingInfo.UID {
		t.Errorf("finding uids %s %s %s", a.FindingInfo.UID, b.FindingInfo.UID, c.FindingInfo.UID)
	}
	if a.Metadata.UID == b.Metadata.UID {
		t.Errorf("two packs' events share uid %s", a.Metadata.UID)
	}
}

func TestNewEventRefuses(t *testing.T) {
	for name, r := range map[string]Result{
		"unknown status":          with(func(r *Result) { r.Status = "Passed" }),
		"compliant with resource": with(func(r *Result) { r.Resource = "x" }),
		"no row id":               with(func(r *Result) { r.RowID = "" }),
		"no control":              with(func(r *Result) { r.ControlID = "" }),
	} {
		if _, err := NewEvent(src, r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewEvent(Source{}, base()); err == nil {
		t.Error("empty source: no error")
	}
}

func TestSecurityLakeKey(t *testing.T) {
	at := time.Date(2026, 11, 21, 23, 30, 0, 0, time.FixedZone("x", -5*3600)) // 2026-11-22 in UTC
	cases := []struct {
		region, account, file, want, err string
	}{
		{"us-east-1", "123456789012", "evidence-20261122T021500Z.parquet", "region=us-east-1/accountId=123456789012/eventDay=20261122/evidence-20261122T021500Z.parquet", ""},
		{"eu-west-1", "000000000001", "a.parquet", "region=eu-west-1/accountId=000000000001/eventDay=20261122/a.parquet", ""},
		{"US East", "123456789012", "a.parquet", "", "Region"},
		{"us-east-1", "proj-1", "a.parquet", "", "12-digit"},
		{"us-east-1", "123456789012", "../a.parquet", "", "plain"},
		{"us-east-1", "123456789012", "a.json", "", "plain"},
	}
	for _, tc := range cases {
		got, err := SecurityLakeKey(tc.region, tc.account, at, tc.file)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("SecurityLakeKey(%q, %q, %q) = %q, %v; want %q, %q", tc.region, tc.account, tc.file, got, err, tc.want, tc.err)
		}
	}
}

// events makes n events: resources and control-level results mixed.
func events(t testing.TB, n int) []Event {
	var es []Event
	for i := range n {
		tc := results[i%len(results)]
		r := tc.r
		r.RowID = fmt.Sprintf("%032x", i)
		if r.Resource != "" {
			r.Resource = fmt.Sprintf("%s-%d", r.Resource, i)
		}
		e, err := NewEvent(src, r)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

func writeParquet(t testing.TB, es []Event, o WriterOptions) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf, o)
	for _, e := range es {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Events() != int64(len(es)) {
		t.Fatalf("Events() = %d", w.Events())
	}
	return buf.Bytes()
}

// TestParquetNested: the file's schema has OCSF's objects as groups and
// arrays as LISTs, and parquet-go reads back the same events.
func TestParquetNested(t *testing.T) {
	es := events(t, 1000)
	b := writeParquet(t, es, WriterOptions{RowGroupRows: 300, CreatedBy: "evidence version 1.4.0", Metadata: map[string]string{"pack_id": src.PackID}})
	f, err := pq.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if g := len(f.RowGroups()); g != 4 {
		t.Errorf("%d row groups, want 4", g)
	}
	sch := f.Schema()
	for _, tc := range []struct {
		path  []string
		group bool
		list  bool
	}{
		{[]string{"metadata", "product", "name"}, false, false},
		{[]string{"cloud", "account"}, true, false},
		{[]string{"compliance"}, true, false},
		{[]string{"compliance", "standards"}, true, true},
		{[]string{"resources"}, true, true},
		{[]string{"finding_info", "uid"}, false, false},
	} {
		var node pq.Node = sch
		for _, p := range tc.path {
			var next pq.Node
			for _, fl := range node.Fields() {
				if fl.Name() == p {
					next = fl
				}
			}
			if next == nil {
				t.Fatalf("no column %v in\n%s", tc.path, sch)
			}
			node = next
		}
		isList := node.Type().LogicalType() != nil && node.Type().LogicalType().String() == "LIST"
		if node.Leaf() == tc.group || isList != tc.list {
			t.Errorf("%v: leaf %v list %v", tc.path, node.Leaf(), isList)
		}
	}
	got := make([]Event, len(es))
	r := pq.NewGenericReader[Event](bytes.NewReader(b))
	n, err := r.Read(got)
	if n != len(es) {
		t.Fatalf("read %d of %d: %v", n, len(es), err)
	}
	for i := range es {
		a, _ := json.Marshal(es[i])
		g, _ := json.Marshal(got[i])
		if !bytes.Equal(a, g) {
			t.Fatalf("event %d:\n%s\nread back as\n%s", i, a, g)
		}
	}
	if err := NewWriter(&bytes.Buffer{}, WriterOptions{}).Write(Event{ClassUID: 2004}); err == nil {
		t.Error("an event of another class was accepted")
	}
}

// TestDuckDBReads: DuckDB, an independent reader, sees the events as
// nested structs and lists with the values written. Without DuckDB the
// test fails in CI and is skipped, loudly, elsewhere.
func TestDuckDBReads(t *testing.T) {
	es := events(t, 500)
	path := filepath.Join(t.TempDir(), "compliance-finding.parquet")
	if err := os.WriteFile(path, writeParquet(t, es, WriterOptions{RowGroupRows: 128, Metadata: map[string]string{"pack_id": src.PackID}}), 0o644); err != nil {
		t.Fatal(err)
	}
	f := "'" + strings.ReplaceAll(path, "'", "''") + "'"
	var got struct {
		Describe []map[string]any    `json:"describe"`
		Counts   []map[string]any    `json:"counts"`
		ByStatus []map[string]any    `json:"byStatus"`
		Rows     []map[string]any    `json:"rows"`
		KV       []map[string]string `json:"kv"`
	}
	testtool.QueryDuckDB(t, "", "", map[string]string{
		"describe": "DESCRIBE SELECT * FROM " + f,
		"counts": "SELECT count(*) AS n, count(DISTINCT class_uid) AS classes, min(class_uid) AS class_uid, count(resources) AS with_resources, " +
			"sum(len(resources)) AS resources, count(DISTINCT finding_info.uid) AS findings FROM " + f,
		"byStatus": "SELECT compliance.status_id AS s, count(*) AS n FROM " + f + " GROUP BY ALL ORDER BY s",
		"rows": "SELECT finding_info.uid_alt AS row_id, time, severity_id, cloud.provider AS provider, cloud.account.uid AS account, " +
			"compliance.control AS control, compliance.standards[1] AS standard, resources[1].uid AS resource, resources[1].region AS region, " +
			"metadata.version AS version, metadata.product.name AS product FROM " + f + " ORDER BY row_id",
		"kv": "SELECT CAST(key AS VARCHAR) AS k, CAST(value AS VARCHAR) AS v FROM parquet_kv_metadata(" + f + ") ORDER BY k",
	}, &got)
	types := map[string]string{}
	for _, d := range got.Describe {
		types[fmt.Sprint(d["column_name"])] = fmt.Sprint(d["column_type"])
	}
	for col, prefix := range map[string]string{
		"time":         "BIGINT",
		"class_uid":    "INTEGER",
		"metadata":     `STRUCT("version" VARCHAR, uid VARCHAR, product STRUCT("name" VARCHAR, uid VARCHAR, vendor_name VARCHAR`,
		"cloud":        "STRUCT(provider VARCHAR, region VARCHAR, account STRUCT(uid VARCHAR",
		"compliance":   "STRUCT(standards VARCHAR[], requirements VARCHAR[], control VARCHAR",
		"resources":    "STRUCT(uid VARCHAR, \"name\" VARCHAR, \"type\" VARCHAR, region VARCHAR, provider VARCHAR)[]",
		"finding_info": "STRUCT(uid VARCHAR, uid_alt VARCHAR",
	} {
		if !strings.HasPrefix(types[col], prefix) {
			t.Errorf("column %s: %s, want %s…", col, types[col], prefix)
		}
	}

	wantStatus := map[string]int{}
	var withRes, findings int
	seen := map[string]bool{}
	for _, e := range es {
		wantStatus[fmt.Sprint(e.Compliance.StatusID)]++
		if len(e.Resources) > 0 {
			withRes++
		}
		if !seen[e.FindingInfo.UID] {
			seen[e.FindingInfo.UID] = true
			findings++
		}
	}
	c := got.Counts[0]
	if fmt.Sprintln(c["n"], c["classes"], c["class_uid"], c["with_resources"], c["resources"], c["findings"]) != fmt.Sprintln(len(es), 1, ClassUID, withRes, withRes, findings) {
		t.Errorf("counts %v; want %d events, %d with a resource, %d findings", c, len(es), withRes, findings)
	}
	for _, r := range got.ByStatus {
		if fmt.Sprint(r["n"]) != fmt.Sprint(wantStatus[fmt.Sprint(r["s"])]) {
			t.Errorf("compliance status %v: %v events, want %d", r["s"], r["n"], wantStatus[fmt.Sprint(r["s"])])
		}
	}
	if len(got.Rows) != len(es) {
		t.Fatalf("%d rows", len(got.Rows))
	}
	for i, r := range got.Rows { // row ids are %032x of i: sorted as written
		e := es[i]
		want := map[string]any{
			"row_id": e.FindingInfo.UIDAlt, "time": fmt.Sprint(e.Time), "severity_id": float64(e.SeverityID),
			"provider": e.Cloud.Provider, "account": e.Cloud.Account.UID, "control": e.Compliance.Control, "standard": cis,
			"version": Version, "product": "Lacework", "resource": nil, "region": nil,
		}
		if len(e.Resources) > 0 {
			want["resource"] = e.Resources[0].UID
			if e.Resources[0].Region != "" {
				want["region"] = e.Resources[0].Region
			}
		}
		for k, v := range want {
			if fmt.Sprint(r[k]) != fmt.Sprint(v) {
				t.Errorf("row %d %s: DuckDB reads %v, want %v", i, k, r[k], v)
			}
		}
	}
	kv := map[string]string{}
	for _, p := range got.KV {
		kv[p["k"]] = p["v"]
	}
	if kv["ocsf.version"] != Version || kv["ocsf.class_uid"] != "2003" || kv["pack_id"] != src.PackID {
		t.Errorf("footer metadata %v", kv)
	}
}
