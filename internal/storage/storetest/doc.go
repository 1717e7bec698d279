// Package storetest is the one conformance suite every storage.Store must
// pass (memstore, local, and S3 against a real S3-compatible server), in the
// manner of restic's backend test suite and thanos' AcceptanceTest.
//
// Run checks the Store contract: a put/get round trip whose size and SHA-256
// equal an independent computation; ErrExist on overwrite with the original
// intact; ErrNotExist; List order (byte order of keys) and prefix filtering;
// idempotent Delete; refusal of keys storage.CleanKey rejects; a reader that
// fails mid-way, or a cancelled context, leaves nothing under the key;
// concurrent Puts of different keys, and of the same key (exactly one wins).
//
// RunTxn checks storage.Beginner stores: a Txn passes Run itself (with keys
// relative to the pack); its objects are invisible in the parent store before
// Commit and all visible after; Abort leaves nothing; Begin (or a racing
// Commit) on a prefix that holds a pack fails with ErrExist; a finished Txn
// refuses further writes.
//
// newStore is called once per subtest and must return an empty store; it
// registers its own cleanup with t.Cleanup. The suite only uses the Store
// interface, so it cannot check a store's durability (fsync) or file modes:
// those belong in the store's own tests.
package storetest
