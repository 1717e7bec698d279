package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// MaxPageBytes bounds one buffered response. A Lacework page is at most 5,000
// rows; even wide rows stay far below this.
const MaxPageBytes = 512 << 20

// JSON sends r and decodes a 2xx body into v. The body is buffered whole
// (one page), so a connection dropped mid-body is retried and v only ever
// sees a complete response.
func (c *Client) JSON(ctx context.Context, r Request, v any) error {
	var buf bytes.Buffer
	err := c.Do(ctx, r, func(body io.Reader) error {
		buf.Reset()
		n, err := buf.ReadFrom(io.LimitReader(body, MaxPageBytes+1))
		if err != nil {
			return err
		}
		if n > MaxPageBytes {
			return fmt.Errorf("%s %s: response larger than %d bytes", r.Method, r.Path, MaxPageBytes)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		return fmt.Errorf("%s %s%s: decode response: %w", r.Method, r.Path, r.URL, err)
	}
	return nil
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
	err = c.Do(ctx, r, func(body io.Reader) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		n, err := io.Copy(f, body)
		s.Size = n
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
}

// Close closes and removes the file.
func (s *Spooled) Close() error {
	err := s.File.Close()
	if rmErr := os.Remove(s.Name()); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}
