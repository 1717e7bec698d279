package httpx

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
)

// DefaultMaxBodyBytes bounds one buffered response (Config.MaxBodyBytes):
// tokens, discovery lists, report definitions. Data pages are not buffered
// but spooled (Spool, DecodeEnvelope). 64 MiB is far above any of these
// documented answers (a few KiB to a few MiB for an organization's
// accounts). Counted after decompression, so a small gzip body cannot
// expand past it.
const DefaultMaxBodyBytes = 64 << 20

// DefaultMaxSpoolBytes bounds one spooled download (Config.MaxSpoolBytes):
// a data page, a framework report's JSON or a vendor PDF. A page is at most
// 5,000 rows (Lacework API v2, seed 000: "each page contains 5,000 rows at
// most"; the other APIs page smaller), so this allows 100 KiB a row, fifty
// times the widest documented sample (an inventory row with its resource
// configuration, about 2 KiB). Our choice: the largest report
// of a big account is tens of MiB; 512 MiB leaves room for ten times that,
// while a hostile server cannot fill the disk or put gigabytes in a pack.
const DefaultMaxSpoolBytes = 512 << 20

// ErrTooLarge means a response passed its size limit; nothing of it is used.
var ErrTooLarge = errors.New("response larger than the limit")

// JSON sends r and decodes a 2xx body into v. The body is buffered whole
// (one page, at most Config.MaxBodyBytes), so a connection dropped mid-body
// is retried and v only ever sees a complete response.
func (c *Client) JSON(ctx context.Context, r Request, v any) error {
	var buf []byte
	limit := c.maxBody
	r.maxBytes = limit
	err := c.Do(ctx, r, func(body io.Reader) error {
		var err error
		buf, err = readAtMost(buf[:0], body, limit)
		if errors.Is(err, ErrTooLarge) {
			return fmt.Errorf("%s %s%s: %w: the limit is %s, after decompression", r.Method, r.Path, redactedURL(r.URL), ErrTooLarge, byteSize(limit))
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return fmt.Errorf("%s %s%s: decode response: %w", r.Method, r.Path, redactedURL(r.URL), err)
	}
	return nil
}

// readAtMost appends r's bytes to b, failing with ErrTooLarge past limit.
// It grows b by doubling, as io.ReadAll does, but never beyond limit+1, so
// that an oversized body costs about twice the limit in allocations, never
// more, whatever its size.
func readAtMost(b []byte, r io.Reader, limit int64) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			n := min(max(2*int64(cap(b)), 512), limit+1)
			if n <= int64(len(b)) {
				return b, ErrTooLarge
			}
			b = append(make([]byte, 0, n), b...)
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if int64(len(b)) > limit {
			return b, ErrTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// byteSize writes n in MiB when it is a whole number of them.
func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// redactedURL keeps the path of a next-page URL for messages: its query
// may hold a long cursor.
func redactedURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Path
}

// Spool sends r and streams a 2xx body into a temporary file in dir (the
// system default when empty), so that large documents (reports, vendor PDFs)
// never sit in memory and a dropped connection restarts the download instead
// of leaving half a file. The caller must Close the result, which removes it.
func (c *Client) Spool(ctx context.Context, dir string, r Request) (*Spooled, error) {
	f, err := os.CreateTemp(dir, "evidence-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", r.Path, err)
	}
	s := &Spooled{File: f}
	r.maxBytes = c.maxSpool
	err = c.Do(ctx, r, func(body io.Reader) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, c.maxSpool+1))
		s.Size = n
		h.Sum(s.Sum[:0])
		if err == nil && n > c.maxSpool {
			return fmt.Errorf("%s %s%s: %w: the limit is %s", r.Method, r.Path, redactedURL(r.URL), ErrTooLarge, byteSize(c.maxSpool))
		}
		return err
	})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Spooled is a downloaded body in a temporary file, positioned at its start.
type Spooled struct {
	*os.File
	Size int64
	Sum  [sha256.Size]byte // SHA-256 of the body: a pager tells a page served twice by it
}

// Close closes and removes the file.
func (s *Spooled) Close() error {
	err := s.File.Close()
	if rmErr := os.Remove(s.Name()); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}
