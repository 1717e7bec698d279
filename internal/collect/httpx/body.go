package httpx

import (
	"bufio"
	"bytes"
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

// SpoolMemoryBytes is the largest page SpoolPage keeps in memory; a larger
// one goes to a temporary file as it arrives. Most data pages are well
// under it (IBM SCC and Sophos pages of at most a few hundred rows, Edge
// pages of 100): keeping them in memory spares a file created, written and
// removed for every page, which on a busy disk costs more than the page's
// decoding. Lacework pages of 5,000 rows are larger and still go to disk,
// so memory stays bounded by this figure per page in flight.
const SpoolMemoryBytes = 1 << 20

// Spool sends r and streams a 2xx body into a temporary file in dir (the
// system default when empty), so that large documents (reports, vendor
// PDFs) never sit in memory, however many are kept, and a dropped
// connection restarts the download instead of leaving half a file. The
// caller must Close the result, which removes the file.
func (c *Client) Spool(ctx context.Context, dir string, r Request) (*Spooled, error) {
	return c.spool(ctx, dir, r, 0)
}

// SpoolPage is Spool for a page its caller reads and closes before it
// requests the next: a body of up to SpoolMemoryBytes stays in memory.
func (c *Client) SpoolPage(ctx context.Context, dir string, r Request) (*Spooled, error) {
	return c.spool(ctx, dir, r, SpoolMemoryBytes)
}

func (c *Client) spool(ctx context.Context, dir string, r Request, inMemory int) (*Spooled, error) {
	s := &Spooled{dir: dir, inMemory: inMemory}
	r.maxBytes = c.maxSpool
	err := c.Do(ctx, r, func(body io.Reader) error {
		if err := s.reset(); err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(s, h), io.LimitReader(body, c.maxSpool+1))
		if err == nil {
			err = s.flush()
		}
		s.Size = n
		h.Sum(s.Sum[:0])
		if err == nil && n > c.maxSpool {
			return fmt.Errorf("%s %s%s: %w: the limit is %s", r.Method, r.Path, redactedURL(r.URL), ErrTooLarge, byteSize(c.maxSpool))
		}
		return err
	})
	if err == nil {
		if err = s.rewind(); err != nil {
			err = fmt.Errorf("spool %s: %w", r.Path, err)
		}
	}
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Spooled is a downloaded body, in memory or in a temporary file,
// positioned at its start once Spool returns it.
type Spooled struct {
	Size int64
	Sum  [sha256.Size]byte // SHA-256 of the body: a pager tells a page served twice by it

	dir      string
	inMemory int           // the most bytes mem may hold
	mem      []byte        // the body while it fits in inMemory
	file     *os.File      // the body once it did not
	w        *bufio.Writer // writes file while downloading
	r        io.ReadSeeker // reads whichever holds it
}

// SpooledBytes is b as a Spooled body, for tests of what reads one.
func SpooledBytes(b []byte) *Spooled {
	s := &Spooled{Size: int64(len(b)), mem: b, Sum: sha256.Sum256(b)}
	s.r = bytes.NewReader(b)
	return s
}

// Write appends to the body while it is being downloaded, moving it to a
// file when it outgrows inMemory.
func (s *Spooled) Write(p []byte) (int, error) {
	if s.file == nil && len(s.mem)+len(p) <= s.inMemory {
		s.mem = append(s.mem, p...)
		return len(p), nil
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "evidence-spool-*")
		if err != nil {
			return 0, fmt.Errorf("spool: %w", err)
		}
		s.file = f
		s.w = bufio.NewWriterSize(f, spoolBuffer)
		if _, err := s.w.Write(s.mem); err != nil {
			return 0, err
		}
		s.mem = nil
	}
	return s.w.Write(p)
}

// spoolBuffer is the buffer of a spool file while it is written, and of a
// page's while it is read: a response body arrives in chunks of a few KiB
// (the server's), and json.Decoder reads a few KiB at a time, so each was
// a system call that cost more than decoding its bytes (a tenth of a large
// run's CPU). Only while downloading, and for a page being read: a
// report held until its framework is written keeps no buffer.
const spoolBuffer = 64 << 10

// reset empties the body for another attempt at the download.
func (s *Spooled) reset() error {
	s.mem = s.mem[:0]
	if s.file == nil {
		return nil
	}
	s.w.Reset(s.file)
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return s.file.Truncate(0)
}

// flush writes what the file's buffer holds.
func (s *Spooled) flush() error {
	if s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// rewind positions the downloaded body at its start for reading.
func (s *Spooled) rewind() error {
	if s.file == nil {
		s.r = bytes.NewReader(s.mem)
		return nil
	}
	s.w = nil // flushed
	s.r = s.file
	if s.inMemory > 0 {
		// A page: read once, closed before the next request.
		s.r = &bufferedFile{f: s.file, br: bufio.NewReaderSize(s.file, spoolBuffer)}
	}
	_, err := s.r.Seek(0, io.SeekStart)
	return err
}

// bufferedFile reads a file through a buffer, and can seek.
type bufferedFile struct {
	f  *os.File
	br *bufio.Reader
}

func (b *bufferedFile) Read(p []byte) (int, error) { return b.br.Read(p) }

func (b *bufferedFile) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekCurrent {
		off -= int64(b.br.Buffered()) // the file is ahead of the reader
	}
	n, err := b.f.Seek(off, whence)
	b.br.Reset(b.f)
	return n, err
}

// Read reads the body.
func (s *Spooled) Read(p []byte) (int, error) { return s.r.Read(p) }

// Seek moves within the body, as io.Seeker.
func (s *Spooled) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

// Close releases the body, removing its file if it has one.
func (s *Spooled) Close() error {
	s.mem, s.r, s.w = nil, nil, nil
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if rmErr := os.Remove(s.file.Name()); rmErr != nil && err == nil {
		err = rmErr
	}
	s.file = nil
	return err
}
