// Package s3store is a teamcache.Backend in an S3 bucket: Amazon S3 or any
// S3-compatible server (MinIO, SeaweedFS, Ceph, R2, ...), configured the
// way ccache's remote_storage names a storage:
//
//	s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&path-style=BOOL]|connect-timeout=MS|operation-timeout=MS
//
// The bucket must exist. Each entry is one object named PREFIX/KEY (KEY
// alone without a prefix), written with a single PUT, so that readers see
// the old object or the new one whole. The query parameters:
//
//   - endpoint: the server, http://HOST[:PORT] or https://HOST[:PORT];
//     default https://s3.amazonaws.com.
//   - region: the bucket's region; default $AWS_REGION, then
//     $AWS_DEFAULT_REGION, else it is asked of the server once.
//   - path-style: true names the bucket in the path
//     (http://HOST/BUCKET/KEY), as most self-hosted servers want; false in
//     the host name (http://BUCKET.HOST/KEY); default: path style except
//     on Amazon S3.
//
// Credentials never go in the URL. They come, as for the AWS tools and
// sccache, from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, else from the shared credentials and config files
// (~/.aws/credentials and ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE
// and AWS_CONFIG_FILE; profile AWS_PROFILE). With none, requests are
// anonymous, for a public bucket.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dcc-build/dcc/teamcache"
)

// Defaults of the specification's timeouts, those of ccache's remote
// storages.
const (
	// DefaultConnectTimeout bounds the opening of a TCP connection.
	DefaultConnectTimeout = 100 * time.Millisecond
	// DefaultOperationTimeout bounds one Get or Put, body included.
	DefaultOperationTimeout = 10 * time.Second
)

// Store is a bucket of entries. It is safe for concurrent use.
type Store struct {
	client    *minio.Client
	transport *http.Transport
	bucket    string
	prefix    string
	timeout   time.Duration
	// name names the store in errors: s3://BUCKET[/PREFIX].
	name string
}

// New returns the store spec names (an s3:// specification). It makes no
// request: a bucket that is missing or refuses the credentials shows in
// the errors of Get and Put.
func New(spec teamcache.Spec) (*Store, error) {
	c, err := parseConfig(spec)
	if err != nil {
		// spec.Raw may hold a secret someone put there: name the bucket only.
		name := "s3 storage"
		if spec.URL != nil && spec.URL.Scheme == "s3" {
			name += " " + spec.URL.Hostname()
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &Store{
		bucket:  c.bucket,
		prefix:  c.prefix,
		timeout: spec.OperationTimeout,
		name:    "s3://" + strings.TrimSuffix(c.bucket+"/"+c.prefix, "/"),
	}
	if s.timeout <= 0 {
		s.timeout = DefaultOperationTimeout
	}
	connect := spec.ConnectTimeout
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	s.transport, err = minio.DefaultTransport(c.secure)
	if err != nil {
		return nil, fmt.Errorf("s3 storage %s: %w", s.name, err)
	}
	s.transport.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	s.client, err = minio.New(c.host, &minio.Options{
		Creds: credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
		}),
		Secure:       c.secure,
		Transport:    s.transport,
		Region:       c.region,
		BucketLookup: c.lookup,
		// A failed request is not retried: the cache's front skips a
		// failing storage for a while, and the compile goes on without it.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 storage %s: %w", s.name, err)
	}
	return s, nil
}

// ObjectName returns the name of key's object under prefix: PREFIX/KEY, or
// KEY when prefix is empty. Tools and tests that write a bucket directly
// use it to name entries as a Store does.
func ObjectName(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "/" + key
}

// object returns key's object name, refusing a key that is not lowercase hex.
func (s *Store) object(key string) (string, error) {
	if key == "" || strings.Trim(key, "0123456789abcdef") != "" {
		return "", fmt.Errorf("s3 storage %s: key %q is not a hex digest", s.name, key)
	}
	return ObjectName(s.prefix, key), nil
}

// Get implements teamcache.Backend. A missing object is a miss; any other
// failure, a missing bucket or refused credentials included, is an error.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, false, s.fail("get", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		var resp minio.ErrorResponse
		if errors.As(err, &resp) && resp.Code == minio.NoSuchKey {
			return nil, false, nil
		}
		return nil, false, s.fail("get", key, err)
	}
	return b, true, nil
}

// Put implements teamcache.Backend.
func (s *Store) Put(ctx context.Context, key string, entry []byte) error {
	name, err := s.object(key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err = s.client.PutObject(ctx, s.bucket, name, bytes.NewReader(entry), int64(len(entry)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	if err != nil {
		return s.fail("put", key, err)
	}
	return nil
}

// Close releases the store's idle connections.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// fail describes a failed request on one line.
func (s *Store) fail(op, key string, err error) error {
	return fmt.Errorf("s3 storage %s: %s %s: %w", s.name, op, key, oneLineError{err})
}

// oneLineError is an error whose message is made one line of bounded
// length (a server's error can be a whole HTML page), with the S3 error
// code where the message lacks it.
type oneLineError struct{ err error }

// maxMessage bounds an error's message.
const maxMessage = 300

// Error implements error.
func (e oneLineError) Error() string {
	msg := e.err.Error()
	var resp minio.ErrorResponse
	if errors.As(e.err, &resp) && resp.Code != "" && !strings.Contains(msg, resp.Code) {
		msg = resp.Code + ": " + msg
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxMessage {
		n := maxMessage
		for n > 0 && !utf8.RuneStart(msg[n]) {
			n--
		}
		msg = msg[:n] + "..."
	}
	return msg
}

// Unwrap returns the error described.
func (e oneLineError) Unwrap() error { return e.err }
