package xlsx

import (
	"strings"
	"testing"
)

// textLines counts a CJK ideograph, kana, Hangul or fullwidth form as two
// digit widths and every other rune as one; words wrap, a word longer than
// a line breaks anywhere.
func TestTextLines(t *testing.T) {
	tests := []struct {
		name string
		s    string
		w    float64
		want int
	}{
		{"fits", "Ensure MFA is enabled", 30, 1},
		{"wraps at a word", "Ensure a log metric filter and alarm exist", 30, 2},
		{"a long word breaks", strings.Repeat("a", 65), 30, 3},
		{"a paragraph per line", "one\ntwo\nthree", 30, 3},
		{"ideographs are two wide", strings.Repeat("東", 20), 30, 2},
		{"fifteen ideographs fill a line", strings.Repeat("東", 15), 30, 1},
		{"Hangul from U+1100 is wide", strings.Repeat("\u1100", 16), 30, 2},
		{"Georgian below U+1100 is not", strings.Repeat("\u10d0", 30), 30, 1},
		{"fullwidth forms are wide", strings.Repeat("Ａ", 16), 30, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := textLines(tc.s, tc.w); got != tc.want {
				t.Errorf("textLines(%q, %v) = %d, want %d", tc.s, tc.w, got, tc.want)
			}
		})
	}
}

// BenchmarkTextLines: the row-height estimate runs on every wrapped cell
// of every row a workbook writes.
func BenchmarkTextLines(b *testing.B) {
	cells := []string{
		"arn:aws:iam::123456789012:role/service-role/AWSLambdaBasicExecutionRole-abc",
		"Ensure a log metric filter and alarm exist for unauthorized API calls",
		"short",
		"東京のサーバーのセキュリティグループ設定を確認する必要があります",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range cells {
			textLines(s, 30)
		}
	}
}
