package lake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/ocsf"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/storage/s3"
	"github.com/evidence-pack/evidence/internal/storage/s3/s3test"
)

const (
	slRegion = "eu-central-1"
	slOwner  = "999999999999" // the AWS account that owns the lake
	awsAcct  = "123456789012"
	azureSub = "9f1a6c1e-0000-4000-8000-000000000001"
	gcpProj  = "acme-proj-a"
	fwCIS    = "CIS Benchmark 1.4"
)

// resultsPack is a pack with real controls and violations rows: an AWS
// account, an Azure subscription and a GCP project (assessed the day
// before), every status, controls with and without violations rows.
func resultsPack(runID string) (testPack, map[string]string) {
	at := day.Add(3 * time.Hour)
	sc := dataset.Scope{Source: "lacework", Tenant: "acme", SubAccount: "acme prod"}
	type ctl struct {
		cloud, acct, id string
		st              dataset.Status
		violations      []string // regions of the violating resources
		when            time.Time
	}
	ctls := []ctl{
		{"AWS", awsAcct, "1.1", dataset.Compliant, nil, at},
		{"AWS", awsAcct, "1.2", dataset.NonCompliant, []string{"us-east-1", "eu-west-1"}, at},
		{"AWS", awsAcct, "1.3", dataset.Suppressed, []string{"us-east-1"}, at},
		{"AWS", awsAcct, "1.4", dataset.NonCompliant, nil, at}, // violations not listed
		{"Azure", azureSub, "2.1", dataset.NonCompliant, []string{"westeurope"}, at},
		{"Azure", azureSub, "2.2", dataset.Manual, nil, at},
		{"GCP", gcpProj, "3.1", dataset.CouldNotAssess, nil, at.Add(-24 * time.Hour)},
		{"GCP", gcpProj, "3.2", dataset.NonCompliant, []string{"europe-west1"}, at.Add(-24 * time.Hour)},
	}
	// The partition each event should land in, by row_id.
	where := map[string]string{}
	part := func(c ctl) string {
		acct := slOwner
		if c.cloud == "AWS" {
			acct = c.acct
		}
		return fmt.Sprintf("region=%s/accountId=%s/eventDay=%s", slRegion, acct, c.when.Format("20060102"))
	}
	var cRows, vRows []dataset.Row
	for _, c := range ctls {
		dc := dataset.Control{Framework: fwCIS, Cloud: c.cloud, AccountID: c.acct, ReportTime: c.when, ControlID: c.id, Title: "Control " + c.id,
			Requirement: "Req " + c.id[:1], Severity: "High", SeverityLevel: 2, Status: c.st, Assessed: 5, Violating: int64(len(c.violations))}
		cRows = append(cRows, dc.Row(sc))
		if len(c.violations) == 0 {
			where[dc.RowID(sc)] = part(c)
		}
		for i, region := range c.violations {
			dv := dataset.Violation{Framework: fwCIS, Cloud: c.cloud, AccountID: c.acct, ControlID: c.id, Region: region,
				Resource: fmt.Sprintf("res-%s-%d", c.id, i), Reasons: []string{"open", "unencrypted"}}
			vRows = append(vRows, dv.Row(sc))
			where[dv.RowID(sc)] = part(c)
		}
	}
	name := pack.ParquetName("framework="+fwCIS, "")
	sub := "acme_prod"
	p := testPack{tenant: "acme", runID: runID, day: day, files: []testFile{
		{path: pack.ParquetFile{Table: dataset.Controls, SubAccount: sub, Name: name}.Path(), table: dataset.ControlsTable(), sub: sub, rows: cRows},
		{path: pack.ParquetFile{Table: dataset.Violations, SubAccount: sub, Name: name}.Path(), table: dataset.ViolationsTable(), sub: sub, rows: vRows},
	}}
	return p, where
}

func slTarget(st storage.Store) SecurityLake {
	return SecurityLake{Store: st, Region: slRegion, AccountID: slOwner}
}

// readEvents reads a Security Lake object back as OCSF events.
func readEvents(t *testing.T, st storage.Store, key string) []ocsf.Event {
	t.Helper()
	b := read(t, st, key)
	evs, err := pq.Read[ocsf.Event](strings.NewReader(string(b)), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return evs
}

// Every violations row and every controls row without violations becomes
// exactly one event, in the partition of its account (an AWS account's
// own; the lake owner's for Azure and GCP, whose event keeps its
// subscription or project) and its report's day, under the lake's Region.
func TestSecurityLakeLayout(t *testing.T) {
	ctx := context.Background()
	packs := memstore.New()
	p, where := resultsPack("20261122T021500Z-3f9a1c")
	prefix := publish(t, packs, p)
	st := newLocal(t)
	to := slTarget(st)
	to.TempDir = t.TempDir()
	res, err := ExportSecurityLake(ctx, packs, prefix, to)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events() != int64(len(where)) {
		t.Errorf("%d events, want %d (violations rows + controls without any)", res.Events(), len(where))
	}
	seen := map[string]bool{}
	for _, o := range res.Objects {
		dir, file := o.Key[:strings.LastIndex(o.Key, "/")], o.Key[strings.LastIndex(o.Key, "/")+1:]
		if want := "20261122T021500Z-3f9a1c_acme_prod_framework-CIS_Benchmark_1.4.parquet"; file != want {
			t.Errorf("file %s, want %s", file, want)
		}
		evs := readEvents(t, st, o.Key)
		if int64(len(evs)) != o.Events {
			t.Errorf("%s: %d events, the result says %d", o.Key, len(evs), o.Events)
		}
		for _, e := range evs {
			id := e.FindingInfo.UIDAlt
			if seen[id] {
				t.Errorf("row %s: two events", id)
			}
			seen[id] = true
			if where[id] != dir {
				t.Errorf("row %s (%s %s) is under %s, want %s", id, e.Cloud.Provider, e.Cloud.Account.UID, dir, where[id])
			}
			if want := "Req " + e.Compliance.Control[:1]; !slices.Equal(e.Compliance.Requirements, []string{want}) {
				t.Errorf("event %s: requirements %q, want %q", id, e.Compliance.Requirements, want)
			}
			if e.ClassUID != ocsf.ClassUID || e.Metadata.Version != ocsf.Version {
				t.Errorf("event %s: class %d, version %s", id, e.ClassUID, e.Metadata.Version)
			}
		}
	}
	for id := range where {
		if !seen[id] {
			t.Errorf("row %s has no event", id)
		}
	}
	if len(res.Objects) != 3 { // the AWS account; the owner's for Azure (that day) and GCP (the day before)
		t.Errorf("%d objects: %+v", len(res.Objects), res.Objects)
	}
	if left, _ := os.ReadDir(to.TempDir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// DuckDB reads the layout's partitions as Security Lake's crawler
	// would (Hive key=value folders).
	sql := filepath.Join(t.TempDir(), "views.sql")
	if err := os.WriteFile(sql, []byte(fmt.Sprintf("CREATE VIEW f AS SELECT * FROM read_parquet('%s/**/*.parquet', hive_partitioning = true, hive_types_autocast = false);\n", st.Root())), 0o644); err != nil {
		t.Fatal(err)
	}
	got := duckdb(t, sql, map[string]string{
		"parts": "SELECT region, accountId AS a, eventDay AS d, count(*) AS n FROM f GROUP BY ALL ORDER BY ALL",
		"azure": "SELECT count(*) AS n FROM f WHERE accountId = '" + slOwner + "' AND cloud.account.uid = '" + azureSub + "'",
	})
	want := map[string]int{}
	for _, dir := range where {
		want[dir]++
	}
	for _, r := range got["parts"] {
		k := fmt.Sprintf("region=%v/accountId=%v/eventDay=%v", r["region"], r["a"], r["d"])
		if fmt.Sprint(r["n"]) != fmt.Sprint(want[k]) {
			t.Errorf("DuckDB: %s holds %v events, want %d", k, r["n"], want[k])
		}
		delete(want, k)
	}
	if len(want) > 0 {
		t.Errorf("DuckDB sees no events in %v", want)
	}
	if n := fmt.Sprint(got["azure"][0]["n"]); n != "2" {
		t.Errorf("DuckDB: %s Azure events under the owner's account, want 2", n)
	}
}

// A second export writes nothing; an object that differs is never
// overwritten (ErrConflict); a pack file that does not match its manifest
// writes nothing (ErrChecksum); the lake's region and account are required.
func TestSecurityLakeNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	packs := memstore.New()
	p, _ := resultsPack("20261122T021500Z-3f9a1c")
	prefix := publish(t, packs, p)
	lakeStore := memstore.New()
	first, err := ExportSecurityLake(ctx, packs, prefix, slTarget(lakeStore))
	if err != nil || first.Written() != len(first.Objects) {
		t.Fatalf("first export: %v, wrote %d of %d", err, first.Written(), len(first.Objects))
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) (lake, packs storage.Store, prefix string)
		check func(t *testing.T, res SecurityLakeResult, err error, writes int64)
	}{
		{"re-export", func(t *testing.T) (storage.Store, storage.Store, string) { return lakeStore, packs, prefix },
			func(t *testing.T, res SecurityLakeResult, err error, writes int64) {
				if err != nil || res.Written() != 0 || writes != 0 || len(res.Objects) != len(first.Objects) {
					t.Errorf("err %v, wrote %d objects (%d writes) of %d", err, res.Written(), writes, len(res.Objects))
				}
			}},
		{"conflict", func(t *testing.T) (storage.Store, storage.Store, string) {
			s := memstore.New()
			if _, err := s.Put(ctx, first.Objects[0].Key, strings.NewReader("other bytes"), storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			return s, packs, prefix
		}, func(t *testing.T, res SecurityLakeResult, err error, writes int64) {
			if !errors.Is(err, ErrConflict) || writes != 0 {
				t.Errorf("err %v after %d writes, want ErrConflict and none", err, writes)
			}
		}},
		{"checksum", func(t *testing.T) (storage.Store, storage.Store, string) {
			bad := memstore.New()
			pre := publish(t, bad, p)
			replaceObject(t, bad, pre+"/"+p.files[1].path, func(b []byte) []byte { b[20] ^= 0xff; return b })
			return memstore.New(), bad, pre
		}, func(t *testing.T, res SecurityLakeResult, err error, writes int64) {
			if !errors.Is(err, ErrChecksum) || writes != 0 {
				t.Errorf("err %v after %d writes, want ErrChecksum and none", err, writes)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, from, pre := tc.setup(t)
			counting := &countingStore{Store: st}
			res, err := ExportSecurityLake(ctx, from, pre, slTarget(counting))
			tc.check(t, res, err, counting.writes.Load())
		})
	}
	if _, err := ExportSecurityLake(ctx, packs, prefix, SecurityLake{Store: lakeStore}); err == nil {
		t.Error("an export without region and account id was accepted")
	}
}

// The layout on a real S3-compatible server (versitygw), under a custom
// source's prefix: the keys, the events read back, a second export that
// writes nothing.
func TestSecurityLakeOnS3(t *testing.T) {
	if testing.Short() {
		t.Skip("S3 server")
	}
	gw := s3test.Start(t)
	bucket := gw.Bucket(t, false)
	ctx := context.Background()
	st, err := s3.New(ctx, s3.Config{Bucket: bucket, Prefix: "ext/evidence", Endpoint: gw.Endpoint, PathStyle: true, Region: s3test.Region, Credentials: gw.Creds()})
	if err != nil {
		t.Fatal(err)
	}
	packs := memstore.New()
	p, where := resultsPack("20261122T021500Z-3f9a1c")
	prefix := publish(t, packs, p)
	res, err := ExportSecurityLake(ctx, packs, prefix, slTarget(st))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := st.List(ctx, "", func(o storage.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	var want []string
	var events int
	for _, o := range res.Objects {
		want = append(want, o.Key)
		events += len(readEvents(t, st, o.Key))
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) || len(keys) != 3 {
		t.Errorf("bucket holds %v, the export wrote %v", keys, want)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "region="+slRegion+"/accountId=") || !strings.Contains(k, "/eventDay=") {
			t.Errorf("key %s is not in the Security Lake layout", k)
		}
	}
	if events != len(where) {
		t.Errorf("%d events read back, want %d", events, len(where))
	}
	counting := &countingStore{Store: st}
	again, err := ExportSecurityLake(ctx, packs, prefix, slTarget(counting))
	if err != nil || again.Written() != 0 || counting.writes.Load() != 0 {
		t.Errorf("re-export: %v, wrote %d (%d writes)", err, again.Written(), counting.writes.Load())
	}
}
