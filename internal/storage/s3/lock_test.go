package s3_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/s3"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// Objects written with Object Lock carry the mode and a retain-until date
// RetainDays ahead; their versions cannot be deleted (governance without
// bypass, compliance at all); Store.Delete only adds a delete marker.
func TestObjectLock(t *testing.T) {
	g := startGateway(t)
	for _, mode := range []string{"GOVERNANCE", "COMPLIANCE"} {
		t.Run(mode, func(t *testing.T) {
			p := newProxy(t, g, nil)
			cfg := g.config(g.bucket(t, true))
			cfg.Endpoint = p.URL
			cfg.ObjectLockMode, cfg.RetainDays = mode, 3
			s := g.store(t, cfg)
			ctx := t.Context()
			for _, size := range []int64{100, 6 << 20} {
				key := fmt.Sprintf("locked/%d", size)
				before := time.Now()
				obj, err := s.Put(ctx, key, newGen(size, 5), storage.PutOptions{})
				if err != nil {
					t.Fatal(err)
				}
				name := s.ObjectName(key)
				head, err := g.client.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(s.Bucket()), Key: &name})
				if err != nil {
					t.Fatal(err)
				}
				until := aws.ToTime(head.ObjectLockRetainUntilDate)
				if string(head.ObjectLockMode) != mode || until.Before(before.Add(72*time.Hour-time.Minute)) || until.After(time.Now().Add(72*time.Hour+time.Minute)) {
					t.Errorf("%s: lock mode %q until %v, want %s for 3 days", key, head.ObjectLockMode, until, mode)
				}
				versions, err := g.client.ListObjectVersions(ctx, &s3sdk.ListObjectVersionsInput{Bucket: aws.String(s.Bucket()), Prefix: &name})
				if err != nil || len(versions.Versions) != 1 {
					t.Fatalf("ListObjectVersions = %v, %v", versions, err)
				}
				vid := versions.Versions[0].VersionId
				_, err = g.client.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(s.Bucket()), Key: &name, VersionId: vid})
				if err == nil {
					t.Fatalf("%s: deleting the locked version %s succeeded", key, aws.ToString(vid))
				}
				t.Logf("delete of a %s-locked version: %v", mode, err)
				if mode == "COMPLIANCE" {
					_, err = g.client.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(s.Bucket()), Key: &name, VersionId: vid, BypassGovernanceRetention: aws.Bool(true)})
					if err == nil {
						t.Fatalf("%s: deleting a compliance-locked version with the governance bypass succeeded", key)
					}
				}
				if got, _ := getSHA256(t, s, key); got != obj.SHA256 {
					t.Errorf("%s changed", key)
				}
				// Store.Delete hides it; the locked version stays.
				if err := s.Delete(ctx, key); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Get(ctx, key); !errors.Is(err, storage.ErrNotExist) {
					t.Errorf("Get after Delete = %v, want ErrNotExist", err)
				}
				out, err := g.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(s.Bucket()), Key: &name, VersionId: vid})
				if err != nil {
					t.Fatalf("the locked version is gone: %v", err)
				}
				out.Body.Close()
			}
			for _, r := range append(p.requests("PutObject"), p.requests("CreateMultipartUpload")...) {
				if r.Header.Get("X-Amz-Object-Lock-Mode") != mode || r.Header.Get("X-Amz-Object-Lock-Retain-Until-Date") == "" {
					t.Errorf("%s without the object lock headers: %v", r.op(), r.Header)
				}
			}
			// The multipart path: every part carries the checksum that
			// Object Lock requires.
			for _, r := range append(p.requests("UploadPart"), p.requests("PutObject")...) {
				if r.Header.Get("X-Amz-Checksum-Sha256") == "" {
					t.Errorf("%s without a checksum", r.op())
				}
			}
		})
	}
}

// New refuses Object Lock on a bucket without it, naming the bucket and
// what to do.
func TestObjectLockNotEnabled(t *testing.T) {
	g := startGateway(t)
	cfg := g.config(g.bucket(t, false))
	cfg.ObjectLockMode, cfg.RetainDays = "COMPLIANCE", 365
	_, err := s3.New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), cfg.Bucket) || !strings.Contains(err.Error(), "Object Lock") ||
		!strings.Contains(err.Error(), "object-lock-enabled-for-bucket") {
		t.Fatalf("New with Object Lock on a plain bucket = %v, want an error naming the bucket and the fix", err)
	}
	// The lock bucket is fine, and its objects round-trip.
	cfg.Bucket = g.bucket(t, true)
	s := g.store(t, cfg)
	storetest.Put(t, s, "a", []byte("locked"))
	if got := storetest.Get(t, s, "a"); string(got) != "locked" {
		t.Errorf("Get = %q", got)
	}
	name := s.ObjectName("a")
	head, err := g.client.HeadObject(t.Context(), &s3sdk.HeadObjectInput{Bucket: &cfg.Bucket, Key: &name})
	if err != nil || head.ObjectLockMode != types.ObjectLockModeCompliance {
		t.Errorf("HeadObject = %v, %v; want compliance mode", head, err)
	}
}
