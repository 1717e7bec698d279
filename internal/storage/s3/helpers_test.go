package s3_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/evidence-pack/evidence/internal/storage"
)

// genReader produces n deterministic pseudo-random bytes for seed (AES-CTR
// over zeros: fast, and nothing held in memory).
type genReader struct {
	stream cipher.Stream
	left   int64
}

func newGen(n int64, seed uint64) *genReader {
	key := make([]byte, 16)
	binary.LittleEndian.PutUint64(key, seed)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	return &genReader{stream: cipher.NewCTR(block, make([]byte, aes.BlockSize)), left: n}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), g.left))
	clear(p[:n])
	g.stream.XORKeyStream(p[:n], p[:n])
	g.left -= int64(n)
	return n, nil
}

// genSums is the SHA-256 (hex) of the generated content and the base64
// SHA-256 of each partSize part.
func genSums(n int64, seed uint64, partSize int) (string, []string) {
	whole := sha256.New()
	r := newGen(n, seed)
	buf := make([]byte, partSize)
	var parts []string
	for {
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			whole.Write(buf[:k])
			s := sha256.Sum256(buf[:k])
			parts = append(parts, base64.StdEncoding.EncodeToString(s[:]))
		}
		if err != nil {
			break
		}
	}
	return hex.EncodeToString(whole.Sum(nil)), parts
}

// compositeSHA256 is S3's checksum of a multipart upload: the SHA-256 of the
// parts' binary SHA-256 digests, base64, "-<parts>".
func compositeSHA256(parts []string) string {
	h := sha256.New()
	for _, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			panic(err)
		}
		h.Write(b)
	}
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts))
}

// getSHA256 reads key from s and returns its SHA-256 and size.
func getSHA256(t *testing.T, s storage.Store, key string) (string, int64) {
	t.Helper()
	rc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// heapPeak samples HeapInuse every few milliseconds until stop is called,
// which returns the peak above the level at the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		if peak < base {
			return 0
		}
		return peak - base
	}
}

// proxy is an HTTP proxy in front of the gateway that records every request
// and can answer some of them with an error instead of forwarding them.
type proxy struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []seenRequest
	fault  func(r *http.Request) int // status to answer with, or 0 to forward
	served func(r *http.Request)     // called when a forwarded request's answer is sent
}

type seenRequest struct {
	Method   string
	Path     string
	Query    url.Values
	Header   http.Header
	Injected int // status the proxy answered with, or 0
}

func (r seenRequest) op() string {
	q := r.Query
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber") && q.Has("uploadId"):
		return "UploadPart"
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "" && !q.Has("uploadId") && len(strings.Split(strings.Trim(r.Path, "/"), "/")) > 1:
		return "PutObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodDelete:
		return "DeleteObject"
	case r.Method == http.MethodHead:
		return "Head"
	case r.Method == http.MethodGet && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.Method == http.MethodGet:
		return "Get"
	}
	return r.Method
}

func newProxy(t *testing.T, g *gateway, fault func(r *http.Request) int) *proxy {
	t.Helper()
	return newProxyServed(t, g, fault, nil)
}

// newProxyServed is newProxy calling served once the gateway has answered
// a forwarded request (and so is done with it).
func newProxyServed(t *testing.T, g *gateway, fault func(r *http.Request) int, served func(r *http.Request)) *proxy {
	t.Helper()
	target, err := url.Parse(g.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the client signed the proxy's host
		},
		// Uploads the tests interrupt on purpose break connections.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p := &proxy{fault: fault, served: served}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sr := seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
		if p.fault != nil {
			sr.Injected = p.fault(r)
		}
		p.mu.Lock()
		p.seen = append(p.seen, sr)
		p.mu.Unlock()
		if sr.Injected == 0 {
			rp.ServeHTTP(w, r)
			if p.served != nil {
				p.served(r)
			}
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		code := map[int]string{500: "InternalError", 501: "NotImplemented", 503: "ServiceUnavailable"}[sr.Injected]
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(sr.Injected)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected by the test proxy</Message></Error>`, code)
	}))
	p.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(p.Close)
	return p
}

// requests returns the recorded requests of operation op ("" for all).
func (p *proxy) requests(op string) []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []seenRequest
	for _, r := range p.seen {
		if op == "" || r.op() == op {
			out = append(out, r)
		}
	}
	return out
}

func (p *proxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = nil
}

// uploadsLeft lists the unfinished multipart uploads in bucket.
func uploadsLeft(t *testing.T, g *gateway, bucket string) []string {
	t.Helper()
	out, err := g.client.ListMultipartUploads(t.Context(), &s3sdk.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return keys
}

func isPart(r *http.Request) bool {
	q := r.URL.Query()
	return r.Method == http.MethodPut && q.Has("partNumber") && q.Has("uploadId")
}
