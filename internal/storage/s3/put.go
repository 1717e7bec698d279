package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/evidence-pack/evidence/internal/storage"
)

const (
	// readChunk is the most Put reads from the caller's reader between two
	// context checks.
	readChunk = 1 << 20
	// growLimit: a first buffer grows by doubling up to this size, then
	// jumps to a pooled part buffer.
	growLimit = 1 << 20
	// firstBufSize is where a first buffer starts.
	firstBufSize = 32 << 10
	// conflictRetries is how often a write answered 409
	// ConditionalRequestConflict is tried again.
	conflictRetries = 3
)

// put stores r as the object name (a full object name, checked).
func (s *Store) put(ctx context.Context, name string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if err := ctx.Err(); err != nil {
		return storage.Object{}, err
	}
	meta, err := userMetadata(o.Metadata)
	if err != nil {
		return storage.Object{}, err
	}
	h := sha256.New()
	buf, eof, err := s.fill(ctx, r, nil, int(s.threshold), h)
	if err == nil && !eof {
		// More than the threshold, perhaps: complete the first part, and
		// when it is full look one byte ahead, so that an object of
		// exactly PartSize bytes (the default threshold) stays one PutObject.
		buf, eof, err = s.fill(ctx, r, buf, int(s.partSize), h)
		if err == nil && !eof {
			var probe [1]byte
			var n int
			n, eof, err = readSome(ctx, r, probe[:])
			if n > 0 {
				r = io.MultiReader(bytes.NewReader(probe[:n]), r)
				eof = false
			}
		}
	}
	if err != nil {
		s.release(buf)
		return storage.Object{}, err
	}
	// A cancel that arrived during the last read still wins.
	if err := ctx.Err(); err != nil {
		s.release(buf)
		return storage.Object{}, err
	}
	if eof && int64(len(buf)) <= s.threshold {
		defer s.release(buf)
		sum := h.Sum(nil)
		if err := s.putObject(ctx, name, buf, sum, meta, o.ContentType); err != nil {
			return storage.Object{}, err
		}
		return storage.Object{Size: int64(len(buf)), SHA256: hex.EncodeToString(sum)}, nil
	}
	size, err := s.multipart(ctx, name, r, buf, eof, h, meta, o.ContentType)
	if err != nil {
		return storage.Object{}, err
	}
	return storage.Object{Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// putObject sends a whole object whose SHA-256 is sum in one PutObject.
func (s *Store) putObject(ctx context.Context, name string, data, sum []byte, meta map[string]string, contentType string) error {
	b64 := base64.StdEncoding.EncodeToString(sum)
	meta[metaSHA256] = hex.EncodeToString(sum)
	in := &s3sdk.PutObjectInput{
		Bucket:                    &s.bucket,
		Key:                       &name,
		ContentLength:             aws.Int64(int64(len(data))),
		ContentType:               aws.String(orDefault(contentType)),
		ChecksumAlgorithm:         types.ChecksumAlgorithmSha256,
		ChecksumSHA256:            &b64,
		Metadata:                  meta,
		ServerSideEncryption:      s.sse,
		ObjectLockMode:            s.lockMode,
		ObjectLockRetainUntilDate: s.retainUntil(),
	}
	if s.kmsKeyID != "" {
		in.SSEKMSKeyId = &s.kmsKeyID
	}
	return s.writeOnce(ctx, name, meta[metaPutID], func(ifNoneMatch *string) error {
		in.IfNoneMatch = ifNoneMatch
		// A new reader for every call; the SDK rewinds it between retries.
		in.Body = bytes.NewReader(data)
		out, err := s.client.PutObject(ctx, in)
		if err != nil {
			return err
		}
		if got := aws.ToString(out.ChecksumSHA256); got != "" && got != b64 {
			return fmt.Errorf("server reports SHA-256 %s for the object, we sent %s", got, b64)
		}
		return nil
	})
}

// multipart uploads an object larger than the threshold: first is its
// first part (already read, and hashed into h), r the rest unless eof. It
// returns the object's size; h ends with the whole object's SHA-256.
func (s *Store) multipart(ctx context.Context, name string, r io.Reader, first []byte, eof bool, h hash.Hash, meta map[string]string, contentType string) (int64, error) {
	// An existing key fails now rather than after the whole upload;
	// CompleteMultipartUpload's If-None-Match is what guarantees it.
	if ok, _, err := s.exists(ctx, name); err != nil || ok {
		s.release(first)
		if err != nil {
			return 0, err
		}
		return 0, storage.ErrExist
	}
	in := &s3sdk.CreateMultipartUploadInput{
		Bucket:                    &s.bucket,
		Key:                       &name,
		ContentType:               aws.String(orDefault(contentType)),
		ChecksumAlgorithm:         types.ChecksumAlgorithmSha256,
		Metadata:                  meta,
		ServerSideEncryption:      s.sse,
		ObjectLockMode:            s.lockMode,
		ObjectLockRetainUntilDate: s.retainUntil(),
	}
	if s.kmsKeyID != "" {
		in.SSEKMSKeyId = &s.kmsKeyID
	}
	created, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		s.release(first)
		return 0, fmt.Errorf("create multipart upload: %w", err)
	}
	uploadID := aws.ToString(created.UploadId)
	s.log.Debug("s3: multipart upload started", "bucket", s.bucket, "object", name, "upload_id", uploadID)

	parts, size, err := s.uploadParts(ctx, name, uploadID, r, first, eof, h)
	if err == nil {
		err = ctx.Err() // a cancel during the last part still wins
	}
	if err == nil {
		err = s.complete(ctx, name, uploadID, meta[metaPutID], parts, size)
	}
	if err != nil {
		if aerr := s.abortUpload(ctx, name, uploadID); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return 0, err
	}
	s.log.Debug("s3: multipart upload completed", "bucket", s.bucket, "object", name, "parts", len(parts), "size", size)
	return size, nil
}

// partSum is an uploaded part and its SHA-256.
type partSum struct {
	part   types.CompletedPart
	digest [sha256.Size]byte
}

// uploadParts reads the rest of r into part buffers (at most s.conc at a
// time) and uploads them in parallel. On error it has waited for every
// upload it started.
func (s *Store) uploadParts(ctx context.Context, name, uploadID string, r io.Reader, first []byte, eof bool, h hash.Hash) ([]partSum, int64, error) {
	uctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.conc) // one token per part buffer held
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		parts  []partSum
		failed error
	)
	fail := func(err error) {
		mu.Lock()
		if failed == nil {
			failed = err
		}
		mu.Unlock()
		cancel(err)
	}
	upload := func(num int32, buf []byte) {
		mu.Lock()
		parts = append(parts, partSum{})
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				s.release(buf)
				<-sem
			}()
			digest := sha256.Sum256(buf)
			b64 := base64.StdEncoding.EncodeToString(digest[:])
			out, err := s.client.UploadPart(uctx, &s3sdk.UploadPartInput{
				Bucket:            &s.bucket,
				Key:               &name,
				UploadId:          &uploadID,
				PartNumber:        aws.Int32(num),
				Body:              bytes.NewReader(buf), // seekable: retries re-send it
				ContentLength:     aws.Int64(int64(len(buf))),
				ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
				ChecksumSHA256:    &b64,
			})
			if err == nil {
				if got := aws.ToString(out.ChecksumSHA256); got != "" && got != b64 {
					err = fmt.Errorf("server reports SHA-256 %s, we sent %s", got, b64)
				}
			}
			if err != nil {
				fail(fmt.Errorf("upload part %d: %w", num, err))
				return
			}
			mu.Lock()
			parts[num-1] = partSum{
				part:   types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num), ChecksumSHA256: &b64},
				digest: digest,
			}
			mu.Unlock()
		})
	}

	sem <- struct{}{} // the first part's buffer
	size := int64(len(first))
	num := int32(1)
	upload(num, first)
	for !eof {
		select {
		case sem <- struct{}{}:
		case <-uctx.Done():
		}
		if uctx.Err() != nil {
			break // a part failed or ctx is done; the token, if taken, is not needed
		}
		var buf []byte
		var err error
		buf, eof, err = s.fill(uctx, r, s.getBuf(), int(s.partSize), h)
		if err == nil && len(buf) > 0 && num == MaxParts {
			err = fmt.Errorf("object larger than %d parts of %d bytes", MaxParts, s.partSize)
		}
		if err != nil || len(buf) == 0 {
			s.release(buf)
			<-sem
			if err != nil {
				fail(err)
			}
			break
		}
		num++
		size += int64(len(buf))
		upload(num, buf)
	}
	wg.Wait()
	if failed != nil {
		// The first failure, not the cancellations it caused; a cancelled
		// ctx shows as context.Canceled.
		if ctx.Err() != nil && !errors.Is(failed, ctx.Err()) {
			return nil, 0, fmt.Errorf("%w (%v)", ctx.Err(), failed)
		}
		return nil, 0, failed
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return parts, size, nil
}

// complete finishes the upload without replacing an existing object.
func (s *Store) complete(ctx context.Context, name, uploadID, putID string, parts []partSum, size int64) error {
	completed := make([]types.CompletedPart, len(parts))
	all := make([]byte, 0, len(parts)*sha256.Size)
	for i, p := range parts {
		completed[i] = p.part
		all = append(all, p.digest[:]...)
	}
	composite := sha256.Sum256(all)
	want := base64.StdEncoding.EncodeToString(composite[:])
	return s.writeOnce(ctx, name, putID, func(ifNoneMatch *string) error {
		out, err := s.client.CompleteMultipartUpload(ctx, &s3sdk.CompleteMultipartUploadInput{
			Bucket:          &s.bucket,
			Key:             &name,
			UploadId:        &uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
			IfNoneMatch:     ifNoneMatch,
			MpuObjectSize:   aws.Int64(size),
		})
		if err != nil {
			return err
		}
		// S3 shows "<base64 of the SHA-256 of the part digests>-<parts>".
		got := aws.ToString(out.ChecksumSHA256)
		if b, n, ok := strings.Cut(got, "-"); got != "" && (b != want || ok && n != strconv.Itoa(len(parts))) {
			return fmt.Errorf("server reports checksum %s for the upload, we computed %s-%d", got, want, len(parts))
		}
		return nil
	})
}

// abortUpload removes an unfinished upload's parts; it runs even when ctx
// is done.
func (s *Store) abortUpload(ctx context.Context, name, uploadID string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := s.client.AbortMultipartUpload(actx, &s3sdk.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &name, UploadId: &uploadID})
	if err != nil && apiCode(err) != "NoSuchUpload" {
		s.log.Warn("s3: could not abort a failed multipart upload; its parts stay until a lifecycle rule (AbortIncompleteMultipartUpload) removes them",
			"bucket", s.bucket, "object", name, "upload_id", uploadID, "err", err)
		return fmt.Errorf("abort multipart upload %s: %w", uploadID, err)
	}
	return nil
}

// writeOnce runs write, a PutObject or CompleteMultipartUpload, so that it
// never replaces an object: with If-None-Match: * (write's argument), or
// after a HeadObject check on servers that do not implement it. When the
// object exists, it is ours if its put-id is putID (an earlier attempt whose
// answer was lost); otherwise writeOnce returns storage.ErrExist.
func (s *Store) writeOnce(ctx context.Context, name, putID string, write func(ifNoneMatch *string) error) error {
	headCheck := false // for this write only
	for attempt := 1; ; attempt++ {
		cond := s.conditional() && !headCheck
		var ifNoneMatch *string
		if cond {
			ifNoneMatch = aws.String("*")
		} else if ok, _, err := s.exists(ctx, name); err != nil {
			return err
		} else if ok {
			return storage.ErrExist
		}
		err := write(ifNoneMatch)
		if err == nil {
			return nil
		}
		status, code := httpStatus(err), apiCode(err)
		switch {
		case cond && (status == http.StatusNotImplemented || code == "NotImplemented"):
			s.noConditionalWrites(err)
			continue
		case status == http.StatusConflict && code == "ConditionalRequestConflict" && attempt <= conflictRetries:
			// A concurrent write of the same key is in progress: S3 asks
			// to try again.
			if err := sleep(ctx, time.Duration(attempt)*100*time.Millisecond); err != nil {
				return err
			}
			continue
		}
		if ctx.Err() != nil {
			return err
		}
		// Did an earlier attempt of ours land (412 on a retry, or
		// NoSuchUpload for a retried Complete)?
		ok, meta, herr := s.exists(ctx, name)
		if herr == nil && ok && meta[metaPutID] == putID {
			return nil
		}
		if status == http.StatusPreconditionFailed || code == "PreconditionFailed" {
			if herr == nil && !ok && cond {
				// Refused, yet nothing is there: the object was deleted
				// meanwhile, or the key's current version is a delete
				// marker and the server counts it as an object (versitygw
				// does; S3 does not). Write once more, checking first.
				s.log.Debug("s3: conditional write refused but no object found; checking with HeadObject instead",
					"bucket", s.bucket, "object", name)
				headCheck = true
				continue
			}
			return storage.ErrExist
		}
		return err
	}
}

func (s *Store) conditional() bool {
	s.condMu.Lock()
	defer s.condMu.Unlock()
	return !s.noConditional
}

func (s *Store) noConditionalWrites(err error) {
	s.condMu.Lock()
	defer s.condMu.Unlock()
	if !s.noConditional {
		s.noConditional = true
		s.log.Warn("s3: the server does not implement conditional writes (If-None-Match); "+
			"checking with HeadObject before each write instead, which two concurrent writers of one key can both pass",
			"bucket", s.bucket, "err", err)
	}
}

// fill reads from r into buf until it holds limit bytes or r ends (eof),
// hashing what it reads into h and checking ctx before every read. buf grows
// as needed: by doubling while small, then into a pooled part buffer.
func (s *Store) fill(ctx context.Context, r io.Reader, buf []byte, limit int, h hash.Hash) ([]byte, bool, error) {
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = s.grow(buf, limit)
		}
		end := min(cap(buf), limit, len(buf)+readChunk)
		n, eof, err := readSome(ctx, r, buf[len(buf):end])
		h.Write(buf[len(buf) : len(buf)+n])
		buf = buf[:len(buf)+n]
		if err != nil || eof {
			return buf, eof, err
		}
	}
	return buf, false, nil
}

func (s *Store) grow(buf []byte, limit int) []byte {
	c := max(2*cap(buf), firstBufSize)
	var nb []byte
	if c > growLimit {
		nb = s.getBuf()
	} else {
		nb = make([]byte, 0, min(c, limit))
	}
	nb = append(nb, buf...)
	s.release(buf)
	return nb
}

// readSome reads into p once (retrying reads that return nothing), after
// checking ctx. eof is set when r has ended.
func readSome(ctx context.Context, r io.Reader, p []byte) (n int, eof bool, err error) {
	for range 100 {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		n, err = r.Read(p)
		if errors.Is(err, io.EOF) {
			return n, true, nil
		}
		if n > 0 || err != nil {
			return n, false, err
		}
	}
	return 0, false, io.ErrNoProgress
}

// getBuf returns an empty part buffer of capacity s.partSize.
func (s *Store) getBuf() []byte {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]byte, 0, s.partSize)
	}
}

// release keeps a part buffer for reuse, up to Concurrency of them; other
// buffers are left to the garbage collector.
func (s *Store) release(buf []byte) {
	if int64(cap(buf)) != s.partSize {
		return
	}
	select {
	case s.free <- buf[:0]:
	default:
	}
}

// retainUntil is the Object Lock retain-until date for an object written
// now, or nil.
func (s *Store) retainUntil() *time.Time {
	if s.lockMode == "" {
		return nil
	}
	t := time.Now().Add(s.retain).UTC().Truncate(time.Second)
	return &t
}

// userMetadata checks the caller's metadata and adds a fresh put-id.
func userMetadata(m map[string]string) (map[string]string, error) {
	meta := make(map[string]string, len(m)+2)
	for k, v := range m {
		lk := strings.ToLower(k)
		if lk == metaSHA256 || lk == metaPutID {
			return nil, fmt.Errorf("metadata %q: reserved for the store", k)
		}
		if !metaToken(lk) {
			return nil, fmt.Errorf("metadata key %q: want letters, digits, '-', '_' and '.'", k)
		}
		for _, c := range v {
			if c < 0x20 || c > 0x7e {
				return nil, fmt.Errorf("metadata %q: the value must be printable ASCII", k)
			}
		}
		meta[lk] = v
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	meta[metaPutID] = hex.EncodeToString(id[:])
	return meta, nil
}

func metaToken(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func orDefault(contentType string) string {
	if contentType == "" {
		return "application/octet-stream"
	}
	return contentType
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
