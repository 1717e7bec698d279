// Package memstore is an in-memory storage.Store and storage.Beginner for
// unit tests. It passes the same conformance suite (storetest) as the real
// stores, so code tested against it behaves the same on a directory or S3.
//
// Put reads the whole content into memory (checking the context between
// chunks) while hashing it, then stores it under the key unless the key
// exists: errors.Is(err, storage.ErrExist). Get returns a reader over an
// immutable copy; the caller closes it. Keys are checked with
// storage.CleanKey.
//
// Begin stages a pack in memory; Commit moves every object under
// "<prefix>/" at once, failing with storage.ErrExist when the prefix holds
// an object or a committed pack (even an empty one) by then. Abort drops the
// staged objects; Abort after Commit is a no-op. Other use of a finished
// Txn fails with ErrTxnClosed.
//
// A Store is safe for concurrent use; List calls fn without holding the
// store's lock, so fn may use the store.
package memstore
