package s3_test

import (
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/s3"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// A new bucket for every subtest: the suites want an empty store.
func TestConformance(t *testing.T) {
	g := startGateway(t)
	storetest.Run(t, func(t *testing.T) storage.Store {
		return g.store(t, g.config(g.bucket(t, false)))
	})
}

// The same suite with a threshold far below the part size, so that its
// larger objects (the 64 KiB and 1 MiB round trips, the eight concurrent
// 50 KiB Puts of one key, which If-None-Match on CompleteMultipartUpload
// decides) go up as multipart uploads; and under a prefix in the bucket.
func TestConformanceMultipart(t *testing.T) {
	g := startGateway(t)
	storetest.Run(t, func(t *testing.T) storage.Store {
		cfg := g.config(g.bucket(t, false))
		cfg.Prefix = "evidence/packs"
		cfg.MultipartThreshold = 16 << 10
		cfg.Concurrency = 2
		return g.store(t, cfg)
	})
}

func TestTxnConformance(t *testing.T) {
	g := startGateway(t)
	storetest.RunTxn(t, func(t *testing.T) storage.Store {
		return g.store(t, g.config(g.bucket(t, false)))
	})
}

// Object Lock and SSE on every write, multipart for all but tiny objects.
func TestTxnConformanceObjectLock(t *testing.T) {
	g := startGateway(t)
	storetest.RunTxn(t, func(t *testing.T) storage.Store {
		cfg := g.config(g.bucket(t, true))
		cfg.ObjectLockMode = "GOVERNANCE"
		cfg.RetainDays = 1
		cfg.SSE = "AES256"
		cfg.MultipartThreshold = 64 << 10
		return g.store(t, cfg)
	})
}

var _ storage.Beginner = (*s3.Store)(nil)

func TestReplaceConformance(t *testing.T) {
	g := startGateway(t)
	storetest.RunReplace(t, func(t *testing.T) storage.Store {
		cfg := g.config(g.bucket(t, true))
		cfg.ObjectLockMode, cfg.RetainDays = "GOVERNANCE", 1 // a new version each time, even under a lock
		return g.store(t, cfg)
	})
}
