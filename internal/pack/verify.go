package pack

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/evidence-pack/evidence/internal/storage"
)

// ErrNoManifest is returned (wrapped) by Verify when the prefix has no
// manifest.json: the pack is incomplete (a failed or running run) or the
// prefix is not a pack.
var ErrNoManifest = errors.New("no manifest.json: incomplete or not a pack")

// ErrInvalid is wrapped by Report.Err when verification found problems.
var ErrInvalid = errors.New("pack failed verification")

// Reader is what Verify needs of a store: a storage.Store, a storage.Txn or
// anything read-only that lists and opens objects.
type Reader interface {
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	List(ctx context.Context, prefix string, fn func(storage.Object) error) error
}

// StrayLister is implemented by stores that keep entries List does not
// show (a directory's temporary files, staging folders, symbolic links,
// FIFOs): Verify reports each under the pack as an extra file.
type StrayLister interface {
	Strays(ctx context.Context, prefix string, fn func(key, kind string) error) error
}

// Kind classifies a Problem.
type Kind string

// The kinds of problem Verify reports.
const (
	KindMissing  Kind = "missing"  // in the manifest, not in the store
	KindExtra    Kind = "extra"    // in the store, not in the manifest
	KindSize     Kind = "size"     // size differs from the manifest
	KindSHA256   Kind = "sha256"   // same size, different SHA-256
	KindSums     Kind = "sums"     // SHA256SUMS malformed or disagreeing with the manifest
	KindManifest Kind = "manifest" // the manifest itself breaks the format (see Manifest.Validate)
)

// Problem is one finding. Want is what the manifest says, Got what was found.
type Problem struct {
	Path   string // relative to the pack root
	Kind   Kind
	Want   string
	Got    string
	Detail string // a sentence for people
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s  %s", p.Kind, p.Path)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	if p.Want != "" || p.Got != "" {
		fmt.Fprintf(&b, " (want %s, got %s)", orNone(p.Want), orNone(p.Got))
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Report is the result of Verify.
type Report struct {
	Prefix   string
	Manifest Manifest // as read from manifest.json
	// ManifestSHA256 is manifest.json's SHA-256: what a Link to the pack
	// records.
	ManifestSHA256 string
	Files          int   // files read and hashed, manifest.json not counted
	Bytes          int64 // bytes read, manifest.json included
	Signed         bool  // manifest.sig exists (Verify does not check signatures)
	// SignatureChecked, set by a caller that checked manifest.sig with a
	// key, keeps String from saying it was not.
	SignatureChecked bool
	Problems         []Problem
}

// OK reports whether the pack verified without problems.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// Err is nil if the pack is OK, else an error wrapping ErrInvalid that
// counts the problems (String lists them).
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return fmt.Errorf("pack %s: %d problem(s): %w", r.Prefix, len(r.Problems), ErrInvalid)
}

// String is a listing for people: a verdict line, the counts, then one line
// per problem.
func (r Report) String() string {
	var b strings.Builder
	name := r.Prefix
	if name == "" {
		name = "."
	}
	if r.OK() {
		fmt.Fprintf(&b, "pack %s: OK\n", name)
	} else {
		fmt.Fprintf(&b, "pack %s: FAILED, %d problem(s)\n", name, len(r.Problems))
	}
	fmt.Fprintf(&b, "  %d files checked, %d bytes read", r.Files, r.Bytes)
	if r.Manifest.PackID != "" {
		fmt.Fprintf(&b, "; pack id %s, tenant %s, period %s", r.Manifest.PackID, r.Manifest.Tenant, r.Manifest.Period.Label)
	}
	b.WriteString("\n")
	if r.Signed && !r.SignatureChecked {
		b.WriteString("  manifest.sig present, not checked: evidence verify --pub KEY checks it")
		if s := r.Manifest.Signature; s != nil {
			fmt.Fprintf(&b, " (the manifest names key %s)", s.KeyFingerprint)
		}
		b.WriteString("\n")
	}
	for _, p := range r.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// verifyWorkers is how many files Verify reads at once: enough to hide an
// object store's latency, few enough not to thrash a disk.
const verifyWorkers = 4

// Verify checks the pack at prefix ("" when store's root is the pack): it
// reads manifest.json, then streams every file the manifest lists exactly
// once, computing SHA-256 and size, and reports every problem, not the
// first: missing and extra files (any object under prefix the manifest does
// not list, except manifest.json and manifest.sig), size and SHA-256
// mismatches (a file of the wrong size gets a size problem only), a
// SHA256SUMS that is malformed or disagrees with the manifest, and a
// manifest that breaks the format.
//
// The error is for when verification could not be done: ErrNoManifest
// (wrapped) when manifest.json is absent, ErrBadManifest when it cannot be
// decoded, and store, read and context errors. Problems are in the Report;
// see Report.OK and Report.Err.
func Verify(ctx context.Context, store Reader, prefix string) (Report, error) {
	rep := Report{Prefix: prefix}
	if prefix != "" {
		if err := storage.CleanKey(prefix); err != nil {
			return rep, fmt.Errorf("pack: verify: %w", err)
		}
	}
	dir := ""
	if prefix != "" {
		dir = prefix + "/"
	}

	rc, err := store.Get(ctx, dir+ManifestName)
	if errors.Is(err, storage.ErrNotExist) {
		return rep, fmt.Errorf("pack: verify %s: %w", prefix, ErrNoManifest)
	}
	if err != nil {
		return rep, fmt.Errorf("pack: verify %s: %w", prefix, err)
	}
	var body bytes.Buffer
	_, err = io.Copy(&body, io.LimitReader(rc, MaxManifestSize+1))
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rep, fmt.Errorf("pack: verify %s: read manifest: %w", prefix, err)
	}
	rep.Bytes += int64(body.Len())
	sum := sha256.Sum256(body.Bytes())
	rep.ManifestSHA256 = hex.EncodeToString(sum[:])
	m, err := DecodeManifest(&body)
	if err != nil {
		return rep, fmt.Errorf("pack: verify %s: %w", prefix, err)
	}
	rep.Manifest = m
	for _, msg := range append(m.headerProblems(), m.fileProblems()...) {
		rep.Problems = append(rep.Problems, Problem{Path: ManifestName, Kind: KindManifest, Detail: msg})
	}

	listed := map[string]int64{}
	err = store.List(ctx, dir, func(o storage.Object) error {
		listed[strings.TrimPrefix(o.Key, dir)] = o.Size
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("pack: verify %s: list: %w", prefix, err)
	}
	_, rep.Signed = listed[SignatureName]
	if sl, ok := store.(StrayLister); ok {
		err := sl.Strays(ctx, dir, func(key, kind string) error {
			rep.Problems = append(rep.Problems, Problem{Path: strings.TrimPrefix(key, dir), Kind: KindExtra,
				Detail: "a " + kind + " in the pack, not in the manifest"})
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("pack: verify %s: list: %w", prefix, err)
		}
	}

	// Files to read: listed in the manifest, once each, with a usable path.
	inManifest := map[string]File{}
	var toRead []File
	for _, f := range m.Files {
		if _, dup := inManifest[f.Path]; dup || storage.CleanKey(f.Path) != nil ||
			f.Path == ManifestName || f.Path == SignatureName {
			continue // a manifest problem already
		}
		inManifest[f.Path] = f
		if _, ok := listed[f.Path]; !ok {
			rep.Problems = append(rep.Problems, Problem{Path: f.Path, Kind: KindMissing,
				Detail: "listed in the manifest, not in the store", Want: fmt.Sprintf("%d bytes", f.Size)})
			continue
		}
		toRead = append(toRead, f)
	}
	for p, size := range listed {
		if _, ok := inManifest[p]; !ok && p != ManifestName && p != SignatureName {
			rep.Problems = append(rep.Problems, Problem{Path: p, Kind: KindExtra,
				Detail: "in the store, not in the manifest", Got: fmt.Sprintf("%d bytes", size)})
		}
	}

	results, err := readAll(ctx, store, dir, toRead)
	if err != nil {
		return rep, fmt.Errorf("pack: verify %s: %w", prefix, err)
	}
	var sumsContent []byte
	sumsRead := false
	for i, res := range results {
		f := toRead[i]
		if res.missing {
			rep.Problems = append(rep.Problems, Problem{Path: f.Path, Kind: KindMissing,
				Detail: "listed in the manifest, gone from the store while verifying"})
			continue
		}
		rep.Files++
		rep.Bytes += res.size
		switch {
		case res.size != f.Size:
			rep.Problems = append(rep.Problems, Problem{Path: f.Path, Kind: KindSize, Detail: "size differs from the manifest",
				Want: strconv.FormatInt(f.Size, 10), Got: strconv.FormatInt(res.size, 10)})
		case res.sha256 != f.SHA256:
			rep.Problems = append(rep.Problems, Problem{Path: f.Path, Kind: KindSHA256, Detail: "content differs from the manifest",
				Want: f.SHA256, Got: res.sha256})
		}
		if f.Path == SumsName {
			sumsContent, sumsRead = res.content, true
		}
	}
	switch {
	case sumsRead && sumsContent == nil:
		rep.Problems = append(rep.Problems, Problem{Path: SumsName, Kind: KindSums,
			Detail: fmt.Sprintf("larger than %d bytes: not parsed", MaxManifestSize)})
	case sumsRead:
		rep.Problems = append(rep.Problems, checkSums(sumsContent, m.Files)...)
	}

	slices.SortStableFunc(rep.Problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Kind, b.Kind))
	})
	return rep, nil
}

// checkSums compares SHA256SUMS with the manifest's data files.
func checkSums(content []byte, files []File) []Problem {
	sums, err := ParseSums(bytes.NewReader(content))
	if err != nil {
		return []Problem{{Path: SumsName, Kind: KindSums, Detail: err.Error()}}
	}
	var out []Problem
	inSums := make(map[string]string, len(sums))
	for _, s := range sums {
		inSums[s.Path] = s.SHA256
	}
	want := map[string]bool{}
	for _, f := range files {
		if f.Path == SumsName || f.Path == ManifestName || f.Path == SignatureName {
			continue
		}
		want[f.Path] = true
		got, ok := inSums[f.Path]
		switch {
		case !ok:
			out = append(out, Problem{Path: f.Path, Kind: KindSums, Detail: "in the manifest, not in " + SumsName, Want: f.SHA256})
		case got != f.SHA256:
			out = append(out, Problem{Path: f.Path, Kind: KindSums, Detail: SumsName + " disagrees with the manifest", Want: f.SHA256, Got: got})
		}
	}
	for _, s := range sums {
		if !want[s.Path] {
			out = append(out, Problem{Path: s.Path, Kind: KindSums, Detail: "in " + SumsName + ", not in the manifest", Got: s.SHA256})
		}
	}
	return out
}

type readResult struct {
	size    int64
	sha256  string
	content []byte // SHA256SUMS only
	missing bool   // deleted between List and Get
}

// readAll hashes files with a few workers; results[i] is files[i]'s. The
// first error (a store, read or context error) stops it.
func readAll(ctx context.Context, store Reader, dir string, files []File) ([]readResult, error) {
	results := make([]readResult, len(files))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(verifyWorkers, len(files)) {
		wg.Go(func() {
			for i := range next {
				res, err := hashObject(ctx, store, dir+files[i].Path, files[i].Path == SumsName)
				if err != nil {
					cancel(fmt.Errorf("%s: %w", files[i].Path, err))
					continue
				}
				results[i] = res
			}
		})
	}
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return results, nil
}

// hashObject streams key once through SHA-256, keeping the content if asked.
func hashObject(ctx context.Context, store Reader, key string, keep bool) (res readResult, err error) {
	rc, err := store.Get(ctx, key)
	if errors.Is(err, storage.ErrNotExist) {
		return readResult{missing: true}, nil
	}
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := rc.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	h := sha256.New()
	var w io.Writer = h
	buf := &capBuffer{max: MaxManifestSize}
	if keep {
		w = io.MultiWriter(h, buf)
	}
	n, err := io.CopyBuffer(w, storage.ContextReader(ctx, rc), make([]byte, 256<<10))
	if err != nil {
		return res, fmt.Errorf("read: %w", err)
	}
	res = readResult{size: n, sha256: hex.EncodeToString(h.Sum(nil))}
	if keep && !buf.over {
		res.content = buf.b
		if res.content == nil {
			res.content = []byte{}
		}
	}
	return res, nil
}

// capBuffer keeps what is written to it up to max bytes, then stops keeping
// (and never fails: hashing goes on).
type capBuffer struct {
	b    []byte
	max  int
	over bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if !c.over && len(c.b)+len(p) <= c.max {
		c.b = append(c.b, p...)
	} else {
		c.over, c.b = true, nil
	}
	return len(p), nil
}

// Sub is store seen from its folder prefix, as a pack's folder is its own
// root: keys given to it and listed by it are relative to prefix.
func Sub(store Reader, prefix string) Reader {
	if prefix == "" {
		return store
	}
	return sub{store, strings.TrimSuffix(prefix, "/") + "/"}
}

type sub struct {
	Reader
	dir string
}

func (s sub) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.Reader.Get(ctx, s.dir+key)
}

func (s sub) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	return s.Reader.List(ctx, s.dir+prefix, func(o storage.Object) error {
		o.Key = strings.TrimPrefix(o.Key, s.dir)
		return fn(o)
	})
}
