package emulator

import (
	"bytes"
	"fmt"
	"strings"
)

// writePDF writes a minimal, valid single-page PDF 1.4 document: catalog,
// page tree, one page whose content stream shows heading and lines in
// Helvetica, an info dictionary, and a cross-reference table with exact
// byte offsets. Text is restricted to printable ASCII (others become '?'),
// so the output is deterministic and readable by any PDF text extractor.
func writePDF(b *bytes.Buffer, title, heading string, lines []string) {
	var content strings.Builder
	content.WriteString("BT\n/F1 16 Tf\n72 740 Td\n(" + pdfText(heading) + ") Tj\n/F1 10 Tf\n")
	for _, l := range lines {
		content.WriteString("0 -18 Td\n(" + pdfText(l) + ") Tj\n")
	}
	content.WriteString("ET\n")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Title (" + pdfText(title) + ") /Producer (Lacework API v2 emulator) >>",
	}
	start := b.Len()
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len() - start
		fmt.Fprintf(b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len() - start
	fmt.Fprintf(b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(b, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF", len(objects)+1, len(objects), xref)
}

// pdfText escapes a string for a PDF literal string.
func pdfText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '(' || r == ')':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
