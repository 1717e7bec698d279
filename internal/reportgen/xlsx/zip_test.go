package xlsx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A part copied from a sized, seekable reader (a streamed sheet in its
// temporary file) is deflated at Close, beside the others: the archive must
// be byte for byte the one written when every part is deflated as it is
// copied.
func TestSpoolZipDeferredPartsSameBytes(t *testing.T) {
	dir := t.TempDir()
	sheets := map[string]string{}
	for i, rows := range []int{30000, 5000, 60000} { // over spoolMemMax once deflated, and under it
		var b strings.Builder
		for r := range rows {
			fmt.Fprintf(&b, `<row r="%d"><c t="inlineStr"><is><t>resource-%d-%d</t></is></c><c><v>%d</v></c></row>`, r+1, i, r%977, r*7919%104729)
		}
		path := filepath.Join(dir, fmt.Sprintf("sheet%d", i+1))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		sheets[fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1)] = path
	}
	write := func(deferred bool) []byte {
		var out bytes.Buffer
		z := newSpoolZip(&out, dir)
		for _, name := range []string{"xl/worksheets/sheet2.xml", "xl/worksheets/sheet1.xml", "xl/worksheets/sheet3.xml"} {
			f, err := os.Open(sheets[name])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			w, err := z.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			var dst io.Writer = w
			if !deferred {
				dst = struct{ io.Writer }{w} // hides ReadFrom: copied now
			}
			if n, err := io.Copy(dst, io.NewSectionReader(f, 0, fi.Size())); err != nil || n != fi.Size() {
				t.Fatalf("copy %s: %d of %d bytes, %v", name, n, fi.Size(), err)
			}
		}
		for _, name := range []string{"xl/workbook.xml", "[Content_Types].xml"} {
			w, err := z.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "<"+name+"/>")
		}
		waiting := 0
		for _, p := range z.parts {
			if p.src != nil {
				waiting++
			}
		}
		if want := map[bool]int{false: 0, true: len(sheets)}[deferred]; waiting != want {
			t.Fatalf("%d parts left for Close, want %d", waiting, want)
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	now, later := write(false), write(true)
	if !bytes.Equal(now, later) {
		t.Fatalf("deferred parts changed the archive: %d bytes, %d copied at once", len(later), len(now))
	}
	zr, err := zip.NewReader(bytes.NewReader(later), int64(len(later)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // checks the CRC
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if path, ok := sheets[f.Name]; ok {
			want, _ := os.ReadFile(path)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: read back %d bytes, want %d", f.Name, len(got), len(want))
			}
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "evidence-xlsx-*")); len(left) > 0 {
		t.Errorf("spool files left behind: %v", left)
	}
}
