package pdf

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"

	"github.com/evidence-pack/evidence/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.pdf")

var fixedTime = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// scripts are strings in each script the reports must keep.
var scripts = []struct {
	name, text string
	rtl        bool
}{
	{"accented Latin", "Café résumé naïve Ångström", false},
	{"Cyrillic", "Съешь же ещё этих булок", false},
	{"Greek", "Ελληνικά γράμματα", false},
	{"Chinese", "中文合规证据", false},
	{"Japanese", "日本語の監査証跡", false},
	{"Korean", "한국어 감사 증거", false},
	{"Arabic", "مرحبا بالعالم", true},
	{"Hebrew", "שלום עולם", true},
}

const perScript = 15 // times each string is written by scriptsDoc

func render(t testing.TB, d *Doc) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newDoc(t testing.TB, footer string) *Doc {
	t.Helper()
	d, err := New(Options{Title: "Scripts", Created: fixedTime, Footer: footer})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// scriptsDoc writes each string perScript times: in a heading, a paragraph,
// twelve times in a long wrapped paragraph and in a table cell.
func scriptsDoc(t *testing.T) []byte {
	d := newDoc(t, "scripts test")
	d.Cover("Scripts", "every script the reports keep", nil)
	var rows [][]string
	for _, s := range scripts {
		d.Heading(s.name+": "+s.text, 2)
		d.Paragraph("Paragraph: " + s.text + ".")
		d.Paragraph(strings.Repeat(s.text+" ", 12))
		rows = append(rows, []string{s.name, s.text})
	}
	d.Table([]Column{{Title: "Script", Width: 1}, {Title: "Text", Width: 3}}, rows)
	return render(t, d)
}

// squeeze drops whitespace and bidi controls (pdftotext marks RTL runs).
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s)
}

func reversed(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// footers drops the page footers, which pdftotext puts inside a paragraph
// that crosses a page break.
var footers = regexp.MustCompile(`(?m)^.*page \d+ of \d+.*$`)

func TestScriptsSurvivePdftotext(t *testing.T) {
	text := squeeze(footers.ReplaceAllString(pdftotext(t, scriptsDoc(t)), ""))
	for _, s := range scripts {
		t.Run(s.name, func(t *testing.T) {
			if !s.rtl {
				if n := strings.Count(text, squeeze(s.text)); n != perScript {
					t.Errorf("%q found %d times, want %d", s.text, n, perScript)
				}
				return
			}
			// Right-to-left: each word, in logical order (pdftotext turns the
			// visual order we draw back into it), or else reversed.
			for _, w := range strings.Fields(s.text) {
				logical, rev := strings.Count(text, w), strings.Count(text, reversed(w))
				if logical+rev < perScript {
					t.Errorf("word %q found %d times (%d reversed), want %d", w, logical+rev, rev, perScript)
				}
				if logical < perScript-3 {
					t.Errorf("word %q found in logical order %d times of %d: drawn in the wrong order", w, logical, perScript)
				}
			}
		})
	}
}

func goldenDoc(t *testing.T) []byte {
	t.Helper()
	b, err := goldenBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goldenBytes renders a small fixed report (a tenant with names in several
// scripts).
func goldenBytes() ([]byte, error) {
	d, err := New(Options{Title: "Compliance evidence — acme", Subject: "acme 2026-10", Author: "evidence test",
		Created: fixedTime, Footer: "evidence pack 20261121T000000Z-golden"})
	if err != nil {
		return nil, err
	}
	d.Cover("Compliance evidence — CIS AWS 1.4", "acme · October 2026", [][2]string{
		{"Tenant", "acme 株式会社 (日本語)"},
		{"Period (UTC)", "2026-10-01T00:00:00Z to 2026-11-01T00:00:00Z (exclusive)"},
		{"Generated at (UTC)", fixedTime.Format(time.RFC3339)},
		{"Owner", "Zoë Müller — Ελένη — Иван — 김민준 — שרה כהן — فاطمة"},
	})
	d.Heading("Summary 概要", 1)
	d.Notice("1 unit failed: 中文 account", true)
	d.Paragraph("Controls are listed with their status. Long values wrap: https://example.com/" +
		strings.Repeat("a-very-long-path/", 6) + " 中文的长段落也必须换行，而不是被截断。")
	d.BarChart("Failed controls by severity", []Bar{{"Critical", 2, [3]int{192, 0, 0}}, {"重大", 5, [3]int{230, 110, 0}}})
	d.Heading("Controls", 2)
	d.Table([]Column{{Title: "Control", Width: 1}, {Title: "Title 标题", Width: 3}, {Title: "Status", Width: 1}, {Title: "SHA-256", Width: 1.6, Mono: true}},
		[][]string{
			{"1.1", "Avoid the use of the root account", "Compliant", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
			{"1.2", "根账户不得使用访问密钥 — ルートアカウント", "NonCompliant", "中文"},
			{"1.3", "הרשאות מינימליות — أقل الامتيازات", "Compliant", "-"},
		})
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TestConcurrentDocs: documents built at once (sharing the parsed fonts)
// come out as one built alone.
func TestConcurrentDocs(t *testing.T) {
	want := goldenDoc(t)
	got := make([][]byte, 3)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i], errs[i] = goldenBytes() })
	}
	wg.Wait()
	for i, b := range got {
		if errs[i] != nil {
			t.Errorf("document %d: %v", i, errs[i])
		} else if !bytes.Equal(b, want) {
			t.Errorf("document %d built concurrently differs", i)
		}
	}
}

// TestGolden: the same document gives the same bytes, equal to
// testdata/golden.pdf. A change of layout, fonts or fpdf version changes
// it: look at the new file (pdftoppm) and rewrite it with
// go test ./internal/reportgen/pdf -run TestGolden -update.
func TestGolden(t *testing.T) {
	a, b := goldenDoc(t), goldenDoc(t)
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the same document differ")
	}
	path := filepath.Join("testdata", "golden.pdf")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, a, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if !bytes.Equal(a, want) {
		got := filepath.Join(t.TempDir(), "golden.pdf")
		_ = os.WriteFile(got, a, 0o644)
		t.Fatalf("render (%d bytes, in %s) differs from %s (%d bytes); if intended, rerun with -update", len(a), got, path, len(want))
	}
}

func TestRenderPagePNG(t *testing.T) {
	out := poppler(t, "pdftoppm", goldenDoc(t), "-png", "-r", "60", "-f", "1", "-l", "1")
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("pdftoppm output: %v", err)
	}
	// A4 at 60 dpi.
	if b := img.Bounds(); b.Dx() < 495 || b.Dx() > 497 || b.Dy() < 701 || b.Dy() > 703 {
		t.Errorf("page is %v pixels, want about 496x702", b)
	}
	if ink := inkShare(img); ink < 0.01 || ink > 0.3 {
		t.Errorf("%.1f%% of the page is ink, want a page with text", ink*100)
	}
}

func inkShare(img image.Image) float64 {
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r+g+bl < 3*0xC000 {
				dark++
			}
		}
	}
	return float64(dark) / float64(b.Dx()*b.Dy())
}

var narrowCases = []struct{ name, text string }{
	{"URL", "https://example.com/" + strings.Repeat("very-long-path-segment/", 8) + "?query=1"},
	{"long word", strings.Repeat("Supercalifragilistic", 8)},
	{"CJK", strings.Repeat("中文日本語한국어", 10)},
	{"mixed", "ID 中文abc" + strings.Repeat("x", 60) + " مرحبا بالعالم Ελληνικά"},
	{"Korean words", strings.Repeat("한국어 감사 증거 ", 8)},
}

func narrowTable() []Column {
	return []Column{{Title: "Control", Width: 1}, {Title: "Narrow", Width: 0.55}, {Title: "Rest", Width: 3}, {Title: "Hash", Width: 0.6, Mono: true}}
}

// TestNarrowColumnWraps: long words, URLs and CJK in a narrow column wrap
// within it, each line measured by fpdf itself in the faces that draw it,
// and no character is lost.
func TestNarrowColumnWraps(t *testing.T) {
	cols := narrowTable()
	d := newDoc(t, "")
	d.Page()
	for ci := 1; ci <= 3; ci += 2 { // the narrow column, then the mono one
		for _, c := range narrowCases {
			t.Run(fmt.Sprintf("%s/%s", cols[ci].Title, c.name), func(t *testing.T) {
				w := d.columnWidths(cols)[ci] - 1
				d.cellFont(cols[ci], false)
				lines := d.wrap(clean(c.text), w)
				if len(lines) < 2 {
					t.Fatalf("not wrapped: %q", lines)
				}
				if got, want := squeeze(strings.Join(lines, "")), squeeze(c.text); got != want {
					t.Errorf("characters lost:\n got %q\nwant %q", got, want)
				}
				room := w - 2*d.f.GetCellMargin()
				for _, l := range lines {
					if lw := fpdfWidth(d, l); lw > room+1e-9 {
						t.Errorf("line %q is %.2f mm wide, room %.2f mm", l, lw, room)
					}
				}
			})
		}
	}
}

// fpdfWidth measures a line as drawn: each run in the face that draws it,
// by fpdf's GetStringWidth.
func fpdfWidth(d *Doc, s string) float64 {
	chain := d.st.chain()
	total := 0.0
	for _, r := range s {
		d.useFace(chain[d.faceOf(r)])
		total += d.f.GetStringWidth(string(r))
	}
	d.useFace(chain[0])
	return total
}

var bboxWord = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>`)

// TestNarrowColumnTextLayer checks the same in the PDF as pdftotext reads
// it: every word that starts in the narrow column ends in it.
func TestNarrowColumnTextLayer(t *testing.T) {
	d := newDoc(t, "")
	d.Page()
	cols := narrowTable()
	var rows [][]string
	for _, c := range narrowCases {
		rows = append(rows, []string{c.name, c.text, "rest", c.text})
	}
	d.Table(cols, rows)
	out := poppler(t, "pdftotext", render(t, d), "-bbox")
	const pt = 72 / 25.4
	widths := d.columnWidths(cols)
	for ci := 1; ci <= 3; ci += 2 {
		left := marginMM
		for _, w := range widths[:ci] {
			left += w
		}
		right := left + widths[ci]
		words := 0
		for _, m := range bboxWord.FindAllStringSubmatch(string(out), -1) {
			x0, _ := strconv.ParseFloat(m[1], 64)
			x1, _ := strconv.ParseFloat(m[3], 64)
			if x0 < left*pt || x0 >= right*pt || m[4] == cols[ci].Title {
				continue
			}
			words++
			if x1 > right*pt+0.01 {
				t.Errorf("column %s: %q ends at %.1f pt, past the column's edge at %.1f pt", cols[ci].Title, m[4], x1, right*pt)
			}
		}
		if words < 20 {
			t.Errorf("column %s: only %d words found", cols[ci].Title, words)
		}
	}
}

// TestTallRowContinues: a row taller than a page goes on over the page
// break under the repeated header, nothing lost and nothing drawn over the
// footer.
func TestTallRowContinues(t *testing.T) {
	d := newDoc(t, "tall")
	d.Heading("Tall row", 1) // on a first page that Heading opens
	tall := strings.Repeat("中文字符", 150) + " " + strings.Repeat("word ", 300)
	d.Table(narrowTable(), [][]string{{"first", "short", "x", "y"}, {"tall", tall, "end", "z"}, {"last", "short", "x", "y"}})
	b := render(t, d)
	text := pdftotext(t, b)
	pages := strings.Count(text, "\f")
	if pages < 3 {
		t.Fatalf("%d pages, want the tall row over at least 3", pages)
	}
	if n := strings.Count(text, "Narrow"); n != pages {
		t.Errorf("header on %d of %d pages", n, pages)
	}
	for _, want := range []string{"Tall row", "first", "short", "end", "last"} {
		if !strings.Contains(text, want) {
			t.Errorf("%q lost", want)
		}
	}
	if n := strings.Count(text, "中"); n != 150 {
		t.Errorf("%d of 150 中 found", n)
	}
	if n := strings.Count(text, "word"); n != 300 {
		t.Errorf("%d of 300 words found", n)
	}
	const pt = 72 / 25.4
	bottom, footer := (d.height-footerRoom-5)*pt, (d.height-footerRoom)*pt
	for _, m := range bboxWord.FindAllStringSubmatch(string(poppler(t, "pdftotext", b, "-bbox")), -1) {
		y0, _ := strconv.ParseFloat(m[2], 64)
		if y0 > bottom-1 && y0 < footer-1 {
			t.Errorf("%q at %.1f pt, below the text area (%.1f pt) and above the footer", m[4], y0, bottom)
		}
	}
}

// TestWrapASCIIMatchesFpdf: ASCII text wraps exactly as fpdf wraps it, so
// documents without other scripts keep their layout.
func TestWrapASCIIMatchesFpdf(t *testing.T) {
	texts := []string{
		"",
		"short",
		strings.Repeat("A long paragraph that must wrap rather than be cut. ", 12),
		"https://example.com/" + strings.Repeat("verylongpath", 20),
		"two\nlines\n\nand a blank one\n",
		"x " + strings.Repeat("y", 300) + " z",
	}
	d := newDoc(t, "")
	for _, st := range []style{regular, bold, monospace} {
		for _, w := range []float64{12, 30, 75, 180} {
			for i, s := range texts {
				d.setFont(st, bodySize)
				got := d.wrap(s, w)
				want := d.f.SplitText(s, w)
				if len(want) == 0 {
					want = []string{""} // MultiCell writes one empty line
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("style %d width %v text %d:\n got %q\nwant %q", st, w, i, got, want)
				}
			}
		}
	}
}

// TestMetricsMatchFpdf: the widths and coverage read from the fonts are
// fpdf's own.
func TestMetricsMatchFpdf(t *testing.T) {
	m, err := fontMetrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, fc := range []face{sans, sansBold, sansMono, cjk} {
		t.Run(fc.file, func(t *testing.T) {
			b, err := templates.Font(fc.file)
			if err != nil {
				t.Fatal(err)
			}
			f := fpdf.New("P", "mm", "A4", "")
			f.AddUTF8FontFromBytes("x", "", b)
			f.SetFont("x", "", 10)
			if err := f.Error(); err != nil {
				t.Fatal(err)
			}
			fm := m[fc.file]
			covered := 0
			for r := rune(1); r < 0x10000; r += 7 { // a sample across the plane
				if !fm.has(r) {
					continue
				}
				covered++
				if got, want := fm.width(r), f.GetStringSymbolWidth(string(r)); got != want {
					t.Fatalf("%U: width %d, fpdf %d", r, got, want)
				}
			}
			if covered < 300 {
				t.Errorf("only %d runes covered", covered)
			}
		})
	}
	for _, c := range []struct {
		file string
		r    rune
		has  bool
	}{
		{sans.file, 'é', true}, {sans.file, 'ж', true}, {sans.file, 'ש', true}, {sans.file, 'م', true},
		{sans.file, '中', false}, {cjk.file, '中', true}, {cjk.file, 'の', true}, {cjk.file, '한', true},
		{cjk.file, 'ש', false}, {sansMono.file, 'ש', false},
	} {
		if got := m[c.file].has(c.r); got != c.has {
			t.Errorf("%s has %q: %v, want %v", c.file, c.r, got, c.has)
		}
	}
}

func TestParseMetricsRejectsBadFonts(t *testing.T) {
	good, err := templates.Font(sans.file)
	if err != nil {
		t.Fatal(err)
	}
	bigDir := append([]byte{0, 1, 0, 0, 0xFF, 0xFF}, make([]byte, 10)...)
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", []byte("ttf")},
		{"huge table count", bigDir},
		{"text", bytes.Repeat([]byte("not a font "), 100)},
		{"cut at 1 KB", good[:1024]},
		{"cut in half", good[:len(good)/2]},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseMetrics(c.b); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestVisualOrder(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain ASCII", "plain ASCII"},
		{"Ελληνικά", "Ελληνικά"},
		{"שלום", "םולש"},
		{"abc שלום def", "abc םולש def"},
		{"שלום עולם", "םלוע םולש"},
		{"שלום 2024", "2024 םולש"},
		{"שנת 2024 היא", "איה 2024 תנש"},
		{"עלות 3.14 ש", "ש 3.14 תולע"},
		{"abc (שלום) def", "abc (םולש) def"},
		{"שלום (עולם)", "(םלוע) םולש"},
		{"مرحبا بالعالم", "ملاعلاب ابحرم"},
		{"عام ٢٠٢٤", "٢٠٢٤ ماع"},
		{"שָׁלוֹם", "םוֹלשָׁ"}, // points stay after their letter
		{"שלום (abc)", "םולש (abc)"},
		{"שלום [עולם] (abc)", "[םלוע] םולש (abc)"},
		{"a — مرحبا — b", "a — ابحرم — b"},
	} {
		if got := string(visual(c.in)); got != c.want {
			t.Errorf("visual(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ascii", "ascii"},
		{"tab\there\r\n", "tab here\n"},
		{"emoji 😀 and 𠀋", "emoji \uFFFD and \uFFFD"},
		{"bad \xff\xfe utf-8", "bad \uFFFD\uFFFD utf-8"},
		{"中文 ok", "中文 ok"},
	} {
		if got := clean(c.in); got != c.want {
			t.Errorf("clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCJKFontSubsetOnlyWhenUsed: the CJK font is embedded only in documents
// with CJK text, and subset there: a few characters cost a few KB, not the
// font's 3.4 MB.
// The monospaced face is embedded only in documents with monospaced text
// (a column of checksums), not in every report.
func TestMonoFontOnlyWhenUsed(t *testing.T) {
	doc := func(mono bool) []byte {
		d := newDoc(t, "mono")
		d.Table([]Column{{Title: "File", Width: 2}, {Title: "SHA-256", Width: 2, Mono: mono}}, [][]string{{"summary.pdf", "9f86d081884c7d65"}})
		return render(t, d)
	}
	const name = "utf8dejavumono"
	if b := doc(false); bytes.Contains(b, []byte(name)) {
		t.Error("a document without monospaced text embeds the monospaced font")
	}
	if b := doc(true); !bytes.Contains(b, []byte(name)) {
		t.Error("a document with monospaced text does not embed the monospaced font")
	}
}

func TestCJKFontSubsetOnlyWhenUsed(t *testing.T) {
	doc := func(s string) []byte {
		d := newDoc(t, "size")
		d.Cover("Size", "", [][2]string{{"Tenant", s}})
		return render(t, d)
	}
	latin, withCJK := doc("acme"), doc("acme 株式会社 한국어")
	const name = "utf8droidsansfallback"
	if bytes.Contains(latin, []byte(name)) {
		t.Error("document without CJK embeds the CJK font")
	}
	if !bytes.Contains(withCJK, []byte(name)) {
		t.Error("document with CJK does not embed the CJK font")
	}
	if extra := len(withCJK) - len(latin); extra > 20<<10 {
		t.Errorf("8 CJK characters add %d bytes", extra)
	} else {
		t.Logf("without CJK %d bytes, with 8 CJK characters %d bytes (+%d)", len(latin), len(withCJK), extra)
	}
}

// TestCJKDrawnWithGlyphs: CJK is drawn with real glyphs, not the missing-
// glyph boxes that a font without it draws (the text layer alone would not
// show the difference).
func TestCJKDrawnWithGlyphs(t *testing.T) {
	page := func(s string) image.Image {
		d := newDoc(t, "")
		d.Page()
		d.setFont(regular, 40)
		d.text(d.width, 20, s, "L", false)
		out := poppler(t, "pdftoppm", render(t, d), "-png", "-r", "40", "-f", "1", "-l", "1")
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	boxes := page("\uE000\uE001\uE002 \uE003\uE004\uE005 \uE006\uE007\uE008") // private use: no font has them
	for _, s := range []string{"中文字 日本語 한국어"} {
		img := page(s)
		differ := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r1, _, _, _ := img.At(x, y).RGBA()
				r2, _, _, _ := boxes.At(x, y).RGBA()
				if (r1 < 0x8000) != (r2 < 0x8000) {
					differ++
				}
			}
		}
		if differ < 200 {
			t.Errorf("%q draws like missing-glyph boxes (%d pixels differ)", s, differ)
		}
	}
}

// FuzzDocText: no text, however odd, makes a document fail or panic.
func FuzzDocText(f *testing.F) {
	for _, s := range []string{"", "plain", "中文 한국어 日本語", "שלום (עולם) 2024", "مرحبا\tبالعالم\r\n", "😀\xff\x00", strings.Repeat("长", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := newDoc(t, s)
		d.Cover(s, s, [][2]string{{s, s}})
		d.Heading(s, 1)
		d.Notice(s, true)
		d.Paragraph(s)
		d.BarChart(s, []Bar{{s, 1, [3]int{1, 2, 3}}})
		d.Table([]Column{{Title: s, Width: 0.2}, {Title: "b", Width: 1, Mono: true}}, [][]string{{s, s}, {s}})
		render(t, d)
	})
}
