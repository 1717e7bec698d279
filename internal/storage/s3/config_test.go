package s3_test

import (
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage/s3"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in             string
		bucket, prefix string
		bad            bool
	}{
		{in: "s3://evidence-bucket", bucket: "evidence-bucket"},
		{in: "s3://evidence-bucket/", bucket: "evidence-bucket"},
		{in: "s3://evidence.bucket/packs", bucket: "evidence.bucket", prefix: "packs"},
		{in: "s3://b-1/a/b/c/", bucket: "b-1", prefix: "a/b/c"},
		{in: "http://bucket/x", bad: true},
		{in: "s3:///x", bad: true},
		{in: "s3://UPPER/x", bad: true},
		{in: "s3://ab/x", bad: true},
		{in: "s3://bucket/a//b", bad: true},
		{in: "s3://bucket/../b", bad: true},
		{in: "s3://bucket/x?region=eu", bad: true},
		{in: "s3://user@bucket/x", bad: true},
		{in: "s3://bucket:9000/x", bad: true},
		{in: "/local/dir", bad: true},
	} {
		cfg, err := s3.ParseURL(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseURL(%q) = %+v, want an error", tc.in, cfg)
			}
			continue
		}
		if err != nil || cfg.Bucket != tc.bucket || cfg.Prefix != tc.prefix {
			t.Errorf("ParseURL(%q) = %q %q %v, want %q %q", tc.in, cfg.Bucket, cfg.Prefix, err, tc.bucket, tc.prefix)
		}
	}
}

// Bad configurations fail in New before anything is sent.
func TestNewRefusesBadConfig(t *testing.T) {
	ok := s3.Config{Bucket: "bucket", Region: "us-east-1", Endpoint: "http://127.0.0.1:1"}
	for _, tc := range []struct {
		name string
		edit func(*s3.Config)
		want string
	}{
		{"bucket", func(c *s3.Config) { c.Bucket = "" }, "bucket name"},
		{"prefix", func(c *s3.Config) { c.Prefix = "a/../b" }, "prefix"},
		{"small parts", func(c *s3.Config) { c.PartSize = 1 << 20 }, "part size"},
		{"threshold", func(c *s3.Config) { c.MultipartThreshold = 32 << 20 }, "threshold"},
		{"concurrency", func(c *s3.Config) { c.Concurrency = -1 }, "concurrency"},
		{"sse", func(c *s3.Config) { c.SSE = "aws:kms:dsse" }, "SSE"},
		{"kms without sse", func(c *s3.Config) { c.KMSKeyID = "k" }, "KMS"},
		{"lock mode", func(c *s3.Config) { c.ObjectLockMode = "governance"; c.RetainDays = 1 }, "object lock mode"},
		{"lock days", func(c *s3.Config) { c.ObjectLockMode = "GOVERNANCE" }, "RetainDays"},
		{"days without lock", func(c *s3.Config) { c.RetainDays = 7 }, "RetainDays"},
	} {
		cfg := ok
		tc.edit(&cfg)
		if _, err := s3.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error about %q", tc.name, err, tc.want)
		}
	}
}

// A bucket that is not there, or credentials the server refuses, fail New.
func TestNewChecksBucket(t *testing.T) {
	g := startGateway(t)
	cfg := g.config("no-such-bucket-here")
	if _, err := s3.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "no-such-bucket-here") {
		t.Errorf("New on a missing bucket = %v", err)
	}
	cfg = g.config(g.bucket(t, false))
	cfg.Credentials = (&gateway{access: g.access, secret: "wrong"}).creds()
	cfg.RetryMaxAttempts = 1
	if _, err := s3.New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), cfg.Bucket) {
		t.Errorf("New with a wrong secret = %v", err)
	}
}
