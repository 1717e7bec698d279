package httpx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"testing"
)

// A page (SpoolPage) up to SpoolMemoryBytes stays in memory: no file is
// made for it. A larger one is in a file while the Spooled is open, and the
// file goes with Close; so is any body Spool keeps, however small (a report
// held until its framework is written). A download dropped after it moved
// to a file starts again from an empty file, so the body read is the
// complete second one.
func TestSpoolMemoryOrFile(t *testing.T) {
	tests := []struct {
		name  string
		page  bool // SpoolPage, else Spool
		size  int
		drop  int // bytes sent before the first attempt's connection drops; 0: none
		files int // spool files while the body is open
	}{
		{"empty page", true, 0, 0, 0},
		{"a page", true, 4 << 10, 0, 0},
		{"a page at the threshold", true, SpoolMemoryBytes, 0, 0},
		{"a page one byte over", true, SpoolMemoryBytes + 1, 0, 1},
		{"a large page", true, 3 * SpoolMemoryBytes, 0, 1},
		{"a page dropped in memory, retried", true, 64 << 10, 1 << 10, 0},
		{"a page dropped after the move to a file, retried", true, 3 * SpoolMemoryBytes, 2 * SpoolMemoryBytes, 1},
		{"a small report", false, 4 << 10, 0, 1},
		{"a small report dropped, retried", false, 64 << 10, 1 << 10, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16+1)[:tc.size]
			attempts := 0
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				attempts++
				var rd io.Reader = bytes.NewReader(body)
				if attempts == 1 && tc.drop > 0 {
					rd = io.MultiReader(bytes.NewReader(body[:tc.drop]), errReader{io.ErrUnexpectedEOF})
				}
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(rd), Request: r}, nil
			})}
			c := newTestClient(t, "https://api.example", newFakeClock(), func(cfg *Config) { cfg.HTTPClient = hc })
			dir := t.TempDir()
			spool := c.Spool
			if tc.page {
				spool = c.SpoolPage
			}
			sp, err := spool(context.Background(), dir, Request{Method: "GET", Path: "/page"})
			if err != nil {
				t.Fatal(err)
			}
			if want := 1 + min(tc.drop, 1); attempts != want {
				t.Errorf("%d attempts, want %d", attempts, want)
			}
			if files, _ := os.ReadDir(dir); len(files) != tc.files {
				t.Errorf("%d spool files for %d bytes, want %d", len(files), tc.size, tc.files)
			}
			got, err := io.ReadAll(sp)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("read %d bytes (%v), want the %d sent", len(got), err, len(body))
			}
			if sp.Size != int64(len(body)) || sp.Sum != sha256.Sum256(body) {
				t.Errorf("Size %d, Sum %x: not the body's", sp.Size, sp.Sum)
			}
			if _, err := sp.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if again, _ := io.ReadAll(sp); !bytes.Equal(again, body) {
				t.Errorf("read again after Seek: %d bytes", len(again))
			}
			if err := sp.Close(); err != nil {
				t.Fatal(err)
			}
			if files, _ := os.ReadDir(dir); len(files) != 0 {
				t.Errorf("spool files left after Close: %v", files)
			}
		})
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
