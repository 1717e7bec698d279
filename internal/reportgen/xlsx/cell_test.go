package xlsx

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestSanitiseCell(t *testing.T) {
	long := strings.Repeat("x", 40_000)
	longEmoji := strings.Repeat("🙂", 20_000) // 40,000 UTF-16 units, 80,000 bytes
	for _, tc := range []struct {
		name          string
		in, want      string
		san, trunc    bool
		wantUnitsLeq  int
		wantHasMarker bool
	}{
		{name: "plain", in: "hello", want: "hello"},
		{name: "empty", in: "", want: ""},
		{name: "CJK", in: "東京", want: "東京"},
		{name: "RTL", in: "مرحبا", want: "مرحبا"},
		{name: "formula kept as text", in: `=HYPERLINK("x")`, want: `=HYPERLINK("x")`},
		{name: "plus", in: "+1", want: "+1"},
		{name: "minus", in: "-2", want: "-2"},
		{name: "at", in: "@SUM(A1)", want: "@SUM(A1)"},
		{name: "tab CR LF kept", in: "\tTab\r\n", want: "\tTab\r\n"},
		{name: "NUL and controls", in: "a\x00b\x01c\x1fd\x7fe", want: "abcd\x7fe", san: true},
		{name: "FFFE FFFF", in: "a\uFFFEb\uFFFFc\uFFFDd", want: "abc\uFFFDd", san: true},
		{name: "invalid UTF-8", in: "a\xffb\xc3", want: "ab", san: true},
		{name: "exactly max", in: long[:MaxCellChars], want: long[:MaxCellChars]},
		{name: "one over max", in: long[:MaxCellChars+1], trunc: true, wantUnitsLeq: MaxCellChars, wantHasMarker: true},
		{name: "40k", in: long, trunc: true, wantUnitsLeq: MaxCellChars, wantHasMarker: true},
		{name: "40k surrogate pairs", in: longEmoji, trunc: true, wantUnitsLeq: MaxCellChars, wantHasMarker: true},
		{name: "both", in: "\x00" + long, san: true, trunc: true, wantUnitsLeq: MaxCellChars, wantHasMarker: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, san, trunc := SanitiseCell(tc.in)
			if san != tc.san || trunc != tc.trunc {
				t.Errorf("sanitised, truncated = %v, %v; want %v, %v", san, trunc, tc.san, tc.trunc)
			}
			if tc.wantHasMarker {
				if !strings.HasSuffix(got, TruncationMarker) {
					t.Errorf("truncated value does not end with the marker")
				}
				if n := len(utf16.Encode([]rune(got))); n > tc.wantUnitsLeq {
					t.Errorf("%d UTF-16 units, want ≤ %d", n, tc.wantUnitsLeq)
				}
				if !utf8.ValidString(got) {
					t.Errorf("truncation split a character")
				}
				return
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSheetName(t *testing.T) {
	for _, tc := range []struct {
		base string
		n    int
		want string
	}{
		{"Evaluations", 1, "Evaluations"},
		{"Evaluations", 2, "Evaluations (2)"},
		{"Evaluations", 12, "Evaluations (12)"},
		{"a[b]c:d*e?f/g\\h", 1, "a_b_c_d_e_f_g_h"},
		{"'quoted'", 1, "quoted"},
		{"", 1, "Sheet"},
		{"'", 3, "Sheet (3)"},
		{strings.Repeat("x", 40), 1, strings.Repeat("x", 31)},
		{strings.Repeat("x", 40), 2, strings.Repeat("x", 27) + " (2)"},
		{strings.Repeat("x", 40), 100, strings.Repeat("x", 25) + " (100)"},
		{strings.Repeat("東", 40), 2, strings.Repeat("東", 27) + " (2)"},
		{"tab\there\x00", 1, "tab here"},
	} {
		got := sheetName(tc.base, tc.n)
		if got != tc.want {
			t.Errorf("sheetName(%q, %d) = %q, want %q", tc.base, tc.n, got, tc.want)
		}
		if n := utf16Len(got); n > 31 {
			t.Errorf("sheetName(%q, %d) has %d units", tc.base, tc.n, n)
		}
	}
}

// FuzzXLSXCell checks SanitiseCell's contract on any input: the result fits
// in a cell, holds only characters XML 1.0 allows, and equals the input when
// the input was short and clean. Long inputs are made by repeating the
// fuzzed text, which keeps the corpus small and the fuzzer fast.
func FuzzXLSXCell(f *testing.F) {
	for _, s := range []string{
		"", "plain", "東京", "مرحبا", `=HYPERLINK("x")`, "+1", "-2", "@SUM(A1)", "\tTab", "\rCR",
		"\x00\x01\x1f", "\uFFFE\uFFFF", "\xff\xfe", "🙂", "a🙂",
	} {
		f.Add(s, uint16(0))
		f.Add(s, uint16(MaxCellChars/max(len(s), 1)))
		f.Add(s, uint16(MaxCellChars/max(len(s), 1)+1))
	}
	f.Fuzz(func(t *testing.T, piece string, repeat uint16) {
		in := piece
		if len(piece) > 0 && repeat > 0 {
			in = strings.Repeat(piece, min(int(repeat), 70_000/len(piece)+1))
		}
		out, san, trunc := SanitiseCell(in)
		if !utf8.ValidString(out) {
			t.Fatalf("output is not UTF-8: %q", out)
		}
		units := 0
		for _, r := range out {
			if !legalXMLRune(r) {
				t.Fatalf("output holds %U, illegal in XML 1.0", r)
			}
			units += utf16.RuneLen(r)
		}
		if units > MaxCellChars {
			t.Fatalf("output has %d UTF-16 units, more than %d", units, MaxCellChars)
		}
		clean := firstIllegal(in) < 0
		short := len(utf16.Encode([]rune(in))) <= MaxCellChars
		if san == clean {
			t.Fatalf("sanitised = %v for clean = %v", san, clean)
		}
		if clean && short && (out != in || trunc) {
			t.Fatalf("clean short input changed: %q → %q", in, out)
		}
		if clean && !short {
			kept, ok := strings.CutSuffix(out, TruncationMarker)
			if !trunc || !ok || !strings.HasPrefix(in, kept) {
				t.Fatalf("long input not cut to a prefix plus the marker")
			}
		}
		if !clean && !san {
			t.Fatalf("dirty input not reported as sanitised")
		}
	})
}
