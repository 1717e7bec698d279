package s3

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ObjectInfo is what S3 itself says about an object, for verify.
type ObjectInfo struct {
	Size int64
	// SHA256 is the whole object's SHA-256 (hex) as S3 or our metadata
	// records it: from the stored checksum when the object went up in one
	// request, else from x-amz-meta-sha256; "" when neither is there.
	SHA256 string
	// Composite is S3's checksum of a multipart object ("<b64>-<parts>"):
	// a checksum of the parts' checksums, not comparable to SHA256.
	Composite   string
	LockMode    string // "", GOVERNANCE or COMPLIANCE
	RetainUntil time.Time
	PackID      string // x-amz-meta-evidence-pack-id
}

// Info asks S3 about key (HeadObject with checksums).
func (s *Store) Info(ctx context.Context, key string) (ObjectInfo, error) {
	name := s.ObjectName(key)
	out, err := s.client.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: &s.bucket, Key: &name, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("s3: head %s: %w", key, err)
	}
	info := ObjectInfo{Size: aws.ToInt64(out.ContentLength), LockMode: string(out.ObjectLockMode), PackID: out.Metadata["evidence-pack-id"]}
	if out.ObjectLockRetainUntilDate != nil {
		info.RetainUntil = *out.ObjectLockRetainUntilDate
	}
	switch c := aws.ToString(out.ChecksumSHA256); {
	case strings.Contains(c, "-"):
		info.Composite = c
	case c != "":
		if b, err := base64.StdEncoding.DecodeString(c); err == nil {
			info.SHA256 = hex.EncodeToString(b)
		}
	}
	if info.SHA256 == "" {
		info.SHA256 = out.Metadata[metaSHA256]
	}
	return info, nil
}
