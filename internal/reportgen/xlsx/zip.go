package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
)

// spoolZip is the excelize.ZipWriter the workbook saves through. excelize
// writes the parts of a package in an order that depends on Go's map
// iteration (its streamed worksheets come from a map), and it builds the whole
// archive in a bytes.Buffer before copying it out. spoolZip fixes both: each
// part is deflated as it arrives into a spool (memory up to spoolMemMax, then
// a temporary file), and Close writes the parts to out, in a fixed order, as
// raw (already compressed) entries. The archive therefore never sits whole in
// memory and is byte-identical for the same parts.
//
// A part excelize copies from a sized, seekable reader (a streamed sheet,
// which excelize keeps in a temporary file until File.Close) is not read
// when copied but at Close, where such parts are deflated side by side, one
// per P: a workbook of several large sheets then closes in about the time
// of its largest sheet, not of all of them one after the other. (The last
// workbook of a run closes when nothing else is left to run.) Each part is
// still deflated alone, from its start, at the same level, so the archive's
// bytes do not change.
type spoolZip struct {
	out    io.Writer
	tmpDir string

	parts []*spoolPart
	cur   *spoolPart
	fw    *flate.Writer // reused across parts
	err   error
}

const spoolMemMax = 4 << 20

type spoolPart struct {
	name  string
	crc   hash.Hash32
	size  uint64 // uncompressed
	csize uint64 // compressed
	mem   bytes.Buffer
	file  *os.File
	owner *spoolZip
	// src is a deferred part's data (partWriter.ReadFrom), read at Close.
	src io.Reader
}

func newSpoolZip(out io.Writer, tmpDir string) *spoolZip {
	return &spoolZip{out: out, tmpDir: tmpDir}
}

// Create starts a new part; the previous one is finished.
func (z *spoolZip) Create(name string) (io.Writer, error) {
	if z.err != nil {
		return nil, z.err
	}
	if err := z.finish(); err != nil {
		return nil, err
	}
	p := &spoolPart{name: name, crc: crc32.NewIEEE(), owner: z}
	if z.fw == nil {
		fw, err := flate.NewWriter(p.sink(), flate.DefaultCompression)
		if err != nil {
			return nil, z.fail(err)
		}
		z.fw = fw
	} else {
		z.fw.Reset(p.sink())
	}
	z.cur = p
	z.parts = append(z.parts, p)
	return partWriter{p}, nil
}

// AddFS adds the regular files of fsys; excelize does not use it.
func (z *spoolZip) AddFS(fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fsys.Open(name)
		if err != nil {
			return err
		}
		defer src.Close()
		w, err := z.Create(name)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, src)
		return err
	})
}

// Close writes every part to out in canonical order and releases the spools.
// It does not close out.
func (z *spoolZip) Close() error {
	defer z.release()
	if z.err != nil {
		return z.err
	}
	if err := z.finish(); err != nil {
		return err
	}
	if err := z.deflateDeferred(); err != nil {
		return z.fail(err)
	}
	sort.SliceStable(z.parts, func(i, j int) bool {
		ri, rj := partRank(z.parts[i].name), partRank(z.parts[j].name)
		if ri != rj {
			return ri < rj
		}
		return z.parts[i].name < z.parts[j].name
	})
	zw := zip.NewWriter(z.out)
	for _, p := range z.parts {
		fh := &zip.FileHeader{
			Name:               p.name,
			Method:             zip.Deflate,
			CRC32:              p.crc.Sum32(),
			CompressedSize64:   p.csize,
			UncompressedSize64: p.size,
			CreatorVersion:     20,
			ReaderVersion:      20,
		}
		if p.size >= math.MaxUint32 || p.csize >= math.MaxUint32 {
			// Sizes go to a ZIP64 data descriptor after the data.
			fh.ReaderVersion = 45
			fh.Flags |= 0x8
		}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return z.fail(err)
		}
		r, err := p.reader()
		if err != nil {
			return z.fail(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			return z.fail(err)
		}
		p.drop()
	}
	if err := zw.Close(); err != nil {
		return z.fail(err)
	}
	return nil
}

// deflateDeferred deflates the parts whose data ReadFrom left in place,
// at most one per P at a time, the largest first so that the last to
// start is a short one. The parts' order in the archive is Close's, not
// this one's.
func (z *spoolZip) deflateDeferred() error {
	var todo []*spoolPart
	for _, p := range z.parts {
		if p.src != nil {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].size > todo[j].size })
	next := make(chan *spoolPart, len(todo))
	for _, p := range todo {
		next <- p
	}
	close(next)
	errs := make([]error, min(runtime.GOMAXPROCS(0), len(todo)))
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			var fw *flate.Writer
			for p := range next {
				if errs[i] == nil {
					errs[i] = p.deflate(&fw)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deflate compresses a deferred part's data into its spool, with *fw
// (made on first use, reset for each part: one per goroutine). Its size
// and CRC are counted again as the data is read.
func (p *spoolPart) deflate(fw **flate.Writer) error {
	src := p.src
	p.src, p.size = nil, 0
	if *fw == nil {
		w, err := flate.NewWriter(p.sink(), flate.DefaultCompression)
		if err != nil {
			return err
		}
		*fw = w
	} else {
		(*fw).Reset(p.sink())
	}
	// io.Copy as excelize called it: the same reads, so the same writes.
	if _, err := io.Copy(deflater{p, *fw}, src); err != nil {
		return fmt.Errorf("xlsx: deflate %s: %w", p.name, err)
	}
	if err := (*fw).Close(); err != nil {
		return fmt.Errorf("xlsx: deflate %s: %w", p.name, err)
	}
	return nil
}

// deflater writes a deferred part's data into its flate writer.
type deflater struct {
	p  *spoolPart
	fw *flate.Writer
}

func (d deflater) Write(b []byte) (int, error) {
	d.p.crc.Write(b)
	d.p.size += uint64(len(b))
	return d.fw.Write(b)
}

// partRank orders the parts of the package the way Office writes them.
func partRank(name string) int {
	switch {
	case name == "[Content_Types].xml":
		return 0
	case name == "_rels/.rels":
		return 1
	case strings.HasPrefix(name, "docProps/"):
		return 2
	case name == "xl/workbook.xml":
		return 3
	case strings.HasPrefix(name, "xl/_rels/"):
		return 4
	case strings.HasPrefix(name, "xl/worksheets/"):
		return 6
	case strings.HasPrefix(name, "xl/"):
		return 5
	}
	return 7
}

func (z *spoolZip) fail(err error) error {
	if z.err == nil {
		z.err = err
	}
	return z.err
}

// finish completes the current part.
func (z *spoolZip) finish() error {
	if z.cur == nil {
		return nil
	}
	z.cur = nil
	if err := z.fw.Close(); err != nil {
		return z.fail(err)
	}
	return nil
}

// release removes every spool file.
func (z *spoolZip) release() {
	for _, p := range z.parts {
		p.drop()
	}
	z.parts, z.cur = nil, nil
}

type partWriter struct{ p *spoolPart }

func (w partWriter) Write(b []byte) (int, error) {
	z := w.p.owner
	if z.err != nil {
		return 0, z.err
	}
	if z.cur != w.p {
		return 0, z.fail(errors.New("xlsx: write to a finished zip part"))
	}
	w.p.crc.Write(b)
	w.p.size += uint64(len(b))
	if _, err := z.fw.Write(b); err != nil {
		return 0, z.fail(err)
	}
	return len(b), nil
}

// sizedReader is what excelize copies a streamed sheet from: an
// io.SectionReader over its temporary file.
type sizedReader interface {
	io.ReadSeeker
	Size() int64
}

// ReadFrom defers reading a sized, seekable src to Close (see spoolZip),
// which excelize calls before File.Close removes what src reads; it
// returns the bytes src has left, which excelize counts to decide on
// ZIP64. Any other src is copied now.
func (w partWriter) ReadFrom(src io.Reader) (int64, error) {
	z := w.p.owner
	if z.err != nil {
		return 0, z.err
	}
	sr, ok := src.(sizedReader)
	if !ok || z.cur != w.p || w.p.size > 0 {
		return io.Copy(struct{ io.Writer }{w}, src)
	}
	off, err := sr.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, z.fail(err)
	}
	n := sr.Size() - off
	// The part ends here, with nothing written through the shared flate
	// writer: the next Create resets it without closing it over this part.
	// size orders the deferred parts until deflate counts it again.
	z.cur = nil
	w.p.src, w.p.size = src, uint64(n)
	return n, nil
}

// sink is where the compressed bytes of p go.
func (p *spoolPart) sink() io.Writer { return spoolSink{p} }

type spoolSink struct{ p *spoolPart }

func (s spoolSink) Write(b []byte) (int, error) {
	p := s.p
	p.csize += uint64(len(b))
	if p.file == nil && p.mem.Len()+len(b) > spoolMemMax {
		// Errors go back through the flate writer to whoever deflates p,
		// which may be one of Close's goroutines: p.owner is not touched.
		f, err := os.CreateTemp(p.owner.tmpDir, "evidence-xlsx-*")
		if err != nil {
			return 0, err
		}
		p.file = f
		if _, err := p.mem.WriteTo(f); err != nil {
			return 0, err
		}
		p.mem = bytes.Buffer{}
	}
	if p.file != nil {
		return p.file.Write(b)
	}
	return p.mem.Write(b)
}

func (p *spoolPart) reader() (io.Reader, error) {
	if p.file == nil {
		return bytes.NewReader(p.mem.Bytes()), nil
	}
	if _, err := p.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return p.file, nil
}

func (p *spoolPart) drop() {
	p.mem = bytes.Buffer{}
	if p.file != nil {
		name := p.file.Name()
		_ = p.file.Close()
		_ = os.Remove(name)
		p.file = nil
	}
}
