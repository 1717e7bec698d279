package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/s3"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

// A 200 MiB stream goes up in 5 MiB parts with the heap flat (at most
// Concurrency part buffers), and every SHA-256 agrees: ours, Put's, a
// re-read's, and the server's part checksums.
func TestLargeUploadFlatMemory(t *testing.T) {
	g := startGateway(t)
	const size, seed, key = 200 << 20, 42, "big/stream.bin"
	cfg := g.config(g.bucket(t, false))
	s := g.store(t, cfg)
	wantSum, wantParts := genSums(size, seed, int(cfg.PartSize))

	stop := heapPeak()
	obj, err := s.Put(t.Context(), key, newGen(size, seed), storage.PutOptions{ContentType: "application/octet-stream"})
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(cfg.Concurrency)*uint64(cfg.PartSize) + 32<<20
	t.Logf("heap in use rose by at most %.1f MiB during the upload (limit %d MiB)", float64(peak)/(1<<20), limit>>20)
	if peak > limit {
		t.Errorf("heap in use rose by %d MiB, want under %d MiB: the upload is not streamed", peak>>20, limit>>20)
	}
	if obj.Key != key || obj.Size != size || obj.SHA256 != wantSum {
		t.Errorf("Put = %+v, want size %d sha256 %s", obj, size, wantSum)
	}
	if got, n := getSHA256(t, s, key); got != wantSum || n != size {
		t.Errorf("re-read: %d bytes, sha256 %s; want %d, %s", n, got, size, wantSum)
	}

	// The server kept each part's SHA-256, and the composite over them.
	name := s.ObjectName(key)
	attrs, err := g.client.GetObjectAttributes(t.Context(), &s3sdk.GetObjectAttributesInput{
		Bucket: aws.String(s.Bucket()), Key: &name, MaxParts: aws.Int32(1000),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts, types.ObjectAttributesObjectSize},
	})
	if err != nil {
		t.Fatalf("GetObjectAttributes: %v", err)
	}
	if aws.ToInt64(attrs.ObjectSize) != size {
		t.Errorf("GetObjectAttributes: size %d", aws.ToInt64(attrs.ObjectSize))
	}
	// S3 lists every part's checksum; versitygw (1.8.0) returns no
	// ObjectParts, only the composite checksum, which it computes from the
	// part checksums it stored: equal to ours, it shows they are ours.
	if attrs.ObjectParts == nil {
		t.Logf("GetObjectAttributes: the server returns no ObjectParts; checking the composite checksum only")
	} else {
		if int(aws.ToInt32(attrs.ObjectParts.TotalPartsCount)) != len(wantParts) {
			t.Errorf("GetObjectAttributes: %d parts, want %d", aws.ToInt32(attrs.ObjectParts.TotalPartsCount), len(wantParts))
		}
		for i, p := range attrs.ObjectParts.Parts {
			if got := aws.ToString(p.ChecksumSHA256); got != wantParts[i] {
				t.Errorf("part %d: server's SHA-256 %q, want %q", i+1, got, wantParts[i])
			}
		}
	}
	composite := compositeSHA256(wantParts)
	if attrs.Checksum == nil || aws.ToString(attrs.Checksum.ChecksumSHA256) != composite || attrs.Checksum.ChecksumType != types.ChecksumTypeComposite {
		t.Errorf("GetObjectAttributes checksum = %+v, want composite %s", attrs.Checksum, composite)
	}
	head, err := g.client.HeadObject(t.Context(), &s3sdk.HeadObjectInput{Bucket: aws.String(s.Bucket()), Key: &name, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(head.ChecksumSHA256); got != composite {
		t.Errorf("HeadObject ChecksumSHA256 = %q, want the composite %q (not the whole-file %s)", got, composite, wantSum)
	}
	if len(head.Metadata["put-id"]) != 32 {
		t.Errorf("metadata = %v, want a put-id", head.Metadata)
	}
}

// Which sizes go up as one PutObject and which as multipart uploads of how
// many parts, and what every write request carries.
func TestPutPaths(t *testing.T) {
	g := startGateway(t)
	const mib = 1 << 20
	p := newProxy(t, g, nil)
	for _, tc := range []struct {
		threshold int64
		size      int64
		parts     int // 0: one PutObject
	}{
		{0, 0, 0},
		{0, 5 * mib, 0}, // exactly the threshold (= PartSize): one byte looked ahead
		{0, 5*mib + 1, 2},
		{0, 10*mib + 3, 3},
		{mib, mib, 0},
		{mib, mib + 1, 1},
		{mib, 5 * mib, 1},
		{mib, 5*mib + 1, 2},
		{mib, 10 * mib, 2},
	} {
		t.Run(fmt.Sprintf("threshold=%d/size=%d", tc.threshold, tc.size), func(t *testing.T) {
			cfg := g.config(g.bucket(t, false))
			cfg.Endpoint = p.URL
			cfg.MultipartThreshold = tc.threshold
			s := g.store(t, cfg)
			p.reset()
			want, _ := genSums(tc.size, 7, s3.MinPartSize)
			obj, err := s.Put(t.Context(), "obj", newGen(tc.size, 7), storage.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if obj.Size != tc.size || obj.SHA256 != want {
				t.Errorf("Put = %+v, want size %d sha256 %s", obj, tc.size, want)
			}
			puts, creates := p.requests("PutObject"), p.requests("CreateMultipartUpload")
			parts, completes := p.requests("UploadPart"), p.requests("CompleteMultipartUpload")
			if tc.parts == 0 && (len(puts) != 1 || len(creates) != 0) || tc.parts > 0 && (len(puts) != 0 || len(creates) != 1 || len(parts) != tc.parts || len(completes) != 1) {
				t.Errorf("requests: %d PutObject, %d CreateMultipartUpload, %d UploadPart, %d Complete; want %d parts (0: one PutObject)",
					len(puts), len(creates), len(parts), len(completes), tc.parts)
			}
			for _, r := range append(puts, parts...) {
				if r.Header.Get("X-Amz-Checksum-Sha256") == "" || r.Header.Get("X-Amz-Sdk-Checksum-Algorithm") != "SHA256" {
					t.Errorf("%s without its SHA-256 checksum: %v", r.op(), r.Header)
				}
				if r.Header.Get("Content-Encoding") != "" || r.Header.Get("X-Amz-Trailer") != "" {
					t.Errorf("%s sent with a trailer/aws-chunked encoding: %v", r.op(), r.Header)
				}
			}
			for _, r := range append(puts, completes...) {
				if r.Header.Get("If-None-Match") != "*" {
					t.Errorf("%s without If-None-Match: *", r.op())
				}
			}
			for _, r := range creates {
				if r.Header.Get("X-Amz-Checksum-Algorithm") != "SHA256" {
					t.Errorf("CreateMultipartUpload without x-amz-checksum-algorithm SHA256: %v", r.Header)
				}
			}
			if got, n := getSHA256(t, s, "obj"); got != want || n != tc.size {
				t.Errorf("re-read: %d bytes, %s", n, got)
			}
		})
	}
}

// A single PutObject keeps the whole-file SHA-256 as S3's checksum and as
// metadata, next to the caller's metadata.
func TestChecksumAndMetadata(t *testing.T) {
	g := startGateway(t)
	s := g.store(t, g.config(g.bucket(t, false)))
	data := storetest.Content(300<<10, 3)
	obj, err := s.Put(t.Context(), "acme/run/evidence.xlsx", bytes.NewReader(data), storage.PutOptions{
		ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		Metadata:    map[string]string{"Pack-ID": "acme-2026-11-21"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	name := s.ObjectName("acme/run/evidence.xlsx")
	head, err := g.client.HeadObject(t.Context(), &s3sdk.HeadObjectInput{Bucket: aws.String(s.Bucket()), Key: &name, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(head.ChecksumSHA256), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("ChecksumSHA256 = %q, want %q", got, want)
	}
	if head.Metadata["sha256"] != obj.SHA256 || obj.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("metadata sha256 = %q, Put's %q, want %x", head.Metadata["sha256"], obj.SHA256, sum)
	}
	if head.Metadata["pack-id"] != "acme-2026-11-21" {
		t.Errorf("metadata = %v, want pack-id", head.Metadata)
	}
	if !strings.HasPrefix(aws.ToString(head.ContentType), "application/vnd.openxml") {
		t.Errorf("content type %q", aws.ToString(head.ContentType))
	}
	for _, bad := range []map[string]string{{"sha256": "x"}, {"put-id": "x"}, {"bad key": "x"}, {"k": "caf\u00e9"}} {
		if _, err := s.Put(t.Context(), "meta/bad", strings.NewReader("x"), storage.PutOptions{Metadata: bad}); err == nil {
			t.Errorf("Put with metadata %v succeeded", bad)
		}
	}
}

// The SDK retries parts the server failed (500, 503), re-sending the same
// bytes, and the upload succeeds.
func TestRetriedParts(t *testing.T) {
	g := startGateway(t)
	var mu sync.Mutex
	attempts := map[string]int{}
	failures := map[string]int{"2": 1, "3": 2, "4": 1} // part -> attempts to fail
	p := newProxy(t, g, func(r *http.Request) int {
		if !isPart(r) {
			return 0
		}
		mu.Lock()
		defer mu.Unlock()
		n := r.URL.Query().Get("partNumber")
		attempts[n]++
		if attempts[n] <= failures[n] {
			if n == "3" {
				return http.StatusServiceUnavailable
			}
			return http.StatusInternalServerError
		}
		return 0
	})
	cfg := g.config(g.bucket(t, false))
	cfg.Endpoint = p.URL
	s := g.store(t, cfg)
	const size = 22 << 20 // 5 parts
	want, _ := genSums(size, 9, s3.MinPartSize)
	obj, err := s.Put(t.Context(), "retried.bin", newGen(size, 9), storage.PutOptions{})
	if err != nil {
		t.Fatalf("Put with failing parts: %v", err)
	}
	if obj.SHA256 != want {
		t.Errorf("Put sha256 %s, want %s", obj.SHA256, want)
	}
	injected := 0
	for _, r := range p.requests("UploadPart") {
		if r.Injected != 0 {
			injected++
		}
	}
	if injected != 4 || len(p.requests("UploadPart")) != 9 {
		t.Errorf("%d UploadPart requests, %d failed by the proxy; want 9 and 4", len(p.requests("UploadPart")), injected)
	}
	if got, _ := getSHA256(t, s, "retried.bin"); got != want {
		t.Errorf("re-read sha256 %s, want %s", got, want)
	}
	if left := uploadsLeft(t, g, s.Bucket()); len(left) != 0 {
		t.Errorf("uploads left: %q", left)
	}
}

// Parts that keep failing: Put fails, the upload is aborted, nothing is left.
func TestFailedPartsLeaveNothing(t *testing.T) {
	g := startGateway(t)
	p := newProxy(t, g, func(r *http.Request) int {
		if isPart(r) {
			return http.StatusInternalServerError
		}
		return 0
	})
	cfg := g.config(g.bucket(t, false))
	cfg.Endpoint = p.URL
	s := g.store(t, cfg)
	_, err := s.Put(t.Context(), "doomed.bin", newGen(12<<20, 1), storage.PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "upload part") || !strings.Contains(err.Error(), "doomed.bin") {
		t.Fatalf("Put with every part failing = %v, want an upload part error naming the key", err)
	}
	if len(p.requests("AbortMultipartUpload")) != 1 {
		t.Errorf("%d AbortMultipartUpload requests, want 1", len(p.requests("AbortMultipartUpload")))
	}
	if left := uploadsLeft(t, g, s.Bucket()); len(left) != 0 {
		t.Errorf("uploads left after a failed Put: %q", left)
	}
	if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
		t.Errorf("objects left: %q", keys)
	}
}

// errAfter fails with err once n bytes have been read, or calls cancel;
// with ready set, only once ready is closed.
type errAfter struct {
	r      io.Reader
	n      int64
	err    error
	cancel context.CancelFunc
	ready  <-chan struct{}
}

func (e *errAfter) Read(p []byte) (int, error) {
	if e.n <= 0 {
		if e.ready != nil {
			select {
			case <-e.ready:
				e.ready = nil
			case <-time.After(time.Minute): // a guard: the parts are uploaded concurrently
				return 0, errors.New("errAfter: no part reached the server within a minute")
			}
		}
		if e.cancel != nil {
			e.cancel()
			// go on producing: the store must notice the context
		} else {
			return 0, e.err
		}
	}
	p = p[:min(int64(len(p)), max(e.n, 1<<20))]
	k, err := e.r.Read(p)
	e.n -= int64(k)
	return k, err
}

// A reader error or a cancel in the middle of a multipart upload: the error
// comes back, the upload is aborted (even though ctx is done), nothing left.
func TestMultipartInterrupted(t *testing.T) {
	g := startGateway(t)
	boom := errors.New("reader broke")
	for _, cancel := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancel=%v", cancel), func(t *testing.T) {
			// The reader breaks at 17 MiB, filling part 4, after the
			// gateway has answered parts 1 to 3: then nothing is in flight
			// when the upload is aborted. (Breaking at once, the failure
			// could cancel every part before one reached the gateway, or
			// abort while the gateway was still writing one.)
			const breakAt = 17 << 20
			cfg := g.config(g.bucket(t, false))
			wantParts := int64(breakAt / cfg.PartSize)
			partsDone := make(chan struct{})
			var done atomic.Int64
			p := newProxyServed(t, g, nil, func(r *http.Request) {
				if isPart(r) && done.Add(1) == wantParts {
					close(partsDone)
				}
			})
			cfg.Endpoint = p.URL
			s := g.store(t, cfg)
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			r := &errAfter{r: newGen(100<<20, 2), n: breakAt, err: boom, ready: partsDone}
			if cancel {
				r.cancel = stop
			}
			_, err := s.Put(ctx, "interrupted.bin", r, storage.PutOptions{})
			if want := map[bool]error{false: boom, true: context.Canceled}[cancel]; !errors.Is(err, want) {
				t.Fatalf("Put = %v, want %v", err, want)
			}
			// A reader error stops before part 4 is sent; after a cancel
			// it may be tried, but not reach the gateway.
			if parts, aborts := len(p.requests("UploadPart")), len(p.requests("AbortMultipartUpload")); int64(parts) != wantParts || aborts != 1 {
				t.Errorf("%d parts sent, %d aborts; want %d parts and one abort", parts, aborts, wantParts)
			}
			if left := uploadsLeft(t, g, s.Bucket()); len(left) != 0 {
				t.Errorf("uploads left: %q", left)
			}
			if keys := storetest.Keys(t, s, ""); len(keys) != 0 {
				t.Errorf("objects left: %q", keys)
			}
		})
	}
}

// An existing key is never overwritten, whichever way the Put goes up; a
// multipart Put of an existing key fails before it uploads anything; of
// several stores racing for one key with multipart uploads exactly one wins.
func TestNoOverwrite(t *testing.T) {
	g := startGateway(t)
	p := newProxy(t, g, nil)
	cfg := g.config(g.bucket(t, false))
	cfg.Endpoint = p.URL
	s := g.store(t, cfg)
	ctx := t.Context()

	for _, size := range []int64{1000, 6 << 20} {
		key := fmt.Sprintf("pack/file-%d", size)
		want, _ := genSums(size, 1, s3.MinPartSize)
		if _, err := s.Put(ctx, key, newGen(size, 1), storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		p.reset()
		_, err := s.Put(ctx, key, newGen(size, 2), storage.PutOptions{})
		if !errors.Is(err, storage.ErrExist) || !strings.Contains(err.Error(), key) {
			t.Errorf("second Put(%q) = %v, want ErrExist naming the key", key, err)
		}
		if size > cfg.PartSize && len(p.requests("CreateMultipartUpload")) != 0 {
			t.Errorf("second multipart Put(%q) started an upload before finding the key exists", key)
		}
		if got, _ := getSHA256(t, s, key); got != want {
			t.Errorf("%s was changed", key)
		}
	}

	// Racing writers of one key, each its own Store (nothing shared in
	// memory): If-None-Match on CompleteMultipartUpload decides.
	const n, size, key = 4, 11 << 20, "race/manifest.bin"
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		st := g.store(t, g.config(s.Bucket()))
		wg.Go(func() {
			_, errs[i] = st.Put(ctx, key, newGen(size, uint64(100+i)), storage.PutOptions{})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("Puts #%d and #%d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrExist):
			t.Errorf("Put #%d = %v, want ErrExist", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no Put succeeded")
	}
	if want, _ := genSums(size, uint64(100+winner), s3.MinPartSize); true {
		if got, _ := getSHA256(t, s, key); got != want {
			t.Errorf("stored content is not the winner's")
		}
	}
	if left := uploadsLeft(t, g, s.Bucket()); len(left) != 0 {
		t.Errorf("uploads left: %q", left)
	}
}

// A server that answers conditional writes with 501 NotImplemented: the
// store warns once, checks with HeadObject instead, and still refuses an
// overwrite.
func TestConditionalWriteFallback(t *testing.T) {
	g := startGateway(t)
	p := newProxy(t, g, func(r *http.Request) int {
		q := r.URL.Query()
		write := r.Method == http.MethodPut && !q.Has("partNumber") || r.Method == http.MethodPost && q.Has("uploadId")
		if write && r.Header.Get("If-None-Match") != "" {
			return http.StatusNotImplemented
		}
		return 0
	})
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	cfg := g.config(g.bucket(t, false))
	cfg.Endpoint = p.URL
	cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf, mu: &logMu}, nil))
	s := g.store(t, cfg)
	for _, size := range []int64{10, 7 << 20} {
		key := fmt.Sprintf("plain/%d", size)
		if _, err := s.Put(t.Context(), key, newGen(size, 1), storage.PutOptions{}); err != nil {
			t.Fatalf("Put(%s) on a server without conditional writes: %v", key, err)
		}
		if _, err := s.Put(t.Context(), key, newGen(size, 2), storage.PutOptions{}); !errors.Is(err, storage.ErrExist) {
			t.Errorf("second Put(%s) = %v, want ErrExist", key, err)
		}
	}
	if n := len(p.requests("PutObject")) + len(p.requests("CompleteMultipartUpload")); n != 3 {
		t.Errorf("%d PutObject/Complete requests, want 3 (one refused with 501, then one each)", n)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if c := strings.Count(logBuf.String(), "does not implement conditional writes"); c != 1 {
		t.Errorf("warned %d times, want once:\n%s", c, logBuf.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// SSE headers go on every PutObject and CreateMultipartUpload (not on
// UploadPart, where S3 refuses them). versitygw accepts and ignores them,
// so the test looks at the requests.
func TestSSEHeaders(t *testing.T) {
	g := startGateway(t)
	p := newProxy(t, g, nil)
	for _, tc := range []struct{ sse, key string }{{"AES256", ""}, {"aws:kms", "alias/evidence-packs"}, {"aws:kms", ""}} {
		t.Run(tc.sse+"/"+tc.key, func(t *testing.T) {
			cfg := g.config(g.bucket(t, false))
			cfg.Endpoint = p.URL
			cfg.SSE, cfg.KMSKeyID = tc.sse, tc.key
			s := g.store(t, cfg)
			p.reset()
			for _, size := range []int64{100, 6 << 20} {
				if _, err := s.Put(t.Context(), fmt.Sprintf("enc/%d", size), newGen(size, 1), storage.PutOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			writes := append(p.requests("PutObject"), p.requests("CreateMultipartUpload")...)
			if len(writes) != 2 {
				t.Fatalf("%d PutObject/CreateMultipartUpload requests, want 2", len(writes))
			}
			for _, r := range writes {
				if got := r.Header.Get("X-Amz-Server-Side-Encryption"); got != tc.sse {
					t.Errorf("%s: x-amz-server-side-encryption %q, want %q", r.op(), got, tc.sse)
				}
				if got := r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != tc.key {
					t.Errorf("%s: KMS key id %q, want %q", r.op(), got, tc.key)
				}
			}
			for _, r := range p.requests("UploadPart") {
				if r.Header.Get("X-Amz-Server-Side-Encryption") != "" {
					t.Errorf("UploadPart with an SSE header")
				}
			}
			name := s.ObjectName("enc/100")
			head, err := g.client.HeadObject(t.Context(), &s3sdk.HeadObjectInput{Bucket: aws.String(s.Bucket()), Key: &name})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("versitygw reports server-side encryption %q for an object written with %q", head.ServerSideEncryption, tc.sse)
		})
	}
}
