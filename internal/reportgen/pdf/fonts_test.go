package pdf

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/evidence-pack/evidence/templates"
)

// BenchmarkSmallDoc: a one-page document, as most of a pack's PDFs are; its
// cost is mostly the fonts' (parsing and subsetting).
func BenchmarkSmallDoc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, err := New(Options{Title: "Evidence", Created: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		d.Heading("Summary", 1)
		d.Paragraph("A short paragraph, in bold and mono as well.")
		d.KeyValues([][2]string{{"Tenant", "acme"}})
		var buf bytes.Buffer
		if _, err := d.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFpdfWritesIntoFontBytes pins down why every document registers a
// fresh copy of each font file (templates.Font copies) rather than one
// shared buffer: fpdf v0.9.0 writes into the bytes it is given. Its
// utf8FontFile.getMetrics appends to a slice of the file for glyphs past
// the hmtx table's long metrics, overwriting the file's next two bytes. A
// buffer shared by documents built at once is a data race (TestConcurrentDocs
// under -race reports it) and changes what later documents embed. Should
// this test fail, fpdf no longer does that and the fonts could be shared.
func TestFpdfWritesIntoFontBytes(t *testing.T) {
	b, err := templates.Font(sansMono.file)
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(b)
	f := fpdf.New("P", "mm", "A4", "")
	f.AddUTF8FontFromBytes(sansMono.family, sansMono.style, b)
	f.AddPage()
	f.SetFont(sansMono.family, sansMono.style, 10)
	f.Cell(40, 10, "sha256 0123456789abcdef")
	if err := f.Output(io.Discard); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b, orig) {
		t.Fatal("fpdf left the font bytes as they were: it may be safe to share one copy between documents now")
	}
}
