package pack

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/evidence-pack/evidence/internal/storage"
)

// ErrReserved is returned (wrapped) by Writer.Put for the names Publish
// writes: manifest.json, SHA256SUMS and manifest.sig.
var ErrReserved = errors.New("reserved pack file name")

// ErrClosed is returned (wrapped) by a Writer used after Publish or Abort.
var ErrClosed = errors.New("pack writer no longer open")

// cleanupTimeout bounds Abort's removal of a partial pack. It runs under
// context.WithoutCancel: the run's context is often what was cancelled.
const cleanupTimeout = 30 * time.Second

type writerState int

const (
	stateOpen writerState = iota
	statePublishing
	statePublished
	stateAborted
)

func (s writerState) String() string {
	return [...]string{"open", "publishing", "published", "aborted"}[s]
}

// Signer signs manifest.json's bytes; Publish records the key in the
// manifest (Manifest.Signature) and stores the signature as manifest.sig
// before it writes manifest.json.
type Signer struct {
	Sign        func(manifest []byte) ([]byte, error)
	Algorithm   string // "ed25519"
	Fingerprint string // the public key's, KeyFingerprint
}

// Option configures a Writer.
type Option func(*Writer)

// WithSigner makes Publish write manifest.sig, signed by sign.
func WithSigner(sign Signer) Option { return func(w *Writer) { w.sign = &sign } }

// WithMetadata sends m with every object of the pack (S3: x-amz-meta-*), so
// an object found on its own still names its pack. m is copied.
func WithMetadata(m map[string]string) Option {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return func(w *Writer) { w.meta = c }
}

// Writer builds one pack. Data files go in with Put (concurrently if
// wished), then Publish writes SHA256SUMS, manifest.sig and manifest.json
// last and commits; or Abort removes everything. Create it with NewWriter.
type Writer struct {
	published      Manifest // set by a successful Publish
	manifestSHA256 string   // of the published manifest.json
	prefix         string
	dest           storage.Store // the Txn, or the store itself
	txn            storage.Txn   // nil when the store cannot Begin
	sign           *Signer
	meta           map[string]string // sent with every object (read only)

	mu       sync.Mutex
	state    writerState
	inflight int             // Puts between their start and their end
	pending  map[string]bool // paths being Put
	files    map[string]File // data files stored
	written  []string        // keys stored outside a Txn, for Abort
}

// NewWriter starts a pack at prefix (a key such as PackPrefix returns). If
// store is a storage.Beginner the pack is staged in a Txn and appears at
// once on Publish; otherwise objects go straight to "<prefix>/..." and the
// pack counts as complete once manifest.json, written last, exists. Either
// way NewWriter fails with storage.ErrExist if prefix already holds a pack
// or any object: a rerun never overwrites an earlier pack.
func NewWriter(ctx context.Context, store storage.Store, prefix string, opts ...Option) (*Writer, error) {
	if err := storage.CleanKey(prefix); err != nil {
		return nil, fmt.Errorf("pack: new writer: %w", err)
	}
	w := &Writer{prefix: prefix, dest: store, pending: map[string]bool{}, files: map[string]File{}}
	for _, o := range opts {
		o(w)
	}
	if b, ok := store.(storage.Beginner); ok {
		tx, err := b.Begin(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("pack: new writer %s: %w", prefix, err)
		}
		w.dest, w.txn = tx, tx
		return w, nil
	}
	errFound := errors.New("found")
	err := store.List(ctx, prefix+"/", func(storage.Object) error { return errFound })
	if errors.Is(err, errFound) {
		return nil, fmt.Errorf("pack: new writer %s: %w", prefix, storage.ErrExist)
	}
	if err != nil {
		return nil, fmt.Errorf("pack: new writer %s: %w", prefix, err)
	}
	return w, nil
}

// Prefix is the pack's key in the store.
func (w *Writer) Prefix() string { return w.prefix }

func (w *Writer) key(p string) string {
	if w.txn != nil {
		return p
	}
	return w.prefix + "/" + p
}

// Put stores one data file at path (relative to the pack root, e.g.
// "frameworks/CIS/evidence.xlsx"), reading r once; size and SHA-256 come
// from the store, which computes them while it writes. rows, if not nil, is
// read once the content is stored (r has reached EOF) and recorded as a
// copy, so a counter the producer of r updates while writing ends up with
// its final value. Put does not close r. It is
// safe for concurrent use. Errors: ErrReserved for manifest.json,
// SHA256SUMS, manifest.sig and index.html; storage.ErrExist for a path already put;
// ErrClosed after Publish or Abort; the store's errors otherwise.
func (w *Writer) Put(ctx context.Context, path string, r io.Reader, mediaType string, rows *int64) (File, error) {
	if err := storage.CleanKey(path); err != nil {
		return File{}, fmt.Errorf("pack: put: %w", err)
	}
	if path == ManifestName || path == SumsName || path == SignatureName || path == IndexName {
		return File{}, fmt.Errorf("pack: put %s: %w", path, ErrReserved)
	}
	return w.put(ctx, path, r, mediaType, rows, false)
}

// put stores path; Publish's own files (reserved) may go in while publishing.
func (w *Writer) put(ctx context.Context, path string, r io.Reader, mediaType string, rows *int64, reserved bool) (File, error) {
	key := w.key(path)
	w.mu.Lock()
	if !(w.state == stateOpen || reserved && w.state == statePublishing) {
		state := w.state
		w.mu.Unlock()
		return File{}, fmt.Errorf("pack: put %s: writer is %s: %w", path, state, ErrClosed)
	}
	if _, dup := w.files[path]; dup || w.pending[path] {
		w.mu.Unlock()
		return File{}, fmt.Errorf("pack: put %s: %w", path, storage.ErrExist)
	}
	w.pending[path] = true
	w.inflight++
	w.mu.Unlock()

	obj, err := w.dest.Put(ctx, key, r, storage.PutOptions{ContentType: mediaType, Metadata: w.meta})

	w.mu.Lock()
	w.inflight--
	delete(w.pending, path)
	aborted := w.state == stateAborted
	if err == nil && w.txn == nil && !aborted {
		w.written = append(w.written, key)
	}
	f := File{Path: path, Size: obj.Size, SHA256: obj.SHA256, MediaType: mediaType}
	ok := err == nil && !aborted && isHexSHA256(obj.SHA256) && obj.Size >= 0
	if rows != nil && err == nil {
		// Only now, with r read to its end, has the writer of the
		// content stopped counting: a failed Put may return while the
		// content is still being written.
		n := *rows
		f.Rows = &n
	}
	if ok && !reserved {
		w.files[path] = f.clone() // the caller gets f: no shared Rows
	}
	w.mu.Unlock()

	switch {
	case err != nil:
		return File{}, fmt.Errorf("pack: put %s: %w", path, err)
	case aborted:
		// Abort ran while this Put was in progress and could not see it.
		if w.txn == nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = w.dest.Delete(dctx, key)
		}
		return File{}, fmt.Errorf("pack: put %s: writer aborted: %w", path, ErrClosed)
	case !ok:
		return File{}, fmt.Errorf("pack: put %s: store returned size %d and sha256 %q", path, obj.Size, obj.SHA256)
	}
	return f, nil
}

// Files returns the data files stored so far, sorted by path (a copy).
func (w *Writer) Files() []File {
	w.mu.Lock()
	files := slices.Collect(maps.Values(w.files))
	w.mu.Unlock()
	for i := range files {
		files[i] = files[i].clone()
	}
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	return files
}

// Publish completes the pack: it sets m.Files to the data files plus
// SHA256SUMS (m.Schema defaults to Schema), writes SHA256SUMS (every data
// file, not manifest.json), then manifest.sig if a Signer is set, then
// manifest.json last, and commits the Txn. Every Put must have returned
// before Publish is called. On any error, including a cancelled ctx,
// Publish aborts the pack (no manifest.json is left) and returns the error;
// after success the Writer is done and Abort is a no-op.
func (w *Writer) Publish(ctx context.Context, m Manifest) (err error) {
	w.mu.Lock()
	if w.state != stateOpen {
		state := w.state
		w.mu.Unlock()
		return fmt.Errorf("pack: publish %s: writer is %s: %w", w.prefix, state, ErrClosed)
	}
	if w.inflight > 0 {
		n := w.inflight
		w.mu.Unlock()
		return fmt.Errorf("pack: publish %s: %d Put calls still in progress", w.prefix, n)
	}
	w.state = statePublishing
	w.mu.Unlock()

	defer func() {
		if err != nil {
			if aerr := w.Abort(ctx); aerr != nil {
				err = errors.Join(err, fmt.Errorf("pack: abort after failed publish: %w", aerr))
			}
			return
		}
		w.mu.Lock()
		w.state = statePublished
		w.mu.Unlock()
	}()

	if m.Schema == "" {
		m.Schema = Schema
	}
	if w.sign != nil {
		m.Signature = &Signature{File: SignatureName, Algorithm: w.sign.Algorithm, KeyFingerprint: w.sign.Fingerprint}
	}
	key := ""
	if w.sign != nil {
		key = w.sign.Fingerprint
	}
	var page bytes.Buffer
	if err := writeIndex(&page, m, w.Files(), key); err != nil {
		return fmt.Errorf("pack: publish %s: %s: %w", w.prefix, IndexName, err)
	}
	index, err := w.put(ctx, IndexName, &page, MediaTypeHTML, nil, true)
	if err != nil {
		return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
	}
	files := append(w.Files(), index)
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	sums := make([]Sum, len(files))
	for i, f := range files {
		sums[i] = Sum{SHA256: f.SHA256, Path: f.Path}
	}
	// Check the manifest before writing anything of Publish's own.
	if err := joinProblems(m.headerProblems()); err != nil {
		return fmt.Errorf("pack: publish %s: manifest: %w", w.prefix, err)
	}

	var buf bytes.Buffer
	if err := WriteSums(&buf, sums); err != nil {
		return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
	}
	sumsFile, err := w.put(ctx, SumsName, &buf, MediaTypeText, nil, true)
	if err != nil {
		return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
	}
	m.Files = append(files, sumsFile)
	slices.SortFunc(m.Files, func(a, b File) int { return cmp.Compare(a.Path, b.Path) })
	if err := m.Validate(); err != nil {
		return fmt.Errorf("pack: publish %s: manifest: %w", w.prefix, err)
	}
	body, err := EncodeManifest(m)
	if err != nil {
		return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
	}
	if w.sign != nil {
		sig, err := w.sign.Sign(body)
		if err != nil {
			return fmt.Errorf("pack: publish %s: sign manifest: %w", w.prefix, err)
		}
		if _, err := w.put(ctx, SignatureName, bytes.NewReader(sig), MediaTypeSig, nil, true); err != nil {
			return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
		}
	}
	// A cancelled run writes no manifest.json.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
	}
	mf, err := w.put(ctx, ManifestName, bytes.NewReader(body), MediaTypeJSON, nil, true)
	if err != nil {
		return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
	}
	if w.txn != nil {
		if err := w.txn.Commit(ctx); err != nil {
			return fmt.Errorf("pack: publish %s: %w", w.prefix, err)
		}
	}
	w.mu.Lock()
	w.published, w.manifestSHA256 = m, mf.SHA256
	w.mu.Unlock()
	return nil
}

// Manifest returns the manifest Publish wrote (with its Files), or the zero
// Manifest before a successful Publish.
func (w *Writer) Manifest() Manifest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.published
}

// Reader reads the files of the pack being written, rooted at the pack
// (its files are where Put put them, staged or not).
func (w *Writer) Reader() Reader {
	if w.txn != nil {
		return w.txn
	}
	return Sub(w.dest, w.prefix)
}

// Link is the link to the published pack, for the pack that follows it
// (Manifest.Previous) or replaces it; the zero Link before Publish.
func (w *Writer) Link() Link {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.manifestSHA256 == "" {
		return Link{}
	}
	return Link{PackID: w.published.PackID, Path: w.prefix, Period: w.published.Period, ManifestSHA256: w.manifestSHA256}
}

// Abort removes everything the Writer stored: with a Txn, Txn.Abort;
// otherwise it deletes manifest.json first (should a concurrent Publish have
// written it) and then every other object, so that a partial pack never
// looks complete. It runs under context.WithoutCancel(ctx) with a 30 s
// timeout, since ctx is often the cancelled run's. Abort after Publish
// succeeded, or a second Abort, does nothing. A Put still in progress
// removes its own object when it ends.
func (w *Writer) Abort(ctx context.Context) error {
	w.mu.Lock()
	if w.state == statePublished || w.state == stateAborted {
		w.mu.Unlock()
		return nil
	}
	w.state = stateAborted
	written := w.written
	w.written = nil
	w.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if w.txn != nil {
		if err := w.txn.Abort(ctx); err != nil {
			return fmt.Errorf("pack: abort %s: %w", w.prefix, err)
		}
		return nil
	}
	// manifest.json first, as thanos deletes meta.json first.
	if i := slices.Index(written, w.key(ManifestName)); i > 0 {
		written[0], written[i] = written[i], written[0]
	}
	var errs []error
	for _, key := range written {
		if err := w.dest.Delete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pack: abort %s: %w", w.prefix, err)
	}
	return nil
}
