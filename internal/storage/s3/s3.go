package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/evidence-pack/evidence/internal/storage"
)

const (
	// DefaultPartSize is the part size of multipart uploads unless
	// Config.PartSize says otherwise.
	DefaultPartSize = 16 << 20
	// MinPartSize is S3's smallest part (all but the last).
	MinPartSize = 5 << 20
	// MaxPartSize is S3's largest part, and largest PutObject.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts a multipart upload may have: an object can
	// be at most MaxParts x PartSize bytes.
	MaxParts = 10000
	// DefaultConcurrency is how many parts of one Put go up at once.
	DefaultConcurrency = 4

	// cleanupTimeout bounds the cleanup that runs after the caller's
	// context is gone (AbortMultipartUpload, Txn.Abort's deletes).
	cleanupTimeout = 60 * time.Second

	// Object metadata keys (x-amz-meta-...).
	metaSHA256 = "sha256"
	metaPutID  = "put-id"
)

// Config describes a Store. Bucket is required; everything else has a
// default.
type Config struct {
	Bucket string
	// Prefix is where in the bucket the store's keys start ("" is the
	// bucket's root); "evidence" puts key "a/b" at "evidence/a/b".
	Prefix string
	// Region defaults to the AWS chain's (AWS_REGION, the profile); with a
	// custom endpoint and no region anywhere, "us-east-1".
	Region string
	// Endpoint is an S3-compatible server's URL ("http://127.0.0.1:7070");
	// default AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS.
	Endpoint string
	// PathStyle addresses the bucket as "endpoint/bucket/key" instead of
	// "bucket.endpoint/key"; most S3-compatible servers want it.
	PathStyle bool
	// SSE is the server-side encryption asked for on every write: "" (the
	// bucket's default), "AES256" (SSE-S3) or "aws:kms" (SSE-KMS).
	SSE string
	// KMSKeyID is the KMS key for SSE "aws:kms" ("" = the account's
	// aws/s3 key).
	KMSKeyID string
	// ObjectLockMode is "" (none), "GOVERNANCE" or "COMPLIANCE": every
	// object is locked for RetainDays days. The bucket must have Object
	// Lock enabled.
	ObjectLockMode string
	RetainDays     int
	// PartSize is the size of multipart upload parts: default 16 MiB, at
	// least 5 MiB, at most 5 GiB.
	PartSize int64
	// Concurrency is how many parts of one Put are uploaded in parallel
	// (default 4); a Put holds at most Concurrency x PartSize bytes.
	Concurrency int
	// MultipartThreshold: objects of at most this many bytes go up in one
	// PutObject, larger ones as multipart uploads. Default PartSize; at
	// most PartSize.
	MultipartThreshold int64
	// RetryMaxAttempts is how often the SDK tries a request (default: the
	// SDK's, 3).
	RetryMaxAttempts int
	// HTTPClient is the SDK's HTTP client (default: the SDK's own). A
	// client Timeout must allow for a whole part's upload.
	HTTPClient *http.Client
	// Credentials replaces the AWS default credential chain when set.
	Credentials aws.CredentialsProvider
	// Logger receives debug and warning messages (default: none).
	Logger *slog.Logger
}

// Store is an S3 store. Create it with New.
type Store struct {
	client    *s3sdk.Client
	bucket    string
	root      string // Config.Prefix + "/", or ""
	partSize  int64
	threshold int64
	conc      int
	sse       types.ServerSideEncryption
	kmsKeyID  string
	lockMode  types.ObjectLockMode
	retain    time.Duration
	log       *slog.Logger

	// free holds up to conc part buffers (capacity partSize) for reuse:
	// a sync.Pool would drop them at every garbage collection, and the
	// 5-16 MiB allocations that follow make the heap swing.
	free chan []byte

	// noConditional is set once the server has answered a conditional
	// write with 501 NotImplemented: Put then checks with HeadObject.
	condMu        sync.Mutex
	noConditional bool

	// mu guards staging and emptyPacks.
	mu sync.Mutex
	// staging holds the prefixes (store keys) of this Store's open Txns:
	// their objects are hidden from List and Get until Commit.
	staging map[string]bool
	// emptyPacks holds prefixes committed without any object: nothing in
	// the bucket shows them, but Begin refuses them as it would a pack.
	emptyPacks map[string]bool
}

var (
	_ storage.Store    = (*Store)(nil)
	_ storage.Beginner = (*Store)(nil)
)

// ParseURL splits "s3://bucket/prefix" into a Config's Bucket and Prefix
// (the other fields are left zero). The prefix may be empty ("s3://bucket"
// or "s3://bucket/"); a trailing slash is dropped.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("s3: url %q: %w", raw, err)
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("s3: url %q: scheme must be s3://", raw)
	}
	if u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return Config{}, fmt.Errorf("s3: url %q: want s3://bucket/prefix, nothing else", raw)
	}
	prefix := strings.TrimPrefix(u.Path, "/")
	prefix = strings.TrimSuffix(prefix, "/")
	cfg := Config{Bucket: u.Host, Prefix: prefix}
	if err := checkBucket(cfg.Bucket); err != nil {
		return Config{}, fmt.Errorf("s3: url %q: %w", raw, err)
	}
	if prefix != "" {
		if err := storage.CleanKey(prefix); err != nil {
			return Config{}, fmt.Errorf("s3: url %q: prefix: %w", raw, err)
		}
	}
	return cfg, nil
}

// bucketName is S3's rule for general purpose buckets, loosely: 3-63
// lower-case letters, digits, dots and hyphens, starting and ending with a
// letter or digit.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

func checkBucket(b string) error {
	if !bucketName.MatchString(b) || strings.Contains(b, "..") {
		return fmt.Errorf("bucket name %q is not valid (3-63 lower-case letters, digits, '.' and '-')", b)
	}
	return nil
}

// New returns a store for cfg, after checking that the bucket can be
// reached and, with ObjectLockMode, that it has Object Lock enabled.
func New(ctx context.Context, cfg Config) (*Store, error) {
	s, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(cfg.HTTPClient))
	}
	if cfg.RetryMaxAttempts > 0 {
		opts = append(opts, awsconfig.WithRetryMaxAttempts(cfg.RetryMaxAttempts))
	}
	if cfg.Credentials != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(cfg.Credentials))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" && os.Getenv("AWS_ENDPOINT_URL_S3") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
			return nil, errors.New("s3: no AWS region: set the store's region, or AWS_REGION")
		}
		awsCfg.Region = "us-east-1" // S3-compatible servers mostly accept any
	}
	s.client = s3sdk.NewFromConfig(awsCfg, func(o *s3sdk.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		o.HTTPClient = sameOriginClient(o.HTTPClient)
		if o.Retryer != nil {
			o.Retryer = noRedirectRetries{o.Retryer}
		}
		// Every write carries our own SHA-256; the SDK adds no checksum of
		// its own (CRC32, aws-chunked trailers) where none is required.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		// GetObject of a multipart object cannot check its composite
		// checksum (callers re-hash what they read); no warning for it.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if err := s.checkBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// sameOriginClient is hc (the SDK's client, with its transport, CA bundle
// and timeout, or the caller's) following a redirect only within the origin
// (scheme, host, port) of the request that got it, and then only a 307 or
// 308, as the SDK's own client does. The SDK's client follows a 307 to any
// host: the object's bytes (the evidence) would go there, and Go keeps the
// signed Authorization header for another port of the same host.
func sameOriginClient(hc aws.HTTPClient) aws.HTTPClient {
	var c http.Client
	switch h := hc.(type) {
	case *awshttp.BuildableClient:
		c = http.Client{Transport: h.GetTransport(), Timeout: h.GetTimeout()}
	case *http.Client:
		c = *h
	default:
		return hc // not ours to rebuild; the SDK's own policy applies
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		from := via[0].URL
		if !strings.EqualFold(req.URL.Scheme, from.Scheme) || !strings.EqualFold(req.URL.Host, from.Host) {
			return &RedirectError{From: from.Scheme + "://" + from.Host, To: req.URL.Scheme + "://" + req.URL.Host}
		}
		if s := req.Response.StatusCode; (s != http.StatusTemporaryRedirect && s != http.StatusPermanentRedirect) || len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return redirectRefusingClient{&c}
}

// RedirectError is a redirect the store refused: it left the endpoint's
// origin (scheme, host and port). It is never retried.
type RedirectError struct {
	From, To string // origins only: a Location's path and query are the server's noise
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("s3: refusing a redirect from %s to %s: the endpoint must answer itself", e.From, e.To)
}

// redirectRefusingClient returns a refused redirect as the bare
// *RedirectError: Go's *url.Error around it quotes the whole Location,
// query included, and the response it comes with is already closed.
type redirectRefusingClient struct{ c *http.Client }

// A redirect Go does not follow (a PUT whose body it cannot re-read) comes
// back as the 3xx itself: one off the origin is reported the same way.
func (r redirectRefusingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.c.Do(req)
	if re := (*RedirectError)(nil); errors.As(err, &re) {
		return nil, re
	}
	if err == nil && resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
		if to, perr := resp.Request.URL.Parse(resp.Header.Get("Location")); perr == nil &&
			(!strings.EqualFold(to.Scheme, req.URL.Scheme) || !strings.EqualFold(to.Host, req.URL.Host)) {
			resp.Body.Close()
			return nil, &RedirectError{From: req.URL.Scheme + "://" + req.URL.Host, To: to.Scheme + "://" + to.Host}
		}
	}
	return resp, err
}

// noRedirectRetries is the SDK's retryer, except that a refused redirect is
// final: the SDK retries every failed send (RequestSendError), and another
// try would only be refused again.
type noRedirectRetries struct{ aws.Retryer }

func (r noRedirectRetries) IsErrorRetryable(err error) bool {
	if re := (*RedirectError)(nil); errors.As(err, &re) {
		return false
	}
	return r.Retryer.IsErrorRetryable(err)
}

func (r noRedirectRetries) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.GetInitialToken(), nil
}

// newStore checks cfg and fills in the defaults; the client is set by New.
func newStore(cfg Config) (*Store, error) {
	if err := checkBucket(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	s := &Store{
		bucket:     cfg.Bucket,
		partSize:   cfg.PartSize,
		threshold:  cfg.MultipartThreshold,
		conc:       cfg.Concurrency,
		kmsKeyID:   cfg.KMSKeyID,
		log:        cfg.Logger,
		staging:    map[string]bool{},
		emptyPacks: map[string]bool{},
	}
	if cfg.Prefix != "" {
		p := strings.TrimSuffix(cfg.Prefix, "/")
		if err := storage.CleanKey(p); err != nil {
			return nil, fmt.Errorf("s3: prefix: %w", err)
		}
		s.root = p + "/"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.partSize == 0 {
		s.partSize = DefaultPartSize
	}
	if s.partSize < MinPartSize || s.partSize > MaxPartSize {
		return nil, fmt.Errorf("s3: part size %d: must be between 5 MiB and 5 GiB", s.partSize)
	}
	if int64(int(s.partSize)) != s.partSize {
		return nil, fmt.Errorf("s3: part size %d: too large for this platform", s.partSize)
	}
	if s.threshold == 0 {
		s.threshold = s.partSize
	}
	if s.threshold < 0 || s.threshold > s.partSize {
		return nil, fmt.Errorf("s3: multipart threshold %d: must be between 1 and the part size (%d)", s.threshold, s.partSize)
	}
	if s.conc == 0 {
		s.conc = DefaultConcurrency
	}
	if s.conc < 1 || s.conc > 64 {
		return nil, fmt.Errorf("s3: concurrency %d: must be between 1 and 64", s.conc)
	}
	s.free = make(chan []byte, s.conc)
	switch cfg.SSE {
	case "":
	case string(types.ServerSideEncryptionAes256), string(types.ServerSideEncryptionAwsKms):
		s.sse = types.ServerSideEncryption(cfg.SSE)
	default:
		return nil, fmt.Errorf("s3: SSE %q: want \"\", \"AES256\" or \"aws:kms\"", cfg.SSE)
	}
	if cfg.KMSKeyID != "" && s.sse != types.ServerSideEncryptionAwsKms {
		return nil, errors.New("s3: a KMS key is set but SSE is not \"aws:kms\"")
	}
	switch cfg.ObjectLockMode {
	case "":
		if cfg.RetainDays != 0 {
			return nil, errors.New("s3: RetainDays is set but ObjectLockMode is not")
		}
	case string(types.ObjectLockModeGovernance), string(types.ObjectLockModeCompliance):
		if cfg.RetainDays <= 0 {
			return nil, fmt.Errorf("s3: object lock mode %s needs RetainDays > 0", cfg.ObjectLockMode)
		}
		s.lockMode = types.ObjectLockMode(cfg.ObjectLockMode)
		s.retain = time.Duration(cfg.RetainDays) * 24 * time.Hour
	default:
		return nil, fmt.Errorf("s3: object lock mode %q: want \"\", \"GOVERNANCE\" or \"COMPLIANCE\"", cfg.ObjectLockMode)
	}
	return s, nil
}

// checkBucket makes sure the bucket is there and, when objects are to be
// locked, that it has Object Lock enabled.
func (s *Store) checkBucket(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		switch httpStatus(err) {
		case http.StatusNotFound:
			return fmt.Errorf("s3: bucket %q does not exist: %w", s.bucket, err)
		case http.StatusForbidden:
			return fmt.Errorf("s3: bucket %q: access denied (check the credentials and the bucket policy): %w", s.bucket, err)
		}
		return fmt.Errorf("s3: bucket %q: %w", s.bucket, err)
	}
	if s.lockMode == "" {
		return nil
	}
	out, err := s.client.GetObjectLockConfiguration(ctx, &s3sdk.GetObjectLockConfigurationInput{Bucket: &s.bucket})
	enabled := err == nil && out.ObjectLockConfiguration != nil &&
		out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled
	if err != nil && apiCode(err) != "ObjectLockConfigurationNotFoundError" {
		return fmt.Errorf("s3: bucket %q: read its Object Lock configuration: %w", s.bucket, err)
	}
	if !enabled {
		return fmt.Errorf("s3: bucket %q does not have Object Lock enabled, so objects cannot be written with mode %s: "+
			"create the bucket with Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket), "+
			"enable it on the versioned bucket (aws s3api put-object-lock-configuration), or do not ask for Object Lock",
			s.bucket, s.lockMode)
	}
	return nil
}

// Client is the SDK client the store uses (for tests and tools).
func (s *Store) Client() *s3sdk.Client { return s.client }

// Bucket is the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// ObjectName is the S3 object name of key (Config.Prefix + "/" + key).
func (s *Store) ObjectName(key string) string { return s.root + key }

// hidden reports whether key (a store key) lies in a pack being staged by
// one of this Store's open Txns.
func (s *Store) hidden(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.staging {
		if strings.HasPrefix(key, p+"/") {
			return true
		}
	}
	return false
}

// Put stores r under key; see the package documentation.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, o storage.PutOptions) (storage.Object, error) {
	if err := storage.CleanKey(key); err != nil {
		return storage.Object{}, fmt.Errorf("s3: put: %w", err)
	}
	if s.hidden(key) {
		return storage.Object{}, fmt.Errorf("s3: put %s: inside a pack being written: %w", key, storage.ErrExist)
	}
	obj, err := s.put(ctx, s.root+key, r, o)
	if err != nil {
		return storage.Object{}, fmt.Errorf("s3: put %s: %w", key, err)
	}
	obj.Key = key
	return obj, nil
}

// Get opens key; the caller closes the reader.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CleanKey(key); err != nil {
		return nil, fmt.Errorf("s3: get: %w", err)
	}
	if s.hidden(key) {
		return nil, fmt.Errorf("s3: get %s: %w", key, storage.ErrNotExist)
	}
	rc, err := s.get(ctx, s.root+key)
	if err != nil {
		return nil, fmt.Errorf("s3: get %s: %w", key, err)
	}
	return rc, nil
}

func (s *Store) get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: &s.bucket, Key: &name})
	if err != nil {
		if notFound(err) {
			return nil, storage.ErrNotExist
		}
		return nil, err
	}
	return out.Body, nil
}

// List calls fn for every object whose key starts with prefix, in key order
// (S3 lists in byte order of the names). An error from fn stops it and is
// returned as is.
func (s *Store) List(ctx context.Context, prefix string, fn func(storage.Object) error) error {
	return s.list(ctx, prefix, func(key string, size int64) error {
		if s.hidden(key) {
			return nil
		}
		return fn(storage.Object{Key: key, Size: size})
	})
}

// list lists the store keys starting with prefix (a store key prefix).
func (s *Store) list(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	full := s.root + prefix
	p := s3sdk.NewListObjectsV2Paginator(s.client, &s3sdk.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &full})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3: list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			name := aws.ToString(o.Key)
			key, ok := strings.CutPrefix(name, s.root)
			if !ok || storage.CleanKey(key) != nil {
				s.log.Debug("s3: list: skipping an object whose name is not a store key", "bucket", s.bucket, "object", name)
				continue
			}
			if err := fn(key, aws.ToInt64(o.Size)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes key; a missing key is not an error. In a versioned bucket
// (Object Lock) this adds a delete marker.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := storage.CleanKey(key); err != nil {
		return fmt.Errorf("s3: delete: %w", err)
	}
	if s.hidden(key) {
		return nil // does not exist for this store until its pack is committed
	}
	if err := s.delete(ctx, s.root+key); err != nil {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	return nil
}

func (s *Store) delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: &s.bucket, Key: &name})
	if err != nil && notFound(err) {
		return nil
	}
	return err
}

// exists reports whether the object name exists, and its metadata.
func (s *Store) exists(ctx context.Context, name string) (bool, map[string]string, error) {
	out, err := s.client.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: &s.bucket, Key: &name})
	if err != nil {
		if notFound(err) {
			return false, nil, nil
		}
		return false, nil, err
	}
	return true, out.Metadata, nil
}

// apiCode is the S3 error code of err ("NoSuchKey"), or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus is the HTTP status of the response behind err, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// notFound reports whether err says that an object does not exist (and not
// that the bucket does not).
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	switch apiCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "NoSuchBucket":
		return false
	}
	return httpStatus(err) == http.StatusNotFound
}
