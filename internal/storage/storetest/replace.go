package storetest

import (
	"bytes"
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
)

// RunReplace checks a storage.Replacer: Replace creates an object, replaces
// it whole, and refuses content over storage.MaxReplaceSize.
func RunReplace(t *testing.T, newStore func(t *testing.T) storage.Store) {
	s := newStore(t)
	r, ok := s.(storage.Replacer)
	if !ok {
		t.Fatalf("%T is not a storage.Replacer", s)
	}
	key := "acme/2026-11-21/latest.json"
	for i, content := range [][]byte{[]byte(`{"pack":"one"}`), []byte(`{"pack":"two, longer"}`)} {
		obj, err := r.Replace(t.Context(), key, bytes.NewReader(content), storage.PutOptions{ContentType: "application/json"})
		if err != nil {
			t.Fatalf("Replace %d: %v", i, err)
		}
		if obj.SHA256 != SHA256(content) || obj.Size != int64(len(content)) {
			t.Errorf("Replace %d returned %+v", i, obj)
		}
		if got := Get(t, s, key); !bytes.Equal(got, content) {
			t.Errorf("after Replace %d, Get = %q", i, got)
		}
	}
	if keys := Keys(t, s, "acme/"); len(keys) != 1 {
		t.Errorf("List after two Replaces = %q", keys)
	}
	big := bytes.Repeat([]byte("x"), storage.MaxReplaceSize+1)
	if _, err := r.Replace(t.Context(), key, bytes.NewReader(big), storage.PutOptions{}); err == nil {
		t.Error("Replace took more than MaxReplaceSize")
	}
	if _, err := r.Replace(t.Context(), "../escape", bytes.NewReader(nil), storage.PutOptions{}); err == nil {
		t.Error("Replace took a bad key")
	}
}
