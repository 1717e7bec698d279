package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
)

// errBoom is what failing readers return.
var errBoom = errors.New("storetest: reader failed on purpose")

// Content returns n deterministic pseudo-random bytes for seed.
func Content(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// SHA256 is the lower-case hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Run runs the Store conformance suite; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"PutExisting", testPutExisting},
		{"GetMissing", testGetMissing},
		{"List", testList},
		{"ListStopsOnError", testListStopsOnError},
		{"Delete", testDelete},
		{"BadKeys", testBadKeys},
		{"FailingReader", testFailingReader},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ConcurrentPutsSameKey", testConcurrentPutsSameKey},
		{"CancelBefore", testCancelBefore},
		{"CancelDuring", testCancelDuring},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Put stores b under key and fails the test on error.
func Put(t *testing.T, s storage.Store, key string, b []byte) storage.Object {
	t.Helper()
	o, err := s.Put(t.Context(), key, bytes.NewReader(b), storage.PutOptions{ContentType: "application/octet-stream"})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return o
}

// Get reads key and fails the test on error.
func Get(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return b
}

// Keys lists the keys under prefix and fails the test on error.
func Keys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := s.List(t.Context(), prefix, func(o storage.Object) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return keys
}

// DeletePrefix deletes every key under prefix (a folder: "/" is added)
// and fails the test on error.
func DeletePrefix(t *testing.T, s storage.Store, prefix string) {
	t.Helper()
	for _, k := range Keys(t, s, prefix+"/") {
		if err := s.Delete(t.Context(), k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
}

func assertAbsent(t *testing.T, s storage.Store, key string) {
	t.Helper()
	if rc, err := s.Get(t.Context(), key); !errors.Is(err, storage.ErrNotExist) {
		if err == nil {
			_ = rc.Close()
		}
		t.Errorf("Get(%q) = %v, want ErrNotExist", key, err)
	}
	for _, k := range Keys(t, s, "") {
		if k == key {
			t.Errorf("List shows %q, which should not exist", key)
		}
	}
}

func testRoundTrip(t *testing.T, s storage.Store) {
	for i, size := range []int{0, 1, 1000, 64<<10 + 1, 1<<20 + 3} {
		key := fmt.Sprintf("round/trip/%d-%d.bin", i, size)
		data := Content(size, uint64(i))
		o := Put(t, s, key, data)
		if o.Key != key || o.Size != int64(size) || o.SHA256 != SHA256(data) {
			t.Errorf("Put(%q) = %+v, want key %q, size %d, sha256 %s", key, o, key, size, SHA256(data))
		}
		if got := Get(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("Get(%q): %d bytes differ from the %d put", key, len(got), len(data))
		}
	}
	var sizes []int64
	err := s.List(t.Context(), "round/", func(o storage.Object) error {
		if o.SHA256 != "" && len(o.SHA256) != 64 {
			t.Errorf("List: %q has SHA256 %q", o.Key, o.SHA256)
		}
		sizes = append(sizes, o.Size)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{0, 1, 1000, 64<<10 + 1, 1<<20 + 3}; !slices.Equal(sizes, want) {
		t.Errorf("List sizes = %v, want %v", sizes, want)
	}
}

func testPutExisting(t *testing.T, s storage.Store) {
	const key = "pack/manifest.json"
	orig := []byte(`{"original":true}`)
	Put(t, s, key, orig)
	_, err := s.Put(t.Context(), key, strings.NewReader("replacement"), storage.PutOptions{})
	if !errors.Is(err, storage.ErrExist) {
		t.Fatalf("second Put = %v, want ErrExist", err)
	}
	if !strings.Contains(err.Error(), key) {
		t.Errorf("error %q does not name the key %q", err, key)
	}
	if got := Get(t, s, key); !bytes.Equal(got, orig) {
		t.Errorf("after refused overwrite Get = %q, want the original %q", got, orig)
	}
	if keys := Keys(t, s, ""); !slices.Equal(keys, []string{key}) {
		t.Errorf("List = %q, want only %q (no temporary leftovers)", keys, key)
	}
}

func testGetMissing(t *testing.T, s storage.Store) {
	Put(t, s, "dir/file", []byte("x"))
	for _, key := range []string{"missing", "dir/missing", "dir", "missing/deeper/key", "dir/file/below"} {
		rc, err := s.Get(t.Context(), key)
		if !errors.Is(err, storage.ErrNotExist) {
			if err == nil {
				_ = rc.Close()
			}
			t.Errorf("Get(%q) = %v, want ErrNotExist", key, err)
		}
	}
}

func testList(t *testing.T, s storage.Store) {
	// Chosen so that key order differs from a per-directory walk:
	// '-' < '.' < '/' in byte order.
	keys := []string{"a/c/d", "ab", "a.txt", "b/c", "a/b", "a-b", "a/c.txt"}
	for i, k := range keys {
		Put(t, s, k, Content(i+1, uint64(i)))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-b", "a.txt", "a/b", "a/c.txt", "a/c/d", "ab", "b/c"}},
		{"a", []string{"a-b", "a.txt", "a/b", "a/c.txt", "a/c/d", "ab"}},
		{"a/", []string{"a/b", "a/c.txt", "a/c/d"}},
		{"a/c", []string{"a/c.txt", "a/c/d"}},
		{"a/c/", []string{"a/c/d"}},
		{"a/c/d", []string{"a/c/d"}},
		{"b", []string{"b/c"}},
		{"zz", []string{}},
		{"nope/", []string{}},
		{"a/b/", []string{}},
	}
	for _, tc := range tests {
		if got := Keys(t, s, tc.prefix); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	err := s.List(t.Context(), "a/", func(o storage.Object) error {
		i := slices.Index(keys, o.Key)
		if o.Size != int64(i+1) {
			t.Errorf("List: %q has size %d, want %d", o.Key, o.Size, i+1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testListStopsOnError(t *testing.T, s storage.Store) {
	for _, k := range []string{"x/1", "x/2", "x/3"} {
		Put(t, s, k, []byte(k))
	}
	stop := errors.New("stop here")
	var seen []string
	err := s.List(t.Context(), "x/", func(o storage.Object) error {
		seen = append(seen, o.Key)
		if o.Key == "x/2" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("List = %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"x/1", "x/2"}) {
		t.Errorf("List called fn for %q, want it to stop after x/2", seen)
	}
}

func testDelete(t *testing.T, s storage.Store) {
	const key = "del/one"
	Put(t, s, key, []byte("first"))
	Put(t, s, "del/two", []byte("stays"))
	for i := range 2 {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete #%d(%q) = %v", i+1, key, err)
		}
	}
	assertAbsent(t, s, key)
	if err := s.Delete(t.Context(), "never/was/here"); err != nil {
		t.Errorf("Delete of a key that never existed = %v, want nil", err)
	}
	if got := Keys(t, s, ""); !slices.Equal(got, []string{"del/two"}) {
		t.Errorf("after Delete, List = %q", got)
	}
	// The key is free again.
	Put(t, s, key, []byte("second"))
	if got := Get(t, s, key); string(got) != "second" {
		t.Errorf("Get after re-Put = %q", got)
	}
}

// badKeys are keys storage.CleanKey rejects; every store must refuse them.
var badKeys = []string{
	"", "/abs", "/", "a/", "a//b", "./a", "a/./b", "..", "../a", "a/../b", "a/..",
	`a\b`, "a\x00b", "a\nb", "a\x7fb", ".",
}

func testBadKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for _, key := range badKeys {
		if err := storage.CleanKey(key); err == nil {
			t.Fatalf("badKeys: CleanKey accepts %q", key)
		}
		_, err := s.Put(ctx, key, strings.NewReader("x"), storage.PutOptions{})
		if err == nil || errors.Is(err, storage.ErrExist) {
			t.Errorf("Put(%q) = %v, want a key error", key, err)
		}
		if rc, err := s.Get(ctx, key); err == nil {
			_ = rc.Close()
			t.Errorf("Get(%q) succeeded", key)
		}
		if err := s.Delete(ctx, key); err == nil {
			t.Errorf("Delete(%q) = nil, want a key error", key)
		}
	}
	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("after refused Puts, List = %q", got)
	}
}

func testFailingReader(t *testing.T, s storage.Store) {
	const key = "fail/midway.bin"
	for _, size := range []int{0, 10, 300 << 10} {
		r := io.MultiReader(bytes.NewReader(Content(size, 7)), iotestErrReader{errBoom})
		_, err := s.Put(t.Context(), key, r, storage.PutOptions{})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Put with a reader failing after %d bytes = %v, want the reader's error", size, err)
		}
		assertAbsent(t, s, key)
		if got := Keys(t, s, ""); len(got) != 0 {
			t.Fatalf("after a failed Put, List = %q", got)
		}
	}
	Put(t, s, key, []byte("now it works")) // nothing blocks the key
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func testConcurrentPuts(t *testing.T, s storage.Store) {
	const n = 32
	var wg sync.WaitGroup
	errs := make([]error, n)
	objs := make([]storage.Object, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("conc/%02d/part-%02d.bin", i%4, i)
			objs[i], errs[i] = s.Put(t.Context(), key, bytes.NewReader(Content(1000+i*97, uint64(i))), storage.PutOptions{})
		})
	}
	wg.Wait()
	want := make([]string, 0, n)
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Put #%d: %v", i, errs[i])
		}
		data := Content(1000+i*97, uint64(i))
		if objs[i].SHA256 != SHA256(data) {
			t.Errorf("Put #%d: sha256 %s, want %s", i, objs[i].SHA256, SHA256(data))
		}
		if got := Get(t, s, objs[i].Key); !bytes.Equal(got, data) {
			t.Errorf("Get(%q): content differs", objs[i].Key)
		}
		want = append(want, objs[i].Key)
	}
	slices.Sort(want)
	if got := Keys(t, s, "conc/"); !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}
}

func testConcurrentPutsSameKey(t *testing.T, s storage.Store) {
	const n, key = 8, "race/manifest.json"
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Put(t.Context(), key, bytes.NewReader(Content(50<<10, uint64(i))), storage.PutOptions{})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("Puts #%d and #%d of the same key both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrExist):
			t.Errorf("Put #%d = %v, want nil or ErrExist", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no Put succeeded")
	}
	if got := Get(t, s, key); !bytes.Equal(got, Content(50<<10, uint64(winner))) {
		t.Errorf("stored content is not the winner's (#%d)", winner)
	}
	if got := Keys(t, s, ""); !slices.Equal(got, []string{key}) {
		t.Errorf("List = %q, want only %q", got, key)
	}
}

func testCancelBefore(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Put(ctx, "cancel/before", strings.NewReader("data"), storage.PutOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	assertAbsent(t, s, "cancel/before")
}

// cancelingReader cancels its context on the first Read and then keeps
// producing data up to limit: a store that does not check the context
// between chunks reads it all.
type cancelingReader struct {
	cancel context.CancelFunc
	n      int
	limit  int
}

func (r *cancelingReader) Read(p []byte) (int, error) {
	if r.n >= r.limit {
		return 0, io.EOF
	}
	r.cancel()
	k := min(len(p), r.limit-r.n)
	clear(p[:k])
	r.n += k
	return k, nil
}

func testCancelDuring(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &cancelingReader{cancel: cancel, limit: 64 << 20}
	_, err := s.Put(ctx, "cancel/during", r, storage.PutOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put cancelled mid-way = %v, want context.Canceled", err)
	}
	if r.n >= r.limit {
		t.Errorf("Put read all %d bytes after the cancel: the context is not checked between chunks", r.n)
	}
	assertAbsent(t, s, "cancel/during")
}
