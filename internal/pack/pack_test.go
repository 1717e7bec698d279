package pack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/storetest"

	"github.com/evidence-pack/evidence/internal/testtool"
)

func TestVerify(t *testing.T) {
	xlsx := pack.FrameworkWorkbook("CIS AWS 1.4")
	parquet := sampleParquet
	vendor := pack.VendorReport("CIS AWS 1.4", "acme-prod", "123456789012", "pdf")
	editManifest := func(edit func(*pack.Manifest)) func(t *testing.T, s storage.Store) {
		return func(t *testing.T, s storage.Store) {
			replace(t, s, key(pack.ManifestName), func(b []byte) []byte {
				m, err := pack.DecodeManifest(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				edit(&m)
				out, err := pack.EncodeManifest(m)
				if err != nil {
					t.Fatal(err)
				}
				return out
			})
		}
	}
	tests := []struct {
		name   string
		mutate func(t *testing.T, s storage.Store)
		want   []string // "kind path", sorted by path then kind
	}{
		{"intact", func(*testing.T, storage.Store) {}, nil},
		{"flipped byte", func(t *testing.T, s storage.Store) {
			replace(t, s, key(parquet), flipByte)
		}, []string{"sha256 " + parquet}},
		{"truncated", func(t *testing.T, s storage.Store) {
			replace(t, s, key(xlsx), func(b []byte) []byte { return b[:len(b)-1] })
		}, []string{"size " + xlsx}},
		{"deleted", func(t *testing.T, s storage.Store) {
			if err := s.Delete(t.Context(), key(pack.SummaryPDF)); err != nil {
				t.Fatal(err)
			}
		}, []string{"missing " + pack.SummaryPDF}},
		{"added", func(t *testing.T, s storage.Store) {
			storetest.Put(t, s, key("notes.txt"), []byte("slipped in"))
		}, []string{"extra notes.txt"}},
		{"edited SHA256SUMS", func(t *testing.T, s storage.Store) {
			replace(t, s, key(pack.SumsName), func(b []byte) []byte {
				i := bytes.Index(b, []byte("  "+vendor))
				copy(b[i-64:], strings.Repeat("0", 64))
				return b
			})
		}, []string{"sha256 SHA256SUMS", "sums " + vendor}},
		{"SHA256SUMS garbage", func(t *testing.T, s storage.Store) {
			replace(t, s, key(pack.SumsName), func(b []byte) []byte { return append(b, "not a line\n"...) })
		}, []string{"size SHA256SUMS", "sums SHA256SUMS"}},
		{"manifest lies about a size", editManifest(func(m *pack.Manifest) { m.Files[0].Size++ }),
			[]string{"size " + pack.SumsName}},
		{"manifest lists a file never written", editManifest(func(m *pack.Manifest) {
			m.Files = append(m.Files, pack.File{Path: "zz.pdf", SHA256: strings.Repeat("a", 64), MediaType: pack.MediaTypePDF})
		}), []string{"missing zz.pdf", "sums zz.pdf"}},
		{"manifest breaks the format", editManifest(func(m *pack.Manifest) { m.Tenant = "" }),
			[]string{"manifest manifest.json"}},
		{"everything at once", func(t *testing.T, s storage.Store) {
			replace(t, s, key(parquet), flipByte)
			replace(t, s, key(xlsx), func(b []byte) []byte { return append(b, 0) })
			if err := s.Delete(t.Context(), key(pack.SummaryPDF)); err != nil {
				t.Fatal(err)
			}
			storetest.Put(t, s, key("a-extra.bin"), []byte("x"))
			storetest.Put(t, s, key("frameworks/zz/extra.bin"), []byte("y"))
		}, []string{"extra a-extra.bin", "size " + xlsx, "extra frameworks/zz/extra.bin",
			"sha256 " + parquet, "missing " + pack.SummaryPDF}},
	}
	for _, b := range backends {
		for _, tc := range tests {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				s, _ := b.new(t)
				publishSample(t, s)
				// A neighbouring pack must not leak into this one.
				storetest.Put(t, s, packPrefix+"0/manifest.json", []byte("{}"))
				tc.mutate(t, s)
				rep, err := pack.Verify(t.Context(), s, packPrefix)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				want := tc.want
				slices.SortStableFunc(want, func(a, b string) int {
					pa, pb := a[strings.IndexByte(a, ' ')+1:], b[strings.IndexByte(b, ' ')+1:]
					return strings.Compare(pa, pb)
				})
				if got := problemsOf(rep); !slices.Equal(got, want) {
					t.Errorf("problems:\n  got  %q\n  want %q\n%s", got, want, rep)
				}
				if rep.OK() != (len(want) == 0) || (rep.Err() == nil) != rep.OK() {
					t.Errorf("OK() = %v, Err() = %v with %d problems", rep.OK(), rep.Err(), len(want))
				}
				if !rep.OK() && !errors.Is(rep.Err(), pack.ErrInvalid) {
					t.Errorf("Err() = %v, want ErrInvalid", rep.Err())
				}
				for _, w := range want {
					path := w[strings.IndexByte(w, ' ')+1:]
					if !hasLine(rep.String(), path) {
						t.Errorf("String() does not mention %s:\n%s", path, rep)
					}
				}
			})
		}
	}
}

func TestVerifyCounts(t *testing.T) {
	s, _ := backends[0].new(t)
	m := publishSample(t, s)
	rep, err := pack.Verify(t.Context(), s, packPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range rep.Manifest.Files {
		total += f.Size
	}
	if rep.Files != len(m.Files)+2 || rep.Files != len(rep.Manifest.Files) {
		t.Errorf("Files = %d, want %d (data files, index.html and SHA256SUMS)", rep.Files, len(m.Files)+2)
	}
	manifest := storetest.Get(t, s, key(pack.ManifestName))
	if rep.Bytes != total+int64(len(manifest)) {
		t.Errorf("Bytes = %d, want %d", rep.Bytes, total+int64(len(manifest)))
	}
	if !strings.HasPrefix(rep.String(), "pack "+packPrefix+": OK\n") {
		t.Errorf("String() = %q", rep)
	}
	if rep.Manifest.PackID != runID || rep.Signed {
		t.Errorf("Manifest.PackID = %q, Signed = %v", rep.Manifest.PackID, rep.Signed)
	}
}

func TestVerifyNoManifest(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := b.new(t)
			publishSample(t, s)
			if err := s.Delete(t.Context(), key(pack.ManifestName)); err != nil {
				t.Fatal(err)
			}
			_, err := pack.Verify(t.Context(), s, packPrefix)
			if !errors.Is(err, pack.ErrNoManifest) {
				t.Fatalf("Verify = %v, want ErrNoManifest", err)
			}
			if !strings.Contains(err.Error(), "no manifest.json: incomplete or not a pack") {
				t.Errorf("message %q", err)
			}
			if _, err := pack.Verify(t.Context(), s, "nothing/here"); !errors.Is(err, pack.ErrNoManifest) {
				t.Errorf("Verify of an empty prefix = %v, want ErrNoManifest", err)
			}
		})
	}
}

func TestVerifyBadManifest(t *testing.T) {
	s, _ := backends[0].new(t)
	publishSample(t, s)
	replace(t, s, key(pack.ManifestName), func(b []byte) []byte { return b[:len(b)/2] })
	if _, err := pack.Verify(t.Context(), s, packPrefix); !errors.Is(err, pack.ErrBadManifest) {
		t.Fatalf("Verify = %v, want ErrBadManifest", err)
	}
}

func TestVerifyCancelled(t *testing.T) {
	s, _ := backends[0].new(t)
	publishSample(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := pack.Verify(ctx, s, packPrefix); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify = %v, want context.Canceled", err)
	}
}

// A local pack directory verifies on its own (prefix ""), and GNU
// sha256sum agrees with SHA256SUMS, in the pack directory.
func TestLocalPackDirectory(t *testing.T) {
	s, root := backends[2].new(t)
	publishSample(t, s)
	dir := filepath.Join(root, filepath.FromSlash(packPrefix))

	ps, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pack.Verify(t.Context(), ps, "")
	if err != nil || !rep.OK() {
		t.Fatalf("Verify(pack dir, \"\") = %v\n%s", err, rep)
	}
	if want := []string{"SHA256SUMS", "frameworks/CIS_AWS_1.4/evidence.xlsx",
		"frameworks/CIS_AWS_1.4/vendor/acme-prod_123456789012.pdf", "index.html", "manifest.json",
		"parquet/evaluations/account=123456789012/part-00000.parquet", "summary.pdf"}; !slices.Equal(onDisk(t, dir), want) {
		t.Errorf("pack directory: %q, want %q", onDisk(t, dir), want)
	}

	sha256sum := testtool.Program(t, "sha256sum", testtool.InstallCoreutils, "--version")
	run := func() (string, error) {
		cmd := exec.CommandContext(t.Context(), sha256sum, "--strict", "-c", pack.SumsName)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	if n := strings.Count(out, ": OK\n"); n != len(sampleFiles())+1 {
		t.Errorf("sha256sum checked %d files, want %d (and index.html):\n%s", n, len(sampleFiles()), out)
	}
	// And it catches what Verify catches.
	replace(t, s, key(pack.SummaryPDF), flipByte)
	if out, err := run(); err == nil || !strings.Contains(out, "summary.pdf: FAILED") {
		t.Errorf("sha256sum -c after a flipped byte: %v\n%s", err, out)
	}
}

// A Writer whose store fails at any point leaves nothing: no manifest.json,
// no files, on disk neither.
func TestWriterFailureLeavesNothing(t *testing.T) {
	nPuts := len(sampleFiles()) + 2 // data, SHA256SUMS, manifest.json
	for _, b := range backends {
		for failAt := 1; failAt <= nPuts+1; failAt++ { // nPuts+1: Commit fails
			t.Run(fmt.Sprintf("%s/fail-%d", b.name, failAt), func(t *testing.T) {
				s, root := b.new(t)
				f := &faults{failAt: int32(failAt), failCommit: failAt > nPuts}
				if _, ok := s.(storage.Beginner); !ok && failAt > nPuts {
					t.Skip("no Commit without a Txn")
				}
				w, err := pack.NewWriter(t.Context(), withFaults(s, f), packPrefix)
				if err != nil {
					t.Fatal(err)
				}
				var putErr error
				for _, sf := range sampleFiles() { // in order, so failAt is deterministic
					if _, err := w.Put(t.Context(), sf.path, bytes.NewReader(sf.data), sf.mediaType, sf.rows); err != nil {
						putErr = err
						break
					}
				}
				if putErr != nil {
					if !errors.Is(putErr, errInjected) {
						t.Errorf("Put = %v, want the injected error", putErr)
					}
					if err := w.Abort(t.Context()); err != nil {
						t.Fatal(err)
					}
				} else if err := w.Publish(t.Context(), sampleManifest(runID)); !errors.Is(err, errInjected) {
					t.Fatalf("Publish with failure at %d = %v, want the injected error", failAt, err)
				}
				if err := w.Abort(t.Context()); err != nil {
					t.Errorf("second Abort = %v", err)
				}
				if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
					t.Errorf("failure at %d: store still has %q", failAt, keys)
				}
				if root != "" {
					if files := onDisk(t, root); len(files) != 0 {
						t.Errorf("failure at %d: on disk %q", failAt, files)
					}
				}
				if _, err := pack.Verify(t.Context(), s, packPrefix); !errors.Is(err, pack.ErrNoManifest) {
					t.Errorf("Verify = %v, want ErrNoManifest", err)
				}
				// The prefix is free for a rerun.
				publishSample(t, s)
			})
		}
	}
}

func TestPublishCancelled(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := b.new(t)
			w, err := pack.NewWriter(t.Context(), s, packPrefix)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Put(t.Context(), pack.SummaryPDF, strings.NewReader("pdf"), pack.MediaTypePDF, nil); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := w.Publish(ctx, sampleManifest(runID)); !errors.Is(err, context.Canceled) {
				t.Fatalf("Publish = %v, want context.Canceled", err)
			}
			if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
				t.Errorf("after a cancelled Publish the store has %q", keys)
			}
		})
	}
}

func TestWriterRules(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := b.new(t)
			ctx := t.Context()
			w, err := pack.NewWriter(ctx, s, packPrefix)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{pack.ManifestName, pack.SumsName, pack.SignatureName} {
				if _, err := w.Put(ctx, p, strings.NewReader("x"), pack.MediaTypeText, nil); !errors.Is(err, pack.ErrReserved) {
					t.Errorf("Put(%s) = %v, want ErrReserved", p, err)
				}
			}
			for _, p := range []string{"../escape", "/abs", "a//b", ""} {
				if _, err := w.Put(ctx, p, strings.NewReader("x"), pack.MediaTypeText, nil); err == nil {
					t.Errorf("Put(%q) succeeded", p)
				}
			}
			n := int64(7)
			f, err := w.Put(ctx, "data/a.csv", strings.NewReader("a,b\n"), "text/csv", &n)
			if err != nil {
				t.Fatal(err)
			}
			n = 99 // the Writer keeps its own copy
			if f.Size != 4 || f.SHA256 != storetest.SHA256([]byte("a,b\n")) || *f.Rows != 7 || f.MediaType != "text/csv" {
				t.Errorf("Put = %+v", f)
			}
			if _, err := w.Put(ctx, "data/a.csv", strings.NewReader("again"), "text/csv", nil); !errors.Is(err, storage.ErrExist) {
				t.Errorf("second Put of a path = %v, want ErrExist", err)
			}
			files := w.Files()
			*files[0].Rows = 1000
			if got := w.Files(); len(got) != 1 || *got[0].Rows != 7 {
				t.Errorf("Files() is not a copy: %+v", got)
			}
			if err := w.Publish(ctx, sampleManifest(runID)); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Put(ctx, "late.txt", strings.NewReader("x"), pack.MediaTypeText, nil); !errors.Is(err, pack.ErrClosed) {
				t.Errorf("Put after Publish = %v, want ErrClosed", err)
			}
			if err := w.Publish(ctx, sampleManifest(runID)); !errors.Is(err, pack.ErrClosed) {
				t.Errorf("second Publish = %v, want ErrClosed", err)
			}
			if err := w.Abort(ctx); err != nil {
				t.Errorf("Abort after Publish = %v, want nil", err)
			}
			if rep, err := pack.Verify(ctx, s, packPrefix); err != nil || !rep.OK() {
				t.Fatalf("after Abort-after-Publish: %v\n%s", err, rep)
			}
			// A rerun never overwrites a published pack.
			if _, err := pack.NewWriter(ctx, s, packPrefix); !errors.Is(err, storage.ErrExist) {
				t.Errorf("NewWriter on a published pack = %v, want ErrExist", err)
			}
		})
	}
}

func TestPublishRefusesABadManifest(t *testing.T) {
	s, _ := backends[0].new(t)
	w, err := pack.NewWriter(t.Context(), s, packPrefix)
	if err != nil {
		t.Fatal(err)
	}
	m := sampleManifest(runID)
	m.Tenant, m.Schema = "", "evidence-pack/v0"
	err = w.Publish(t.Context(), m)
	if err == nil || !strings.Contains(err.Error(), "tenant is empty") || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("Publish = %v, want both problems named", err)
	}
	if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
		t.Errorf("store has %q", keys)
	}
}

func TestPublishedManifest(t *testing.T) {
	s, _ := backends[0].new(t)
	publishSample(t, s)
	m, err := pack.DecodeManifest(bytes.NewReader(storetest.Get(t, s, key(pack.ManifestName))))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
		if got := storetest.SHA256(storetest.Get(t, s, key(f.Path))); got != f.SHA256 {
			t.Errorf("%s: manifest sha256 %s, file %s", f.Path, f.SHA256, got)
		}
	}
	if !slices.IsSorted(paths) || !slices.Contains(paths, pack.SumsName) || slices.Contains(paths, pack.ManifestName) {
		t.Errorf("manifest files %q: want sorted, with SHA256SUMS, without manifest.json", paths)
	}
	sums, err := pack.ParseSums(bytes.NewReader(storetest.Get(t, s, key(pack.SumsName))))
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != len(sampleFiles())+1 {
		t.Errorf("SHA256SUMS has %d lines, want one per data file (%d) and index.html", len(sums), len(sampleFiles()))
	}
	if m.GeneratedAt.Location() != time.UTC || !m.GeneratedAt.Equal(fixedNow) {
		t.Errorf("generated_at = %v", m.GeneratedAt)
	}
	if m.Files[slices.Index(paths, sampleParquet)].Rows == nil {
		t.Error("rows lost for the parquet file")
	}
}

func TestSigner(t *testing.T) {
	s, _ := backends[2].new(t)
	var signed []byte
	publishSample(t, s, pack.WithSigner(pack.Signer{Sign: func(b []byte) ([]byte, error) {
		signed = bytes.Clone(b)
		return []byte("signature"), nil
	}, Algorithm: "test", Fingerprint: "sha256:0123"}))
	if got := storetest.Get(t, s, key(pack.ManifestName)); !bytes.Equal(got, signed) {
		t.Error("the signer did not get manifest.json's exact bytes")
	}
	// The manifest, and so the signature, names the key.
	m, err := pack.DecodeManifest(bytes.NewReader(signed))
	if err != nil || m.Signature == nil || *m.Signature != (pack.Signature{File: pack.SignatureName, Algorithm: "test", KeyFingerprint: "sha256:0123"}) {
		t.Errorf("manifest signature = %+v, %v", m.Signature, err)
	}
	rep, err := pack.Verify(t.Context(), s, packPrefix)
	if err != nil || !rep.OK() || !rep.Signed {
		t.Fatalf("Verify = %v, Signed %v\n%s", err, rep.Signed, rep)
	}

	// A failing signer fails the run: no manifest.
	s, _ = backends[0].new(t)
	w, err := pack.NewWriter(t.Context(), s, packPrefix, pack.WithSigner(pack.Signer{Sign: func([]byte) ([]byte, error) { return nil, errInjected }}))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Publish(t.Context(), sampleManifest(runID)); !errors.Is(err, errInjected) {
		t.Fatalf("Publish = %v", err)
	}
	if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
		t.Errorf("store has %q", keys)
	}
}

// Abort while Puts are running: whatever finishes later cleans up after itself.
func TestAbortDuringPuts(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, _ := b.new(t)
			w, err := pack.NewWriter(t.Context(), s, packPrefix)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range 16 {
				wg.Go(func() {
					_, _ = w.Put(t.Context(), pack.ParquetFile{Table: "d", SubAccount: "a", Name: pack.ParquetName(fmt.Sprintf("part=%d", i), "")}.Path(), bytes.NewReader(storetest.Content(100<<10, uint64(i))), pack.MediaTypeParquet, nil)
				})
			}
			if err := w.Abort(t.Context()); err != nil {
				t.Error(err)
			}
			wg.Wait()
			if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
				t.Errorf("store has %q", keys)
			}
		})
	}
}
