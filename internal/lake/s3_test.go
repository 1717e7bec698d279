package lake

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evidence-pack/evidence/internal/dataset"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/storage/s3"
	"github.com/evidence-pack/evidence/internal/storage/s3/s3test"
)

// TestExportToS3Lake exports into a lake on a real S3-compatible server
// (versitygw) under a bucket prefix. The objects land under their keys and
// the DDL names the s3:// locations. A mismatched file leaves no object
// behind, not even an unfinished upload. A re-export writes nothing, and
// the DDL is replaced when the lake gains tables.
func TestExportToS3Lake(t *testing.T) {
	if testing.Short() {
		t.Skip("S3 server")
	}
	gw := s3test.Start(t)
	bucket := gw.Bucket(t, false)
	ctx := context.Background()
	st, err := s3.New(ctx, s3.Config{Bucket: bucket, Prefix: "lake", Endpoint: gw.Endpoint, PathStyle: true, Region: s3test.Region, Credentials: gw.Creds()})
	if err != nil {
		t.Fatal(err)
	}
	lake := Lake{Store: st, Location: "s3://" + bucket + "/lake"}
	packs := memstore.New()
	objectNames := func() []string {
		t.Helper()
		var names []string
		p := s3sdk.NewListObjectsV2Paginator(gw.Client, &s3sdk.ListObjectsV2Input{Bucket: &bucket})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Contents {
				names = append(names, aws.ToString(o.Key))
			}
		}
		return names
	}

	// A first pack with audit logs only: one DuckDB view.
	small := samplePack("acme", "20261121T010101Z-aaaaaa", day, 1)
	small.files = slices.DeleteFunc(small.files, func(f testFile) bool { return f.table.Name != "audit_logs" })
	res, err := Export(ctx, packs, publish(t, packs, small), lake)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(read(t, st, "_ddl/duckdb.sql")), "CREATE OR REPLACE VIEW"); n != 1 {
		t.Errorf("%d views after the first export, want 1", n)
	}

	// A full pack: every object under lake/, the DDL replaced.
	full := samplePack("acme", "20261121T020202Z-bbbbbb", day, 2)
	fullPrefix := publish(t, packs, full)
	res, err = Export(ctx, packs, fullPrefix, lake)
	if err != nil {
		t.Fatal(err)
	}
	names := objectNames()
	for _, f := range full.files {
		if !slices.Contains(names, "lake/"+lakeKeyOf(full, f)) {
			t.Errorf("lake/%s not in the bucket: %v", lakeKeyOf(full, f), names)
		}
	}
	if want := len(small.files) + len(full.files) + 2; len(names) != want {
		t.Errorf("%d objects in the bucket, want %d: %v", len(names), want, names)
	}
	athena := string(read(t, st, "_ddl/athena.sql"))
	if !strings.Contains(athena, "LOCATION 's3://"+bucket+"/lake/evaluations/';") || athena != res.DDL.Athena {
		t.Errorf("athena.sql:\n%s", athena)
	}
	duck := string(read(t, st, "_ddl/duckdb.sql"))
	if n := strings.Count(duck, "CREATE OR REPLACE VIEW"); n != len(dataset.All()) || !strings.Contains(duck, "'s3://"+bucket+"/lake/controls/**/*.parquet'") {
		t.Errorf("duckdb.sql was not replaced:\n%s", duck)
	}

	// Re-export: nothing written.
	counting := &countingStore{Store: st}
	again := lake
	again.Store = counting
	res, err = Export(ctx, packs, fullPrefix, again)
	if err != nil || res.Copied() != 0 || counting.writes.Load() != 0 {
		t.Errorf("re-export: err %v, copied %d, %d writes", err, res.Copied(), counting.writes.Load())
	}

	// A mismatch: no object, no upload left.
	bad := samplePack("acme", "20261121T030303Z-cccccc", day, 3)
	badPrefix := publish(t, packs, bad)
	replaceObject(t, packs, badPrefix+"/"+bad.files[0].path, func(b []byte) []byte { b[10] ^= 0xff; return b })
	before := objectNames()
	if _, err := Export(ctx, packs, badPrefix, lake); !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	if after := objectNames(); !slices.Equal(before, after) {
		t.Errorf("objects changed:\n%v\n%v", before, after)
	}
	up, err := gw.Client.ListMultipartUploads(ctx, &s3sdk.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.Uploads) != 0 {
		t.Errorf("%d unfinished uploads", len(up.Uploads))
	}
}
