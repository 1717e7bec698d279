package pack_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/evidence-pack/evidence/internal/pack"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

func TestRunID(t *testing.T) {
	now := time.Date(2026, 11, 21, 3, 4, 5, 999, time.FixedZone("X", -5*3600))
	got := pack.RunID(now, bytes.NewReader([]byte{0x3f, 0x9a, 0x1c, 0xff}))
	if want := "20261121T080405Z-3f9a1c"; got != want {
		t.Errorf("RunID = %q, want %q", got, want)
	}
	a, b := pack.RunID(now, nil), pack.RunID(now, iotest.ErrReader(errors.New("no entropy")))
	for _, id := range []string{a, b} {
		if len(id) != len(got) || !strings.HasPrefix(id, "20261121T080405Z-") {
			t.Errorf("RunID with crypto/rand = %q", id)
		}
	}
}

func TestPeriodLabel(t *testing.T) {
	d := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct{ from, to, want string }{
		{"2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-21"},
		{"2026-11-21T03:00:00Z", "2026-11-21T05:00:00Z", "2026-11-21"},
		{"2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-10-01_2026-10-31"},
		{"2026-10-01T00:00:00Z", "2026-10-31T12:00:00Z", "2026-10-01_2026-10-31"},
		{"2026-11-21T22:00:00-02:00", "2026-11-22T22:00:00-02:00", "2026-11-22"}, // UTC days
		{"2026-11-21T23:00:00-02:00", "2026-11-22T23:00:00-02:00", "2026-11-22_2026-11-23"},
		{"2026-11-21T00:00:00Z", "2026-11-21T00:00:00Z", "2026-11-21"}, // empty
	}
	for _, tc := range tests {
		if got := pack.PeriodLabel(d(tc.from), d(tc.to)); got != tc.want {
			t.Errorf("PeriodLabel(%s, %s) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestManifestGolden(t *testing.T) {
	m := sampleManifest(runID)
	m.Files = []pack.File{
		{Path: "summary.pdf", Size: 5000, SHA256: strings.Repeat("ab", 32), MediaType: pack.MediaTypePDF},
		{Path: "SHA256SUMS", Size: 90, SHA256: strings.Repeat("01", 32), MediaType: pack.MediaTypeText},
		{Path: "parquet/e/account=1/part-00000.parquet", Size: 7, SHA256: strings.Repeat("cd", 32), MediaType: pack.MediaTypeParquet, Rows: rows(5000)},
	}
	m.Schema = pack.Schema
	got, err := pack.EncodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "manifest.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("EncodeManifest differs from %s (go test -update to accept):\n%s", golden, got)
	}
	// Decode and encode again: the same bytes.
	back, err := pack.DecodeManifest(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	again, err := pack.EncodeManifest(back)
	if err != nil || !bytes.Equal(again, got) {
		t.Errorf("round trip changed the bytes (%v):\n%s", err, again)
	}
	if m.Files[0].Path != "summary.pdf" {
		t.Error("EncodeManifest modified its argument")
	}
}

func TestDecodeManifestStrict(t *testing.T) {
	valid, err := pack.EncodeManifest(pack.Manifest{Schema: pack.Schema})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"unknown field":  `{"schema":"evidence-pack/v1","secret":"x"}`,
		"other schema":   `{"schema":"evidence-pack/v2","new_field":1}`,
		"no schema":      `{}`,
		"trailing data":  string(valid) + "{}",
		"not json":       "manifest",
		"wrong type":     `{"schema":"evidence-pack/v1","files":{}}`,
		"empty":          "",
		"fraction bytes": `{"schema":"evidence-pack/v1","files":[{"size":1.5}]}`,
	}
	for name, in := range tests {
		if _, err := pack.DecodeManifest(strings.NewReader(in)); !errors.Is(err, pack.ErrBadManifest) {
			t.Errorf("%s: DecodeManifest = %v, want ErrBadManifest", name, err)
		}
	}
	if _, err := pack.DecodeManifest(bytes.NewReader(valid)); err != nil {
		t.Errorf("DecodeManifest(valid) = %v", err)
	}
}

func TestValidate(t *testing.T) {
	m := sampleManifest(runID)
	m.Schema = pack.Schema
	m.Period.To = m.Period.From
	m.Files = []pack.File{
		{Path: "b", SHA256: strings.Repeat("a", 64)},
		{Path: "a", SHA256: strings.Repeat("A", 64)},
		{Path: "a", SHA256: strings.Repeat("a", 64), Size: -1},
		{Path: "../x", SHA256: strings.Repeat("a", 64)},
		{Path: "manifest.json", SHA256: strings.Repeat("a", 64)},
	}
	err := m.Validate()
	for _, want := range []string{"period.to", "out of order", "lower-case hex", "listed twice", "negative size",
		"not a clean relative path", "cannot list itself", "does not list SHA256SUMS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to mention %q", err, want)
		}
	}
}

func sum(c byte, p string) pack.Sum { return pack.Sum{SHA256: strings.Repeat(string(c), 64), Path: p} }

func TestSumsRoundTrip(t *testing.T) {
	in := []pack.Sum{sum('b', "z.pdf"), sum('a', "frameworks/x/evidence.xlsx"), sum('0', "a b.txt")}
	var buf bytes.Buffer
	if err := pack.WriteSums(&buf, in); err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("0", 64) + "  a b.txt\n" + strings.Repeat("a", 64) + "  frameworks/x/evidence.xlsx\n" + strings.Repeat("b", 64) + "  z.pdf\n"
	if buf.String() != want {
		t.Errorf("WriteSums =\n%s\nwant\n%s", buf.String(), want)
	}
	out, err := pack.ParseSums(&buf)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(in, func(a, b pack.Sum) int { return strings.Compare(a.Path, b.Path) })
	if !slices.Equal(out, in) {
		t.Errorf("ParseSums = %v, want %v", out, in)
	}
	if got, err := pack.ParseSums(strings.NewReader("")); err != nil || len(got) != 0 {
		t.Errorf("ParseSums(empty) = %v, %v", got, err)
	}
}

func TestWriteSumsRefuses(t *testing.T) {
	for name, sums := range map[string][]pack.Sum{
		"duplicate":  {sum('a', "x"), sum('b', "x")},
		"bad path":   {sum('a', "../x")},
		"newline":    {sum('a', "a\nb")},
		"backslash":  {sum('a', `a\b`)},
		"reserved":   {sum('a', pack.ManifestName)},
		"itself":     {sum('a', pack.SumsName)},
		"upper hex":  {sum('A', "x")},
		"short hash": {{SHA256: "abc", Path: "x"}},
	} {
		var buf bytes.Buffer
		if err := pack.WriteSums(&buf, sums); err == nil || buf.Len() != 0 {
			t.Errorf("%s: WriteSums = %v, wrote %q", name, err, buf.String())
		}
	}
}

func TestParseSumsErrors(t *testing.T) {
	h := strings.Repeat("a", 64)
	ok := h + "  a\n"
	tests := []struct {
		name, in string
		line     int
	}{
		{"no final newline", ok + h + "  b", 2},
		{"empty line", ok + "\n", 2},
		{"one space", h + " a\n", 1},
		{"binary mode", h + " *a\n", 1},
		{"upper hex", strings.Repeat("A", 64) + "  a\n", 1},
		{"short hash", "abc  a\n", 1},
		{"no path", h + "  \n", 1},
		{"CRLF", h + "  a\r\n", 1},
		{"dot dot", ok + h + "  ../b\n", 2},
		{"escaped name", `\` + h + "  a\\b\n", 1},
		{"duplicate", ok + ok, 2},
		{"unsorted", h + "  b\n" + ok, 2},
		{"lists manifest", h + "  manifest.json\n", 1},
		{"long line", h + "  " + strings.Repeat("x", 9000) + "\n", 1},
	}
	for _, tc := range tests {
		_, err := pack.ParseSums(strings.NewReader(tc.in))
		var se *pack.SumsError
		if !errors.As(err, &se) || se.Line != tc.line {
			t.Errorf("%s: ParseSums = %v, want a SumsError on line %d", tc.name, err, tc.line)
		}
	}
	readErr := errors.New("disk")
	if _, err := pack.ParseSums(iotest.ErrReader(readErr)); !errors.Is(err, readErr) {
		t.Errorf("ParseSums(failing reader) = %v", err)
	}
}

// Parse then write gives the same bytes: the format is canonical.
func FuzzParseSums(f *testing.F) {
	h := strings.Repeat("a", 64)
	for _, s := range []string{"", h + "  a\n", h + "  a\n" + h + "  b/c.pdf\n", h + " a\n", h + "  a", "\n", h + "  a\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sums, err := pack.ParseSums(bytes.NewReader(in))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := pack.WriteSums(&buf, sums); err != nil {
			t.Fatalf("WriteSums of parsed %q: %v", in, err)
		}
		if !bytes.Equal(buf.Bytes(), in) {
			t.Fatalf("parse→write changed the bytes:\n%q\n%q", in, buf.Bytes())
		}
	})
}

// Write then parse gives the same entries, for any paths the writer accepts.
func FuzzSumsRoundTrip(f *testing.F) {
	f.Add("summary.pdf\nframeworks/x/evidence.xlsx", []byte{1, 2, 3})
	f.Add("a\na", []byte{})
	f.Add("b/ c\n a", []byte{0xff})
	f.Fuzz(func(t *testing.T, paths string, seed []byte) {
		var sums []pack.Sum
		for i, p := range strings.Split(paths, "\n") {
			sums = append(sums, pack.Sum{Path: p, SHA256: sha(append([]byte{byte(i)}, seed...))})
		}
		var buf bytes.Buffer
		if err := pack.WriteSums(&buf, sums); err != nil {
			return // a path the format cannot hold, or a duplicate
		}
		got, err := pack.ParseSums(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("ParseSums of WriteSums output %q: %v", buf.Bytes(), err)
		}
		slices.SortFunc(sums, func(a, b pack.Sum) int { return strings.Compare(a.Path, b.Path) })
		if !slices.Equal(got, sums) {
			t.Fatalf("round trip: %v, want %v", got, sums)
		}
	})
}

// Any input: no panic; whatever decodes encodes to bytes that decode and
// encode to themselves.
func FuzzManifestDecode(f *testing.F) {
	golden, _ := os.ReadFile(filepath.Join("testdata", "manifest.golden.json"))
	f.Add(golden)
	f.Add([]byte(`{"schema":"evidence-pack/v1"}`))
	f.Add([]byte(`{"schema":"evidence-pack/v1","period":{"from":"2026-11-21T00:00:00+05:00"},"stats":{"b":1,"a":2},"files":null}`))
	f.Add([]byte(`{"schema":"evidence-pack/v1","warnings":["<&>\u2028\xff"]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := pack.DecodeManifest(bytes.NewReader(in))
		if err != nil {
			return
		}
		_ = m.Validate()
		enc, err := pack.EncodeManifest(m)
		if err != nil {
			return // e.g. a time that RFC 3339 cannot hold once in UTC
		}
		back, err := pack.DecodeManifest(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("decoding our own encoding: %v\n%s", err, enc)
		}
		again, err := pack.EncodeManifest(back)
		if err != nil || !bytes.Equal(again, enc) {
			t.Fatalf("encode→decode→encode not stable (%v):\n%s\n%s", err, enc, again)
		}
	})
}

func TestFoldersAreDistinct(t *testing.T) {
	long := strings.Repeat("a", 120)
	for _, tc := range []struct {
		name  string
		names []string
		want  []string
	}{
		{"space and underscore", []string{"acme_prod", "acme prod", "acme/prod"}, []string{"acme_prod", "acme_prod_2", "acme_prod_3"}},
		{"non-Latin", []string{"東京", "大阪", "東京"}, []string{"_", "__2", "_"}},
		{"cut at 100 bytes", []string{long, long + "b"}, []string{long[:100], long[:98] + "_2"}},
		{"safe names unchanged", []string{"CIS", "SOC_2"}, []string{"CIS", "SOC_2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f pack.Folders
			seen := map[string]string{}
			for i, n := range tc.names {
				got := f.Folder(n)
				if got != tc.want[i] {
					t.Errorf("Folder(%q) = %q, want %q", n, got, tc.want[i])
				}
				if other, ok := seen[got]; ok && other != n {
					t.Errorf("%q and %q share %q", n, other, got)
				}
				seen[got] = n
			}
		})
	}
}
