//lint:file-ignore SA1019 feature/s3/manager's Uploader is deprecated in favour of feature/s3/transfermanager, which is still v0 (its API may change); the Uploader is maintained and does what Put needs (streaming multipart upload of an unseekable reader, abort on error).

package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Config addresses an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // e.g. https://s3.example.org; empty for AWS itself
	Region    string
	Bucket    string
	AccessKey string // empty: the SDK's default credential chain
	SecretKey string
	PathStyle bool // bucket in the path rather than the host name
	// Prefix is prepended to every key (e.g. "casebridge/"); may be empty.
	Prefix string
	// PartSize of multipart uploads (default 8 MiB, at least 5 MiB) and
	// Concurrency (parts in flight, default 2). Memory used per upload is
	// about PartSize × (Concurrency+1).
	PartSize    int64
	Concurrency int
}

const (
	defaultPartSize    = 8 << 20
	defaultConcurrency = 2
	// maxCopySize is the largest object a single CopyObject may copy.
	maxCopySize = 5 << 30
	// copyPartSize is the part size of a multipart copy.
	copyPartSize = 1 << 30
)

// S3 stores objects in an S3-compatible bucket:
//
//	<prefix>sha256/<hash>   objects
//	<prefix>tmp/<random>    uploads in progress
//
// S3 gives no rename, so Put streams the bytes (multipart for anything larger
// than one part) to a temporary key while hashing, then copies that object
// server-side to its content address and deletes the temporary key. An S3
// object becomes visible only when its PutObject, CompleteMultipartUpload or
// CopyObject succeeds, so a partially written object never appears at a
// content address, and a successful write is durable by S3's contract.
type S3 struct {
	client      *s3.Client
	bucket      string
	prefix      string
	partSize    int64
	concurrency int
	// copy limits, variables so tests can exercise the multipart copy.
	maxCopy  int64
	copyPart int64
}

var _ Store = (*S3)(nil)

// NewS3 builds a store for the bucket in cfg. It does not contact the
// server; use Ping for that.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("open s3 blob store: no bucket given")
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, errors.New("open s3 blob store: access key and secret key go together")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if cfg.AccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open s3 blob store: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Reads of ranges carry no checksum to validate; that is expected,
		// not worth a log line per request.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	s := &S3{
		client:      client,
		bucket:      cfg.Bucket,
		prefix:      cfg.Prefix,
		partSize:    cfg.PartSize,
		concurrency: cfg.Concurrency,
		maxCopy:     maxCopySize,
		copyPart:    copyPartSize,
	}
	if s.partSize == 0 {
		s.partSize = defaultPartSize
	}
	if s.partSize < manager.MinUploadPartSize {
		return nil, fmt.Errorf("open s3 blob store: part size %d below the S3 minimum %d", s.partSize, manager.MinUploadPartSize)
	}
	if s.concurrency <= 0 {
		s.concurrency = defaultConcurrency
	}
	return s, nil
}

// Ping checks that the bucket exists and the credentials work.
func (s *S3) Ping(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return fmt.Errorf("reach s3 bucket %s: %w", s.bucket, err)
	}
	return nil
}

// Client exposes the S3 client (for tests and tooling).
func (s *S3) Client() *s3.Client { return s.client }

func (s *S3) key(sha string) string   { return s.prefix + "sha256/" + sha }
func (s *S3) objectPrefix() string    { return s.prefix + "sha256/" }
func (s *S3) tmpPrefix() string       { return s.prefix + "tmp/" }
func (s *S3) shaOf(key string) string { return strings.TrimPrefix(key, s.objectPrefix()) }

// Put implements Store.
func (s *S3) Put(ctx context.Context, r io.Reader, limit int64) (Info, error) {
	r, err := nonEmpty(r)
	if err != nil {
		return Info{}, fmt.Errorf("put blob: %w", err)
	}
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	tmpKey := s.tmpPrefix() + hex.EncodeToString(rnd[:])

	hr := newHashingReader(ctx, r, limit)
	up := manager.NewUploader(s.client, func(u *manager.Uploader) {
		u.PartSize = s.partSize
		u.Concurrency = s.concurrency
		// On failure the uploader aborts the multipart upload, so no parts
		// linger (CleanTemp catches those of a crashed process).
		u.LeavePartsOnError = false
	})
	_, err = up.Upload(ctx, &s3.PutObjectInput{
		Bucket:      &s.bucket,
		Key:         &tmpKey,
		Body:        hr,
		ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		if hr.exceeded {
			return Info{}, fmt.Errorf("put blob: more than %d bytes: %w", limit, ErrTooLarge)
		}
		return Info{}, fmt.Errorf("put blob: upload: %w", err)
	}
	// The temporary object is complete; whatever happens next, drop it.
	defer func() {
		// A fresh context: the request's may be cancelled already.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &tmpKey})
	}()

	inf := Info{SHA256: hr.sum(), Size: hr.n}
	if got, err := s.Stat(ctx, inf.SHA256); err == nil && got.Size == inf.Size {
		// Equal content is stored already: keep one object.
		return got, nil
	}
	if err := s.copy(ctx, tmpKey, s.key(inf.SHA256), inf.Size); err != nil {
		return Info{}, fmt.Errorf("put blob %s: %w", inf.SHA256, err)
	}
	got, err := s.Stat(ctx, inf.SHA256)
	if err != nil {
		return Info{}, fmt.Errorf("put blob %s: %w", inf.SHA256, err)
	}
	if got.Size != inf.Size {
		return Info{}, fmt.Errorf("put blob %s: stored %d bytes of %d: %w", inf.SHA256, got.Size, inf.Size, ErrCorrupt)
	}
	return got, nil
}

// copy copies src to dst server-side: one CopyObject up to 5 GiB, beyond
// that a multipart copy (S3 refuses larger single copies).
func (s *S3) copy(ctx context.Context, src, dst string, size int64) error {
	source := s.bucket + "/" + src
	if size <= s.maxCopy {
		if _, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket:     &s.bucket,
			Key:        &dst,
			CopySource: &source,
		}); err != nil {
			return fmt.Errorf("copy to content address: %w", err)
		}
		return nil
	}
	mp, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:      &s.bucket,
		Key:         &dst,
		ContentType: aws.String("application/octet-stream"),
	})
	if err != nil {
		return fmt.Errorf("copy to content address: start: %w", err)
	}
	abort := func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: &s.bucket, Key: &dst, UploadId: mp.UploadId,
		})
	}
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < size; off, num = off+s.copyPart, num+1 {
		end := min(off+s.copyPart, size) - 1
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket:          &s.bucket,
			Key:             &dst,
			UploadId:        mp.UploadId,
			PartNumber:      aws.Int32(num),
			CopySource:      &source,
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		})
		if err != nil {
			abort()
			return fmt.Errorf("copy to content address: part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(num)})
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             &dst,
		UploadId:        mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		abort()
		return fmt.Errorf("copy to content address: complete: %w", err)
	}
	return nil
}

// isNotFound reports whether err is S3's answer for a missing key.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		var ae smithy.APIError
		// A 404 for a missing bucket is a configuration error, not a
		// missing object.
		return !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket"
	}
	return false
}

// Unreachable reports whether err is an S3 request that failed because the
// server could not be reached (refused or cut connections, a network error)
// or answered with a server error (5xx): the store is unavailable for now,
// as opposed to refusing the request.
func Unreachable(err error) bool {
	var oe *smithy.OperationError
	if !errors.As(err, &oe) {
		return false
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 { // 0: no answer came
		return re.HTTPStatusCode() >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// Open implements Store. The reader fetches bytes with ranged GetObject
// requests from wherever it was last positioned, so seeking is free and a
// range read transfers only what is read (plus what is in flight when the
// reader is closed or moved).
func (s *S3) Open(ctx context.Context, sha string) (io.ReadSeekCloser, int64, error) {
	inf, err := s.Stat(ctx, sha)
	if err != nil {
		return nil, 0, fmt.Errorf("open blob: %w", err)
	}
	return &s3Reader{ctx: ctx, s: s, key: s.key(sha), size: inf.Size}, inf.Size, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, sha string) (Info, error) {
	if err := checkHash("stat", sha); err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(sha))})
	if err != nil {
		if isNotFound(err) {
			return Info{}, fmt.Errorf("stat blob %s: %w", sha, ErrNotFound)
		}
		return Info{}, fmt.Errorf("stat blob %s: %w", sha, err)
	}
	return Info{SHA256: sha, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// Walk implements Store.
func (s *S3) Walk(ctx context.Context, fn func(Info) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket,
		Prefix: aws.String(s.objectPrefix()),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
		for _, o := range page.Contents {
			sha := s.shaOf(aws.ToString(o.Key))
			if !ValidHash(sha) {
				continue
			}
			if err := fn(Info{SHA256: sha, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove implements Store.
func (s *S3) Remove(ctx context.Context, sha string) error {
	if _, err := s.Stat(ctx, sha); err != nil {
		return fmt.Errorf("remove blob: %w", err)
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(sha))}); err != nil {
		return fmt.Errorf("remove blob %s: %w", sha, err)
	}
	return nil
}

// CleanTemp implements Store: it deletes temporary objects and aborts
// multipart uploads (to temporary keys, or copies to content addresses)
// started before the cutoff.
func (s *S3) CleanTemp(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket,
		Prefix: aws.String(s.tmpPrefix()),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return removed, fmt.Errorf("clean blob temp: %w", err)
		}
		for _, o := range page.Contents {
			if !aws.ToTime(o.LastModified).Before(before) {
				continue
			}
			if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: o.Key}); err != nil {
				return removed, fmt.Errorf("clean blob temp: %w", err)
			}
			removed++
		}
	}
	for _, prefix := range []string{s.tmpPrefix(), s.objectPrefix()} {
		in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(prefix)}
		for {
			out, err := s.client.ListMultipartUploads(ctx, in)
			if err != nil {
				return removed, fmt.Errorf("clean blob temp: list uploads: %w", err)
			}
			for _, u := range out.Uploads {
				if !aws.ToTime(u.Initiated).Before(before) {
					continue
				}
				if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
					Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId,
				}); err != nil && !isNotFound(err) {
					return removed, fmt.Errorf("clean blob temp: abort upload: %w", err)
				}
				removed++
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
		}
	}
	return removed, nil
}

// s3Reader reads an object lazily with ranged GetObject requests.
type s3Reader struct {
	ctx  context.Context
	s    *S3
	key  string
	size int64
	pos  int64
	body io.ReadCloser
}

func (r *s3Reader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		out, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{
			Bucket: &r.s.bucket,
			Key:    &r.key,
			Range:  aws.String(fmt.Sprintf("bytes=%d-", r.pos)),
		})
		if err != nil {
			if isNotFound(err) {
				return 0, fmt.Errorf("read blob %s: %w", r.key, ErrNotFound)
			}
			return 0, fmt.Errorf("read blob %s: %w", r.key, err)
		}
		r.body = out.Body
	}
	n, err := r.body.Read(p)
	r.pos += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && strings.Contains(err.Error(), "checksum did not match") {
		// The SDK checked the server's stored checksum of the object (full
		// reads only) and found the bytes differ. Its error type is not
		// exported, hence the match on the message.
		_ = r.body.Close()
		r.body = nil
		return n, fmt.Errorf("read blob %s: %w: %w", r.key, ErrCorrupt, err)
	}
	if errors.Is(err, io.EOF) {
		_ = r.body.Close()
		r.body = nil
		if r.pos < r.size {
			return n, fmt.Errorf("read blob %s: ended at %d of %d bytes: %w", r.key, r.pos, r.size, io.ErrUnexpectedEOF)
		}
		err = nil
		if n == 0 {
			err = io.EOF
		}
	}
	return n, err
}

func (r *s3Reader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, errors.New("seek blob: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("seek blob: negative position")
	}
	if abs != r.pos && r.body != nil {
		_ = r.body.Close()
		r.body = nil
	}
	r.pos = abs
	return abs, nil
}

func (r *s3Reader) Close() error {
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}
