package s3_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/s3"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// Abort deletes manifest.json before anything else, so that a partial pack
// never looks complete.
func TestTxnAbortDeletesManifestFirst(t *testing.T) {
	g := startGateway(t)
	p := newProxy(t, g, nil)
	cfg := g.config(g.bucket(t, false))
	cfg.Endpoint = p.URL
	s := g.store(t, cfg)
	tx, err := s.Begin(t.Context(), "acme/2026-11-21/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a.xlsx", "b/c.parquet", "SHA256SUMS", "manifest.json", "z.pdf"} {
		storetest.Put(t, tx, k, []byte(k))
	}
	p.reset()
	if err := tx.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	dels := p.requests("DeleteObject")
	if len(dels) != 5 || !strings.HasSuffix(dels[0].Path, "/acme/2026-11-21/run/manifest.json") {
		var paths []string
		for _, d := range dels {
			paths = append(paths, d.Path)
		}
		t.Errorf("Abort deleted %q, want 5 objects, manifest.json first", paths)
	}
	if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
		t.Errorf("after Abort: %q", keys)
	}
}

// slowReader hands out its data only after release is closed.
type slowReader struct {
	r       io.Reader
	started chan struct{}
	release chan struct{}
	once    bool
}

func (s *slowReader) Read(p []byte) (int, error) {
	if !s.once {
		s.once = true
		close(s.started)
		<-s.release
	}
	return s.r.Read(p)
}

// A Put still running when Abort is called removes its own object.
func TestTxnAbortDuringPut(t *testing.T) {
	g := startGateway(t)
	s := g.store(t, g.config(g.bucket(t, false)))
	tx, err := s.Begin(t.Context(), "pack")
	if err != nil {
		t.Fatal(err)
	}
	r := &slowReader{r: bytes.NewReader([]byte("late")), started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error)
	go func() {
		_, err := tx.Put(t.Context(), "late.txt", r, storage.PutOptions{})
		done <- err
	}()
	<-r.started
	if err := tx.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	close(r.release)
	if err := <-done; !errors.Is(err, s3.ErrTxnClosed) {
		t.Errorf("Put during Abort = %v, want ErrTxnClosed", err)
	}
	other := g.store(t, g.config(s.Bucket()))
	if keys := storetest.Keys(t, other, ""); len(keys) != 0 {
		t.Errorf("left behind: %q", keys)
	}
}

// Other clients (here another Store on the bucket) see a pack's objects
// while it is written, but no manifest.json until the writer puts it last.
func TestTxnSeenByOthers(t *testing.T) {
	g := startGateway(t)
	s := g.store(t, g.config(g.bucket(t, false)))
	other := g.store(t, g.config(s.Bucket()))
	tx, err := s.Begin(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, tx, "data.bin", []byte("x"))
	if keys := storetest.Keys(t, other, ""); !slices.Equal(keys, []string{"p/data.bin"}) {
		t.Errorf("another store lists %q", keys)
	}
	if _, err := other.Begin(t.Context(), "p"); !errors.Is(err, storage.ErrExist) {
		t.Errorf("another store's Begin on a prefix being written = %v, want ErrExist", err)
	}
	storetest.Put(t, tx, "manifest.json", []byte("{}"))
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if keys := storetest.Keys(t, s, ""); !slices.Equal(keys, []string{"p/data.bin", "p/manifest.json"}) {
		t.Errorf("after Commit: %q", keys)
	}
}

// The pack writer publishes into the store (multipart data file included)
// and pack.Verify, which re-hashes every object, accepts the result.
func TestPackWriterAndVerify(t *testing.T) {
	g := startGateway(t)
	cfg := g.config(g.bucket(t, true))
	cfg.Prefix = "evidence"
	cfg.ObjectLockMode, cfg.RetainDays = "GOVERNANCE", 1
	s := g.store(t, cfg)
	ctx := t.Context()
	const prefix = "acme/2026-11-21/run-1"
	w, err := pack.NewWriter(ctx, s, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(ctx, "frameworks/cis/evidence.xlsx", newGen(12<<20, 3), "application/octet-stream", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Put(ctx, "README.txt", strings.NewReader("hello\n"), "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	m := pack.Manifest{PackID: "acme-2026-11-21-run-1", Tenant: "acme", GeneratedAt: time.Now().UTC()}
	if err := w.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	rep, err := pack.Verify(ctx, s, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("Verify: %s", rep.String())
	}
	if _, err := pack.NewWriter(ctx, s, prefix); !errors.Is(err, storage.ErrExist) {
		t.Errorf("a second writer on the pack = %v, want ErrExist", err)
	}
}
