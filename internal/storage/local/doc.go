// Package local is a storage.Store (and storage.Beginner) kept in a
// directory on a local file system: the default place for evidence packs.
//
// # Keys and files
//
// A key "a/b/c.pdf" is the file <root>/a/b/c.pdf. Keys are checked with
// storage.CleanKey; in addition, no part of a key may start with ".tmp-" or
// ".staging-": those names are the store's own temporary files and staging
// directories, which List never shows. Files are created 0644, directories
// 0755 (independent of the umask). Symbolic links and other non-regular files
// under the root are ignored by List and are not objects for Get.
//
// # Put: never a half file, never an overwrite
//
// Put follows restic's local Save: the content is copied once into a
// temporary file in the target directory while SHA-256 and size are
// computed; the file is fsynced and closed, then renamed into place with
// renameat2(RENAME_NOREPLACE) (falling back to link+remove where the kernel
// or file system lacks it), and the directory is fsynced. A deferred cleanup
// removes the temporary file on any error, so an error leaves nothing under
// the key. The context is checked before every chunk read from the caller's
// reader and once more before the rename: a cancelled Put fails with an
// error for which errors.Is(err, context.Canceled) (or DeadlineExceeded)
// holds. Put does not close the reader.
//
// # Transactions
//
// Begin(ctx, prefix) stages a pack in
// <root>/<parent of prefix>/.staging-<last part>-<random>/. The returned
// storage.Txn takes keys relative to the pack ("manifest.json"). Commit
// fsyncs the staging directory and renames it to <root>/<prefix> without
// replacing anything (renameat2 RENAME_NOREPLACE; elsewhere a check before
// the rename, which leaves a small window), then fsyncs the parent: the whole
// pack appears at once or not at all. Commit waits for Puts and Deletes in
// progress on the Txn. Abort removes the staging directory without waiting
// for Puts in progress (they fail); Abort after Commit, and a second Abort,
// are no-ops. Any other use of a finished Txn fails with ErrTxnClosed.
//
// # Errors
//
// Errors callers may branch on, with errors.Is: storage.ErrNotExist (Get of a
// missing key), storage.ErrExist (Put of an existing key, Begin or Commit
// onto an existing prefix), ErrTxnClosed, context.Canceled and
// context.DeadlineExceeded. Every other error is wrapped with the operation
// and the key.
//
// The Store is safe for concurrent use by several goroutines and by several
// processes sharing the directory (no two of them can create the same key).
package local
