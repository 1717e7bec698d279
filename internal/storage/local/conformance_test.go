package local_test

import (
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/local"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

func newStore(t *testing.T) storage.Store {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func TestTxnConformance(t *testing.T) { storetest.RunTxn(t, newStore) }

func TestReplaceConformance(t *testing.T) { storetest.RunReplace(t, newStore) }
