package pack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/period"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// backend is a store a pack is tested on.
type backend struct {
	name string
	new  func(t *testing.T) (storage.Store, string) // the store and, for local, its root
}

// plainStore hides Begin: the Writer's path for stores without transactions (S3).
type plainStore struct{ storage.Store }

var backends = []backend{
	{"memstore", func(*testing.T) (storage.Store, string) { return memstore.New(), "" }},
	{"memstore-no-txn", func(*testing.T) (storage.Store, string) { return plainStore{memstore.New()}, "" }},
	{"local", func(t *testing.T) (storage.Store, string) {
		root := t.TempDir()
		s, err := local.New(root)
		if err != nil {
			t.Fatal(err)
		}
		return s, root
	}},
}

var (
	fixedNow = time.Date(2026, 11, 22, 3, 4, 5, 0, time.UTC)
	dayFrom  = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	dayTo    = dayFrom.AddDate(0, 0, 1)
)

func rows(n int64) *int64 { return &n }

// sampleFile is a data file of the sample pack.
type sampleFile struct {
	path, mediaType string
	data            []byte
	rows            *int64
}

func sampleFiles() []sampleFile {
	return []sampleFile{
		{pack.SummaryPDF, pack.MediaTypePDF, storetest.Content(5000, 1), nil},
		{pack.FrameworkWorkbook("CIS AWS 1.4"), pack.MediaTypeXLSX, storetest.Content(40<<10, 2), rows(120)},
		{pack.VendorReport("CIS AWS 1.4", "acme-prod", "123456789012", "pdf"), pack.MediaTypePDF, storetest.Content(300<<10, 3), nil},
		{sampleParquet, pack.MediaTypeParquet, storetest.Content(70<<10, 4), rows(5000)},
	}
}

func sampleManifest(runID string) pack.Manifest {
	return pack.Manifest{
		PackID: runID,
		Tenant: "acme",
		Source: pack.Source{System: "lacework", BaseURL: "https://acme.lacework.net", API: "Lacework API v2"},
		Period: pack.Period{From: dayFrom, To: dayTo, Label: pack.PeriodLabel(dayFrom, dayTo)},
		// Not UTC on purpose: the encoding must normalise it.
		GeneratedAt: fixedNow.In(time.FixedZone("CET", 3600)),
		Generator:   pack.Generator{Name: "evidence", Version: "v0.1.0", Commit: "abc1234"},
		Scope: pack.Scope{
			SubAccounts: []string{"acme-prod"},
			Accounts:    []string{"123456789012"},
			Frameworks:  []string{"CIS AWS 1.4"},
			Datasets:    []string{"evaluations"},
		},
		Queries: []pack.Query{{
			Dataset: "evaluations", SubAccount: "acme-prod", Account: "123456789012", Framework: "CIS AWS 1.4",
			Window: period.Window{From: dayFrom, To: dayTo}, Pages: 1, Rows: 5000, Requests: 2,
		}},
		Warnings: []string{"2 resources <without> tags & names"},
		Failures: []pack.Failure{{Unit: "lacework/acme/999/evaluations", Account: "999", Dataset: "evaluations", Error: "403 Forbidden"}},
		Stats:    &pack.Stats{Requests: 3, Retries: 1, BytesReceived: 123456, Rows: 5000, DurationMS: 1500},
	}
}

const runID = "20261122T030405Z-3f9a1c"

// sampleParquet is the sample pack's Parquet file.
var sampleParquet = pack.ParquetFile{Table: "evaluations", SubAccount: "123456789012", Name: pack.ParquetName("", "")}.Path()

var packPrefix = pack.PackPrefix("evidence", "acme", "2026-11-21", runID)

// publishSample writes the sample pack, its data files concurrently.
func publishSample(t *testing.T, s storage.Store, opts ...pack.Option) pack.Manifest {
	t.Helper()
	w, err := pack.NewWriter(t.Context(), s, packPrefix, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	files := sampleFiles()
	errs := make([]error, len(files))
	for i, f := range files {
		wg.Go(func() {
			_, errs[i] = w.Put(t.Context(), f.path, bytes.NewReader(f.data), f.mediaType, f.rows)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	m := sampleManifest(runID)
	if err := w.Publish(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	m.Files = w.Files()
	return m
}

func key(p string) string { return packPrefix + "/" + p }

// replace rewrites an object through the Store interface (stores never
// overwrite, so: read, delete, put).
func replace(t *testing.T, s storage.Store, k string, edit func([]byte) []byte) {
	t.Helper()
	b := storetest.Get(t, s, k)
	if err := s.Delete(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	storetest.Put(t, s, k, edit(bytes.Clone(b)))
}

// onDisk lists the regular files under root.
func onDisk(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var errInjected = errors.New("injected store failure")

// faults makes a store fail: the failAt-th Put (counting from 1, across the
// store and its Txns) reads a little of its content and then fails, as a
// store whose disk or connection breaks mid-write; and Commit fails if
// failCommit is set. It wraps a real store, in the manner of restic's
// errorOnceBackend.
type faults struct {
	failAt     int32
	failCommit bool
	puts       atomic.Int32
}

func (f *faults) put(ctx context.Context, s storage.Store, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if f.puts.Add(1) == f.failAt {
		r = io.MultiReader(io.LimitReader(r, 100), errReader{})
	}
	return s.Put(ctx, key, r, o)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errInjected }

type faultStore struct {
	storage.Store
	f *faults
}

func (s faultStore) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	return s.f.put(ctx, s.Store, key, r, o)
}

type faultBeginner struct{ faultStore }

func (s faultBeginner) Begin(ctx context.Context, prefix string) (storage.Txn, error) {
	tx, err := s.Store.(storage.Beginner).Begin(ctx, prefix)
	if err != nil {
		return nil, err
	}
	return faultTxn{tx, s.f}, nil
}

type faultTxn struct {
	storage.Txn
	f *faults
}

func (t faultTxn) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	return t.f.put(ctx, t.Txn, key, r, o)
}

func (t faultTxn) Commit(ctx context.Context) error {
	if t.f.failCommit {
		return fmt.Errorf("commit: %w", errInjected)
	}
	return t.Txn.Commit(ctx)
}

// withFaults wraps s, keeping whether it can Begin.
func withFaults(s storage.Store, f *faults) storage.Store {
	if _, ok := s.(storage.Beginner); ok {
		return faultBeginner{faultStore{s, f}}
	}
	return faultStore{s, f}
}

func problemsOf(r pack.Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, string(p.Kind)+" "+p.Path)
	}
	return out
}

func flipByte(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }

func hasLine(s, sub string) bool {
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func sha(b []byte) string { return storetest.SHA256(b) }
