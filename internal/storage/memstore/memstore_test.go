package memstore_test

import (
	"testing"

	"github.com/evidence-pack/evidence/internal/storage"
	"github.com/evidence-pack/evidence/internal/storage/memstore"
	"github.com/evidence-pack/evidence/internal/storage/storetest"
)

func newStore(*testing.T) storage.Store { return memstore.New() }

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func TestTxnConformance(t *testing.T) { storetest.RunTxn(t, newStore) }

func TestReplaceConformance(t *testing.T) { storetest.RunReplace(t, newStore) }
