package lake

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/storage/s3/s3test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	os.Exit(code)
}

var day = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

const sum0 = "0000000000000000000000000000000000000000000000000000000000000000"

func TestPlan(t *testing.T) {
	manifest := func(id string, paths ...string) pack.Manifest {
		m := pack.Manifest{PackID: id, Tenant: "Acme Corp", Period: pack.Period{From: day.Add(5 * time.Hour), To: day.Add(48 * time.Hour)}}
		for _, p := range paths {
			m.Files = append(m.Files, pack.File{Path: p, Size: 1, SHA256: sum0})
		}
		return m
	}
	const run = "20261121T030405Z-3f9a1c"
	tests := []struct {
		name   string
		m      pack.Manifest
		prefix string
		want   []string // lake keys
		err    bool
	}{
		{"every folder of a pack", manifest(run,
			"SHA256SUMS", "summary.pdf", "frameworks/CIS/evidence.xlsx",
			"parquet/audit_logs/account=acme/part-00000.parquet",
			"parquet/controls/framework=CIS_1.4/account=acme-prod/part-00000.parquet",
			"parquet/evaluations/dataset=AwsCompliance/account=acme/part-00000.parquet",
			"parquet/inventory/csp=AWS/account=acme/part-00003.parquet",
		), "", []string{
			"audit_logs/dt=2026-11-21/tenant=Acme_Corp/account=acme/" + run + ".parquet",
			"controls/dt=2026-11-21/tenant=Acme_Corp/account=acme-prod/" + run + "_framework-CIS_1.4.parquet",
			"evaluations/dt=2026-11-21/tenant=Acme_Corp/account=acme/" + run + "_dataset-AwsCompliance.parquet",
			"inventory/dt=2026-11-21/tenant=Acme_Corp/account=acme/" + run + "_csp-AWS_part-00003.parquet",
		}, false},
		{"under a prefix, shard run id", manifest(run+"-shard1of4", "parquet/violations/framework=X/account=a=b/part-00000.parquet"), "lake/v1",
			[]string{"lake/v1/violations/dt=2026-11-21/tenant=Acme_Corp/account=a_b/" + run + "-shard1of4_framework-X.parquet"}, false},
		{"no parquet files", manifest(run, "summary.pdf"), "", nil, false},
		{"no account folder", manifest(run, "parquet/controls/framework=X/part-00000.parquet"), "", nil, true},
		{"two account folders", manifest(run, "parquet/controls/account=a/account=b/part-00000.parquet"), "", nil, true},
		{"lake key as folder", manifest(run, "parquet/controls/tenant=x/account=a/part-00000.parquet"), "", nil, true},
		{"not a dataset table", manifest(run, "parquet/secrets/account=a/part-00000.parquet"), "", nil, true},
		{"not parquet", manifest(run, "parquet/controls/account=a/part-00000.csv"), "", nil, true},
		{"too short", manifest(run, "parquet/x.parquet"), "", nil, true},
		{"two files, one key", manifest(run, "parquet/controls/f=a-b/account=a/part-00000.parquet", "parquet/controls/f=a=b/account=a/part-00000.parquet"), "", nil, true},
		{"run id with _", manifest("run_1", "parquet/controls/account=a/part-00000.parquet"), "", nil, true},
		{"no period", pack.Manifest{PackID: run, Tenant: "t"}, "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Plan(tc.m, tc.prefix)
			if tc.err {
				if !errors.Is(err, ErrLayout) {
					t.Fatalf("err = %v, want ErrLayout", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.Key)
				if err := storage.CleanKey(o.Key); err != nil {
					t.Error(err)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("keys\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestExport exports a real pack into a local lake: every Parquet file is
// there, byte for byte, under its lake key, and the DDL files hold what
// Export returned.
func TestExport(t *testing.T) {
	ctx := context.Background()
	packs := newLocal(t)
	p := samplePack("acme", "20261121T030405Z-aaaaaa", day, 1)
	prefix := publish(t, packs, p)
	lake := localLake(t)

	res, err := Export(ctx, packs, prefix, lake)
	if err != nil {
		t.Fatal(err)
	}
	if res.PackID != p.runID || len(res.Objects) != len(p.files) || res.Copied() != len(p.files) {
		t.Fatalf("result %+v", res)
	}
	for i, f := range p.files {
		o := res.Objects[i]
		if o.Key != lakeKeyOf(p, f) || o.Path != f.path || o.Rows == nil || *o.Rows != int64(len(f.rows)) || o.Existed {
			t.Errorf("object %d: %+v, want key %s", i, o, lakeKeyOf(p, f))
		}
		if !bytes.Equal(read(t, lake.Store, o.Key), read(t, packs, prefix+"/"+f.path)) {
			t.Errorf("%s differs from %s", o.Key, f.path)
		}
	}
	want := len(p.files) + 2 // and _ddl/athena.sql, _ddl/duckdb.sql
	if got := listing(t, lake.Store, ""); len(got) != want {
		t.Errorf("lake holds %d objects, want %d: %v", len(got), want, got)
	}
	if len(res.DDLKeys) != 2 || string(read(t, lake.Store, "_ddl/athena.sql")) != res.DDL.Athena || string(read(t, lake.Store, "_ddl/duckdb.sql")) != res.DDL.DuckDB {
		t.Errorf("DDL files differ from the result (keys %v)", res.DDLKeys)
	}
	// The pack is untouched and still verifies.
	rep, err := pack.Verify(ctx, packs, prefix)
	if err != nil || !rep.OK() {
		t.Fatalf("pack after export: %v\n%s", err, rep.String())
	}
}

// TestExportTwiceIsNoOp: a second export of the same run writes nothing and
// reports every object as already there.
func TestExportTwiceIsNoOp(t *testing.T) {
	ctx := context.Background()
	packs := newLocal(t)
	p := samplePack("acme", "20261121T030405Z-aaaaaa", day, 1)
	prefix := publish(t, packs, p)
	lake := localLake(t)
	if _, err := Export(ctx, packs, prefix, lake); err != nil {
		t.Fatal(err)
	}
	before := listing(t, lake.Store, "")

	counting := &countingStore{Store: lake.Store}
	lake.Store = counting
	res, err := Export(ctx, packs, prefix, lake)
	if err != nil {
		t.Fatal(err)
	}
	if n := counting.writes.Load(); n != 0 {
		t.Errorf("second export wrote %d times", n)
	}
	if res.Copied() != 0 || len(res.Objects) != len(p.files) {
		t.Errorf("second export copied %d of %d", res.Copied(), len(res.Objects))
	}
	for _, o := range res.Objects {
		if !o.Existed {
			t.Errorf("%s not reported as already there", o.Key)
		}
	}
	if after := listing(t, lake.Store, ""); !equalMaps(before, after) {
		t.Errorf("lake changed:\n%v\n%v", before, after)
	}
}

// TestExportChecksumMismatch: a pack file that no longer matches its
// manifest fails the export with ErrChecksum and leaves nothing under its
// lake key. What was exported before stays: the files of an earlier run,
// and the files of this run copied before the bad one (verified).
func TestExportChecksumMismatch(t *testing.T) {
	tests := []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"a byte flipped", func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }},
		{"a byte appended", func(b []byte) []byte { return append(b, 0) }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"emptied", func([]byte) []byte { return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			packs := newLocal(t)
			lake := localLake(t)
			good := samplePack("acme", "20261121T010101Z-aaaaaa", day, 1)
			if _, err := Export(ctx, packs, publish(t, packs, good), lake); err != nil {
				t.Fatal(err)
			}
			before := listing(t, lake.Store, "")

			bad := samplePack("acme", "20261121T020202Z-bbbbbb", day, 2)
			prefix := publish(t, packs, bad)
			const broken = 4 // files before it are copied first
			replaceObject(t, packs, prefix+"/"+bad.files[broken].path, tc.mutate)

			res, err := Export(ctx, packs, prefix, lake)
			if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), bad.files[broken].path) {
				t.Fatalf("err = %v, want ErrChecksum naming %s", err, bad.files[broken].path)
			}
			after := listing(t, lake.Store, "")
			for k, size := range before {
				if after[k] != size {
					t.Errorf("%s: %d bytes before, %d after", k, size, after[k])
				}
			}
			if _, ok := after[lakeKeyOf(bad, bad.files[broken])]; ok {
				t.Errorf("the mismatched file is in the lake")
			}
			if len(res.Objects) != broken {
				t.Errorf("result lists %d objects, want the %d copied before the mismatch", len(res.Objects), broken)
			}
			for _, f := range bad.files[:broken] {
				if !bytes.Equal(read(t, lake.Store, lakeKeyOf(bad, f)), read(t, packs, prefix+"/"+f.path)) {
					t.Errorf("%s: not copied whole", f.path)
				}
			}
			if n := len(after) - len(before); n != broken {
				t.Errorf("%d new objects, want %d", n, broken)
			}
			noTempFiles(t, lake.Location)
		})
	}
}

// TestExportConflict: the lake never overwrites a different object.
func TestExportConflict(t *testing.T) {
	ctx := context.Background()
	packs := newLocal(t)
	lake := localLake(t)
	p := samplePack("acme", "20261121T030405Z-aaaaaa", day, 1)
	prefix := publish(t, packs, p)
	key := lakeKeyOf(p, p.files[0])
	if _, err := lake.Store.Put(ctx, key, strings.NewReader("other"), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Export(ctx, packs, prefix, lake); !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if got := string(read(t, lake.Store, key)); got != "other" {
		t.Fatalf("%s was overwritten", key)
	}
}

// TestExportUnpublished: a pack without manifest.json is not exported.
func TestExportUnpublished(t *testing.T) {
	ctx := context.Background()
	packs := memstore.New()
	lake := localLake(t)
	p := samplePack("acme", "20261121T030405Z-aaaaaa", day, 1)
	prefix := publish(t, packs, p)
	if err := packs.Delete(ctx, prefix+"/"+pack.ManifestName); err != nil {
		t.Fatal(err)
	}
	if _, err := Export(ctx, packs, prefix, lake); !errors.Is(err, ErrNotPublished) {
		t.Fatalf("err = %v, want ErrNotPublished", err)
	}
	if got := listing(t, lake.Store, ""); len(got) != 0 {
		t.Fatalf("lake holds %v", got)
	}
}

// TestExportTwoRunsCoexist: two runs of one day, and a run of another
// tenant, sit side by side; the DDL names every table once.
func TestExportTwoRunsCoexist(t *testing.T) {
	ctx := context.Background()
	packs := memstore.New()
	lake := localLake(t)
	lake.Prefix = "lake"
	var keys []string
	for i, p := range []testPack{
		samplePack("acme", "20261121T010101Z-aaaaaa", day, 1),
		samplePack("acme", "20261121T020202Z-bbbbbb", day, 2),
		samplePack("globex", "20261122T010101Z-cccccc", day.Add(24*time.Hour), 3),
	} {
		res, err := Export(ctx, packs, publish(t, packs, p), lake)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		for _, o := range res.Objects {
			keys = append(keys, o.Key)
		}
	}
	got := listing(t, lake.Store, "lake/")
	for _, k := range keys {
		if _, ok := got[k]; !ok {
			t.Errorf("%s is missing", k)
		}
	}
	if len(got) != len(keys)+2 {
		t.Errorf("lake holds %d objects, want %d", len(got), len(keys)+2)
	}
	ddl := string(read(t, lake.Store, "lake/_ddl/duckdb.sql"))
	if n, want := strings.Count(ddl, "CREATE OR REPLACE VIEW"), len(dataset.All()); n != want { // the sample pack has every table
		t.Errorf("%d views, want %d:\n%s", n, want, ddl)
	}
	if !strings.Contains(ddl, "'"+lake.Location+"/lake/controls/**/*.parquet'") {
		t.Errorf("duckdb.sql does not read the lake under its prefix:\n%s", ddl)
	}
}

// TestDDLOnlyForPresentTables: DuckDB views exist only for tables with
// files (a view over an empty glob fails), Athena tables for all.
func TestDDLOnlyForPresentTables(t *testing.T) {
	ctx := context.Background()
	packs := memstore.New()
	lake := localLake(t)
	p := samplePack("acme", "20261121T010101Z-aaaaaa", day, 1)
	var keep []testFile
	for _, f := range p.files {
		if f.table.Name == "audit_logs" {
			keep = append(keep, f)
		}
	}
	p.files = keep
	res, err := Export(ctx, packs, publish(t, packs, p), lake)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(res.DDL.DuckDB, "CREATE OR REPLACE VIEW"); n != 1 || !strings.Contains(res.DDL.DuckDB, `VIEW "audit_logs"`) {
		t.Errorf("duckdb.sql:\n%s", res.DDL.DuckDB)
	}
	if n, want := strings.Count(res.DDL.Athena, "CREATE EXTERNAL TABLE"), len(dataset.All()); n != want {
		t.Errorf("%d Athena tables, want %d", n, want)
	}
}

func equalMaps(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// noTempFiles fails if a store's temporary file is left under dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}
