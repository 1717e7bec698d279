package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/evidence-pack/evidence/internal/storage"
)

var _ storage.Replacer = (*Store)(nil)

// Replace writes a small object whole with one unconditional PutObject (a
// new version where the bucket keeps versions), with the store's
// encryption and retention like every other object.
func (s *Store) Replace(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if err := storage.CleanKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("s3: replace: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(storage.ContextReader(ctx, r), storage.MaxReplaceSize+1))
	if err != nil {
		return storage.Object{}, fmt.Errorf("s3: replace %s: %w", key, err)
	}
	if len(b) > storage.MaxReplaceSize {
		return storage.Object{}, fmt.Errorf("s3: replace %s: larger than %d bytes", key, storage.MaxReplaceSize)
	}
	meta, err := userMetadata(o.Metadata)
	if err != nil {
		return storage.Object{}, fmt.Errorf("s3: replace %s: %w", key, err)
	}
	sum := sha256.Sum256(b)
	meta[metaSHA256] = storage.SHA256Hex(b)
	name := s.ObjectName(key)
	in := &s3sdk.PutObjectInput{
		Bucket:                    &s.bucket,
		Key:                       &name,
		Body:                      bytes.NewReader(b),
		ContentLength:             aws.Int64(int64(len(b))),
		ContentType:               aws.String(orDefault(o.ContentType)),
		ChecksumAlgorithm:         types.ChecksumAlgorithmSha256,
		ChecksumSHA256:            aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Metadata:                  meta,
		ServerSideEncryption:      s.sse,
		ObjectLockMode:            s.lockMode,
		ObjectLockRetainUntilDate: s.retainUntil(),
	}
	if s.kmsKeyID != "" {
		in.SSEKMSKeyId = &s.kmsKeyID
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return storage.Object{}, fmt.Errorf("s3: replace %s: %w", key, err)
	}
	return storage.Object{Key: key, Size: int64(len(b)), SHA256: storage.SHA256Hex(b)}, nil
}
