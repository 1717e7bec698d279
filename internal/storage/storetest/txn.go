package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
)

// RunTxn runs the transaction suite; newStore returns an empty store that
// implements storage.Beginner.
func RunTxn(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	beginner := func(t *testing.T) (storage.Store, storage.Beginner) {
		t.Helper()
		s := newStore(t)
		b, ok := s.(storage.Beginner)
		if !ok {
			t.Fatalf("%T does not implement storage.Beginner", s)
		}
		return s, b
	}

	// A Txn is a Store (keys relative to the pack) and passes the same suite.
	t.Run("TxnIsAStore", func(t *testing.T) {
		Run(t, func(t *testing.T) storage.Store {
			_, b := beginner(t)
			tx := begin(t, b, "conformance/2026-11-21/run-1")
			t.Cleanup(func() { _ = tx.Abort(context.WithoutCancel(t.Context())) })
			return tx
		})
	})

	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store, b storage.Beginner)
	}{
		{"InvisibleUntilCommit", testTxnInvisibleUntilCommit},
		{"Abort", testTxnAbort},
		{"BeginExisting", testTxnBeginExisting},
		{"CommitConflict", testTxnCommitConflict},
		{"EmptyCommit", testTxnEmptyCommit},
		{"Finished", testTxnFinished},
		{"CancelledCommit", testTxnCancelledCommit},
		{"BadPrefix", testTxnBadPrefix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, b := beginner(t)
			tc.fn(t, s, b)
		})
	}
}

func begin(t *testing.T, b storage.Beginner, prefix string) storage.Txn {
	t.Helper()
	tx, err := b.Begin(t.Context(), prefix)
	if err != nil {
		t.Fatalf("Begin(%q): %v", prefix, err)
	}
	return tx
}

// packFiles is a small pack, keyed relative to its prefix.
var packFiles = []struct {
	key  string
	data []byte
}{
	{"frameworks/cis/evidence.xlsx", Content(70<<10, 1)},
	{"SHA256SUMS", []byte("placeholder\n")},
	{"manifest.json", []byte(`{"schema":"evidence-pack/v1"}` + "\n")},
	{"parquet/evaluations/account=1/part-00000.parquet", Content(3000, 2)},
}

func putPack(t *testing.T, tx storage.Txn) []string {
	t.Helper()
	keys := make([]string, 0, len(packFiles))
	for _, f := range packFiles {
		o := Put(t, tx, f.key, f.data)
		if o.SHA256 != SHA256(f.data) || o.Size != int64(len(f.data)) {
			t.Errorf("Txn.Put(%q) = %+v, want size %d sha256 %s", f.key, o, len(f.data), SHA256(f.data))
		}
		keys = append(keys, f.key)
	}
	slices.Sort(keys)
	return keys
}

func testTxnInvisibleUntilCommit(t *testing.T, s storage.Store, b storage.Beginner) {
	const prefix = "acme/2026-11-21/run-1"
	Put(t, s, "other/object", []byte("unrelated"))
	tx := begin(t, b, prefix)
	keys := putPack(t, tx)

	if got := Keys(t, tx, ""); !slices.Equal(got, keys) {
		t.Errorf("Txn.List = %q, want %q (relative keys)", got, keys)
	}
	if got := Get(t, tx, "manifest.json"); !bytes.Equal(got, packFiles[2].data) {
		t.Errorf("Txn.Get(manifest.json) = %q", got)
	}
	// Before Commit the parent store shows nothing of the pack: no objects,
	// no staging directory, no temporary files.
	if got := Keys(t, s, ""); !slices.Equal(got, []string{"other/object"}) {
		t.Errorf("before Commit, List = %q, want only other/object", got)
	}
	assertAbsent(t, s, prefix+"/manifest.json")

	if err := tx.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	var want []string
	for _, k := range keys {
		want = append(want, prefix+"/"+k)
	}
	if got := Keys(t, s, prefix+"/"); !slices.Equal(got, want) {
		t.Errorf("after Commit, List = %q, want %q", got, want)
	}
	for _, f := range packFiles {
		if got := Get(t, s, prefix+"/"+f.key); !bytes.Equal(got, f.data) {
			t.Errorf("after Commit, Get(%q) differs", f.key)
		}
	}
	if err := tx.Abort(t.Context()); err != nil {
		t.Errorf("Abort after Commit = %v, want nil (no-op)", err)
	}
	if got := Keys(t, s, prefix+"/"); !slices.Equal(got, want) {
		t.Errorf("Abort after Commit changed the pack: List = %q", got)
	}
	if _, err := tx.Put(t.Context(), "late.txt", bytes.NewReader([]byte("x")), storage.PutOptions{}); !errors.Is(err, storage.ErrTxnClosed) {
		t.Errorf("Put after Commit = %v, want storage.ErrTxnClosed", err)
	}
}

func testTxnAbort(t *testing.T, s storage.Store, b storage.Beginner) {
	const prefix = "acme/2026-11-21/run-2"
	tx := begin(t, b, prefix)
	putPack(t, tx)
	if err := tx.Abort(t.Context()); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := tx.Abort(t.Context()); err != nil {
		t.Errorf("second Abort = %v, want nil", err)
	}
	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("after Abort, List = %q, want nothing", got)
	}
	// An aborted prefix is free.
	tx = begin(t, b, prefix)
	Put(t, tx, "manifest.json", []byte("{}"))
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatalf("Commit after an aborted Begin: %v", err)
	}
}

func testTxnBeginExisting(t *testing.T, s storage.Store, b storage.Beginner) {
	const prefix = "acme/2026-11-21/run-1"
	tx := begin(t, b, prefix)
	putPack(t, tx)
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	Put(t, s, "loose/file.txt", []byte("put directly"))
	for _, p := range []string{prefix, "acme/2026-11-21", "loose", "loose/file.txt"} {
		if tx, err := b.Begin(t.Context(), p); !errors.Is(err, storage.ErrExist) {
			if err == nil {
				_ = tx.Abort(t.Context())
			}
			t.Errorf("Begin(%q) = %v, want ErrExist", p, err)
		}
	}
	// A key that merely starts with the same characters is another pack.
	tx = begin(t, b, prefix+"0")
	if err := tx.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func testTxnCommitConflict(t *testing.T, s storage.Store, b storage.Beginner) {
	const prefix = "acme/2026-11-21/run-1"
	first := begin(t, b, prefix)
	second, err := b.Begin(t.Context(), prefix)
	if errors.Is(err, storage.ErrExist) {
		t.Skip("store refuses a second Begin of a prefix being staged: no commit race to test")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Abort(context.WithoutCancel(t.Context())) }()
	Put(t, first, "manifest.json", []byte("first"))
	Put(t, second, "manifest.json", []byte("second"))
	Put(t, second, "only-in-second", []byte("x"))
	if err := first.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := second.Commit(t.Context()); !errors.Is(err, storage.ErrExist) {
		t.Fatalf("second Commit of the same prefix = %v, want ErrExist", err)
	}
	if err := second.Abort(t.Context()); err != nil {
		t.Errorf("Abort after a refused Commit: %v", err)
	}
	if got := Get(t, s, prefix+"/manifest.json"); string(got) != "first" {
		t.Errorf("the first pack was changed: manifest = %q", got)
	}
	if got := Keys(t, s, ""); !slices.Equal(got, []string{prefix + "/manifest.json"}) {
		t.Errorf("List = %q", got)
	}
}

func testTxnEmptyCommit(t *testing.T, _ storage.Store, b storage.Beginner) {
	const prefix = "acme/2026-11-21/empty"
	tx := begin(t, b, prefix)
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if tx, err := b.Begin(t.Context(), prefix); !errors.Is(err, storage.ErrExist) {
		if err == nil {
			_ = tx.Abort(t.Context())
		}
		t.Errorf("Begin on a committed empty pack = %v, want ErrExist", err)
	}
}

func testTxnFinished(t *testing.T, _ storage.Store, b storage.Beginner) {
	for _, commit := range []bool{true, false} {
		prefix := "fin/aborted"
		if commit {
			prefix = "fin/committed"
		}
		tx := begin(t, b, prefix)
		Put(t, tx, "a", []byte("a"))
		var err error
		if commit {
			err = tx.Commit(t.Context())
		} else {
			err = tx.Abort(t.Context())
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Put(t.Context(), "b", strings.NewReader("b"), storage.PutOptions{}); err == nil {
			t.Errorf("%s: Put after the end succeeded", prefix)
		}
		if err := tx.Delete(t.Context(), "a"); err == nil {
			t.Errorf("%s: Delete after the end succeeded", prefix)
		}
		if err := tx.Commit(t.Context()); err == nil {
			t.Errorf("%s: Commit after the end succeeded", prefix)
		}
	}
}

func testTxnCancelledCommit(t *testing.T, s storage.Store, b storage.Beginner) {
	const prefix = "acme/2026-11-21/cancelled"
	tx := begin(t, b, prefix)
	putPack(t, tx)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := tx.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with a cancelled context = %v, want context.Canceled", err)
	}
	if got := Keys(t, s, ""); len(got) != 0 {
		t.Errorf("after a cancelled Commit, List = %q", got)
	}
	if err := tx.Abort(context.WithoutCancel(ctx)); err != nil {
		t.Errorf("Abort: %v", err)
	}
}

func testTxnBadPrefix(t *testing.T, _ storage.Store, b storage.Beginner) {
	for _, p := range badKeys {
		if tx, err := b.Begin(t.Context(), p); err == nil {
			_ = tx.Abort(t.Context())
			t.Errorf("Begin(%q) succeeded", p)
		}
	}
}
