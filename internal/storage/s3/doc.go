// Package s3 is a storage.Store (and storage.Beginner) kept in an Amazon S3
// bucket, or in any S3-compatible server (versitygw, MinIO, Ceph RGW, ...),
// through aws-sdk-go-v2.
//
// # Configuration
//
// New takes a Config: the bucket and an optional key prefix inside it
// (ParseURL turns "s3://bucket/prefix" into those two), the region and
// endpoint, and the write options below. Credentials come from the AWS
// default chain (config.LoadDefaultConfig: environment, shared profile, web
// identity / IRSA, container and instance roles) unless Config.Credentials
// is set. The endpoint is Config.Endpoint, else AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL (read by the SDK), else AWS's own. New checks that the
// bucket can be reached (HeadBucket) and, when Object Lock is asked for,
// that the bucket has it enabled.
//
// A key "a/b.pdf" is the S3 object "<prefix>/a/b.pdf". Keys are checked with
// storage.CleanKey; objects in the bucket whose names are not clean keys
// (for example "folder/" markers made by consoles) are not shown by List.
//
// # Put: streamed, checksummed, never an overwrite
//
// Put reads its reader once, in chunks, checking the context before every
// read, and never holds the whole object in memory:
//
//   - Up to MultipartThreshold bytes (default PartSize, 16 MiB) are read
//     into one buffer; if the reader ends there, the object is sent with one
//     PutObject carrying ChecksumAlgorithm SHA256 and the ChecksumSHA256 we
//     computed, so S3 rejects a body damaged in transit.
//   - Larger objects go up as a multipart upload. Parts of PartSize bytes
//     are read into at most Concurrency buffers (so a Put holds at most
//     Concurrency x PartSize bytes, however large the object) and uploaded
//     in parallel, each UploadPart with its own SHA-256 checksum; the body
//     is a bytes.Reader, so the SDK's retryer re-sends the same bytes when
//     a part fails (500, 503, a reset connection). CompleteMultipartUpload
//     lists every part with its checksum.
//
// The object's size and SHA-256 over the whole content are computed in the
// same single pass and returned in storage.Object. Every object carries the
// caller's PutOptions.Metadata (the pack id, for instance) and
// x-amz-meta-put-id, a random value that tells our own write from someone
// else's (see below). An object sent in one PutObject also keeps its
// SHA-256 as x-amz-meta-sha256; a multipart object cannot, since S3 fixes
// metadata at CreateMultipartUpload, before the content has been read (its
// SHA-256 is in the manifest). On any failure (the reader's error, a part
// that still fails after the retries, a cancelled context) the multipart
// upload is aborted under context.WithoutCancel with a timeout, so no parts
// are left behind; only a crash can leave an unfinished upload, which a
// bucket lifecycle rule (AbortIncompleteMultipartUpload) should remove.
//
// A Store keeps up to Concurrency part buffers between Puts for reuse, so
// that a run of large Puts does not allocate a new PartSize buffer per part.
//
// Nothing is ever overwritten: PutObject and CompleteMultipartUpload are
// sent with If-None-Match: *, and S3 answers 412 Precondition Failed when
// the key exists, which Put returns as storage.ErrExist (wrapped, naming the
// key). Of several concurrent Puts of one key exactly one wins. Should a
// retried request find the object already there, Put compares the object's
// put-id with its own and reports success if the earlier attempt was its
// own. A server that does not implement conditional writes (501
// NotImplemented) is remembered, and Put then checks with HeadObject before
// it writes; that check leaves a window in which two writers can both
// succeed, so such servers are logged as a warning. A 412 for a key where
// HeadObject finds nothing (the object was deleted meanwhile, or, on
// versitygw, the key's current version is a delete marker) is retried once
// in the same checked way. Large objects are also checked with HeadObject
// before their upload starts, so that an existing key fails early rather
// than after the whole upload.
//
// # Checksums: three different SHA-256 values
//
// The SHA-256 that S3 shows for an object (ChecksumSHA256 in HeadObject or
// GetObjectAttributes with ChecksumMode ENABLED) depends on how the object
// was uploaded:
//
//   - a PutObject: the base64 SHA-256 of the whole content, the same value
//     as the manifest's hex SHA-256, in another encoding;
//   - a multipart upload: a "checksum of checksums", the base64 SHA-256 of
//     the concatenated binary SHA-256 digests of the parts, followed by
//     "-<number of parts>" (for example "q3l...=-13"). It depends on the
//     part size and cannot be compared with the manifest's whole-file
//     SHA-256.
//
// Put checks that the server's value, when it returns one, equals the one
// it computed itself (both forms). The manifest and SHA256SUMS record the
// whole-file SHA-256 that Put returns (also kept as x-amz-meta-sha256); pack
// verification therefore never trusts S3's checksum: it reads every object
// back with Get and hashes the stream again.
//
// # Encryption and Object Lock
//
// With SSE "AES256" (SSE-S3) or "aws:kms" (SSE-KMS, with KMSKeyID or the
// account's default key) every PutObject and CreateMultipartUpload asks for
// server-side encryption. With ObjectLockMode "GOVERNANCE" or "COMPLIANCE"
// every object is written with that mode and a retain-until date RetainDays
// days ahead; the bucket must have been created with Object Lock enabled,
// which New checks (GetObjectLockConfiguration). S3 requires a Content-MD5
// or checksum header on such writes: the SHA-256 checksum is that header.
// In a bucket with Object Lock (which is versioned) Delete and Txn.Abort
// add delete markers: the object disappears from List and Get, but its
// locked version stays until its retention ends.
//
// # Transactions
//
// S3 has no rename, so a Txn (Begin) writes its objects straight to
// "<prefix>/...", and a pack counts as complete only once its manifest.json
// exists (the pack writer writes it last, as thanos writes meta.json last).
// Begin fails with storage.ErrExist when an object named prefix, or any
// object under "<prefix>/", exists, or when a Txn of this Store is open on
// an overlapping prefix. While a Txn is open this Store hides its objects
// from its own List and Get (other clients do see them, without a
// manifest.json), so within the process a pack appears at Commit, as with
// the local store. Commit only waits for the Txn's Puts in progress and
// makes the pack visible; Abort deletes every object the Txn wrote,
// manifest.json first, under context.WithoutCancel with a timeout, and a Put
// still in progress when Abort runs deletes its own object when it ends.
//
// # Permissions
//
// s3:ListBucket (HeadBucket, List, Begin), s3:GetObject, s3:PutObject,
// s3:DeleteObject and s3:AbortMultipartUpload on the objects; with Object
// Lock also s3:GetBucketObjectLockConfiguration and s3:PutObjectRetention;
// with SSE-KMS, kms:GenerateDataKey and kms:Decrypt on the key.
//
// # Errors
//
// Errors callers may branch on, with errors.Is: storage.ErrNotExist (Get of
// a missing key), storage.ErrExist (Put of an existing key, Begin onto an
// existing prefix), ErrTxnClosed, context.Canceled and
// context.DeadlineExceeded. Every other error is wrapped with the operation
// and the key; S3's own errors stay reachable with errors.As
// (smithy.APIError).
//
// The Store is safe for concurrent use.
package s3
