package pack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/evidence-pack/evidence/internal/storage"
)

// Sum is one line of SHA256SUMS.
type Sum struct {
	SHA256 string // 64 lower-case hex digits
	Path   string // relative to the pack root
}

// SumsError is a malformed SHA256SUMS line; test with errors.As.
type SumsError struct {
	Line int // 1-based
	Msg  string
}

func (e *SumsError) Error() string { return fmt.Sprintf("%s line %d: %s", SumsName, e.Line, e.Msg) }

// maxSumsLine bounds a line: 64 hex digits, two spaces and a path of at most
// PATH_MAX bytes, with room to spare.
const maxSumsLine = 8 << 10

// checkSumPath is what may appear in SHA256SUMS: a clean key that is not one
// of the names Publish writes. CleanKey also rules out the backslash and
// newline that GNU sha256sum would escape, so no escaping is ever needed.
func checkSumPath(p string) error {
	if err := storage.CleanKey(p); err != nil {
		return err
	}
	if p == ManifestName || p == SumsName || p == SignatureName {
		return fmt.Errorf("%s cannot be listed in %s", p, SumsName)
	}
	return nil
}

// WriteSums writes sums in GNU sha256sum text format, "<sha256>  <path>\n",
// sorted by path, so that `sha256sum -c SHA256SUMS` run in the pack
// directory checks every file. Duplicate or invalid paths and malformed
// hashes are errors, and then nothing is written.
func WriteSums(w io.Writer, sums []Sum) error {
	sorted := slices.Clone(sums)
	slices.SortFunc(sorted, func(a, b Sum) int { return strings.Compare(a.Path, b.Path) })
	var buf bytes.Buffer
	for i, s := range sorted {
		if err := checkSumPath(s.Path); err != nil {
			return fmt.Errorf("pack: write %s: %w", SumsName, err)
		}
		if !isHexSHA256(s.SHA256) {
			return fmt.Errorf("pack: write %s: %s: sha256 %q is not 64 lower-case hex digits", SumsName, s.Path, s.SHA256)
		}
		if i > 0 && sorted[i-1].Path == s.Path {
			return fmt.Errorf("pack: write %s: %s listed twice", SumsName, s.Path)
		}
		buf.WriteString(s.SHA256)
		buf.WriteString("  ")
		buf.WriteString(s.Path)
		buf.WriteByte('\n')
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ParseSums reads SHA256SUMS as WriteSums writes it, and nothing else: every
// line "<64 lower-case hex>  <path>\n" (the final newline included), paths
// clean, not reserved and strictly increasing. A malformed line is a
// *SumsError naming the line; a read error is returned wrapped. Being this
// strict makes the file canonical: WriteSums(ParseSums(b)) == b.
func ParseSums(r io.Reader) ([]Sum, error) {
	br := bufio.NewReaderSize(r, maxSumsLine)
	var sums []Sum
	for line := 1; ; line++ {
		raw, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, &SumsError{line, fmt.Sprintf("longer than %d bytes", maxSumsLine)}
		case err == io.EOF && len(raw) == 0:
			return sums, nil
		case err == io.EOF:
			return nil, &SumsError{line, "no newline at the end"}
		case err != nil:
			return nil, fmt.Errorf("pack: read %s: %w", SumsName, err)
		}
		s, msg := parseSumLine(string(raw[:len(raw)-1]))
		if msg != "" {
			return nil, &SumsError{line, msg}
		}
		if n := len(sums); n > 0 && s.Path <= sums[n-1].Path {
			if s.Path == sums[n-1].Path {
				return nil, &SumsError{line, fmt.Sprintf("%q listed twice", s.Path)}
			}
			return nil, &SumsError{line, fmt.Sprintf("%q is out of order (after %q)", s.Path, sums[n-1].Path)}
		}
		sums = append(sums, s)
	}
}

func parseSumLine(l string) (Sum, string) {
	if l == "" {
		return Sum{}, "empty line"
	}
	if len(l) < 64+2+1 || l[64:66] != "  " {
		return Sum{}, `want "<64 hex digits>  <path>"`
	}
	s := Sum{SHA256: l[:64], Path: l[66:]}
	if !isHexSHA256(s.SHA256) {
		return Sum{}, fmt.Sprintf("%q is not 64 lower-case hex digits", s.SHA256)
	}
	if err := checkSumPath(s.Path); err != nil {
		return Sum{}, fmt.Sprintf("bad path: %v", err)
	}
	return s, ""
}
