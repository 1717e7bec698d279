package reportgen_test

import (
	"testing"

	"github.com/evidence-pack/evidence/internal/reportgen"
)

func TestParsePaper(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  reportgen.Paper
		title string
		err   bool
	}{
		{"", reportgen.A4, "A4", false},
		{"a4", reportgen.A4, "A4", false},
		{"letter", reportgen.Letter, "Letter", false},
		{"Letter", "", "", true},
		{"a3", "", "", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := reportgen.ParsePaper(tc.in)
			if (err != nil) != tc.err || p != tc.want {
				t.Fatalf("ParsePaper(%q) = %q, %v; want %q, error %v", tc.in, p, err, tc.want, tc.err)
			}
			if !tc.err && p.Title() != tc.title {
				t.Errorf("%q.Title() = %q, want %q", p, p.Title(), tc.title)
			}
		})
	}
}
