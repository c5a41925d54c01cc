// Package httpstore is a teamcache.Backend on an HTTP server, as ccache's
// http storage and Bazel's HTTP caches (remote_storage
// "http://host:port/path|layout=subdirs"): an entry is a GET of its URL
// (200 found, 404 a miss, any other status an error) and a PUT of its
// bytes (200, 201 or 204). Any server that stores what is PUT and serves
// it back works: nginx or Apache with WebDAV PUT, bazel-remote, any
// WebDAV server.
//
// Timeouts: connect-timeout bounds dialing (default 100 ms) and
// operation-timeout one request with its body (default 10 s), ccache's
// defaults; the caller's context bounds it further. Connections are kept
// alive and reused, per Store. A GET body longer than MaxEntrySize is an
// error.
//
// Layouts (teamcache.Spec.Layout): "subdirs", the default as in ccache,
// stores KEY under URL/KEY[:2]/KEY[2:]; "flat" under URL/KEY; "bazel"
// under URL/ac/KEY, Bazel's action cache, whose keys are 64 hex digits
// as ours are. bazel-remote checks that what is PUT under /ac/ is an
// ActionResult protobuf, which an entry is not: run it with
// --disable_http_ac_validation. (Its /cas/ is no place either: it wants
// the key to be the SHA-256 of the content.)
//
// Credentials: "user:password@" in the URL is basic authentication; a
// bearer-token attribute is sent as "Authorization: Bearer TOKEN"; not
// both. Neither appears in an error. Proxies from the environment are not
// used (ccache's http storage does not either).
package httpstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dcc-build/dcc/teamcache"
)

// Defaults of teamcache.Spec's timeouts, ccache's.
const (
	// DefaultConnectTimeout bounds dialing a server.
	DefaultConnectTimeout = 100 * time.Millisecond
	// DefaultOperationTimeout bounds one request, its body included.
	DefaultOperationTimeout = 10 * time.Second
)

// MaxEntrySize is the largest entry read or written: a GET whose body is
// longer is an error (a broken server does not exhaust the memory).
const MaxEntrySize = 1 << 30

// Store is the entries on one HTTP server.
type Store struct {
	base      *url.URL // without credentials
	layout    string
	auth      string // the Authorization header, or ""
	opTimeout time.Duration
	timedOut  error // the cause of a request's end at opTimeout
	maxEntry  int64
	transport *http.Transport
	client    *http.Client
}

var _ teamcache.Backend = (*Store)(nil)

// New returns the store spec names: an http or https URL of one server
// (a sharded spec's host "*" is replaced before). It connects to nothing.
func New(spec teamcache.Spec) (*Store, error) {
	if spec.URL == nil {
		return nil, errors.New("http storage: no URL")
	}
	u := *spec.URL
	name := u.Redacted()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("http storage %s: scheme %q, want http or https", name, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("http storage %s: no host", name)
	case strings.Contains(u.Host, "*"):
		return nil, fmt.Errorf("http storage %s: host %q is a shard pattern, not a server", name, u.Host)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("http storage %s: a query or fragment has no meaning here", name)
	case u.User != nil && spec.BearerToken != "":
		return nil, fmt.Errorf("http storage %s: both credentials in the URL and a bearer token", name)
	}
	layout := spec.Layout
	if layout == "" {
		layout = LayoutSubdirs
	}
	if _, err := relPath(layout, strings.Repeat("0", 64)); err != nil {
		return nil, fmt.Errorf("http storage %s: %w", name, err)
	}
	s := &Store{layout: layout, opTimeout: spec.OperationTimeout, maxEntry: MaxEntrySize}
	if s.opTimeout <= 0 {
		s.opTimeout = DefaultOperationTimeout
	}
	s.timedOut = fmt.Errorf("operation timeout (%v)", s.opTimeout)
	switch {
	case u.User != nil:
		password, _ := u.User.Password()
		s.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+password))
	case spec.BearerToken != "":
		s.auth = "Bearer " + spec.BearerToken
	}
	u.User = nil
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	s.base = &u

	connect := spec.ConnectTimeout
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	s.transport = &http.Transport{
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: s.opTimeout,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     60 * time.Second,
		DisableCompression:  true, // entries are compressed already
	}
	s.client = &http.Client{
		Transport: s.transport,
		// A redirect is an error naming it, not a request elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s, nil
}

// Close closes the idle connections; the store stays usable.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// Get implements teamcache.Backend.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, s.opTimeout, s.timedOut)
	defer cancel()
	req, err := s.request(ctx, http.MethodGet, key, nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, false, s.failed(ctx, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		drain(resp.Body)
		return nil, false, nil
	default:
		return nil, false, statusError(req, resp)
	}
	if resp.ContentLength > s.maxEntry {
		return nil, false, fmt.Errorf("http storage: GET %s: %d bytes, more than the %d an entry may have", req.URL, resp.ContentLength, s.maxEntry)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, s.maxEntry+1))
	if err != nil {
		return nil, false, s.failed(ctx, fmt.Errorf("GET %s: reading the body: %w", req.URL, err))
	}
	if n > s.maxEntry {
		return nil, false, fmt.Errorf("http storage: GET %s: more than the %d bytes an entry may have", req.URL, s.maxEntry)
	}
	return buf.Bytes(), true, nil
}

// Put implements teamcache.Backend. The request is marked idempotent, so
// that the transport sends it again on a fresh connection when the server
// had closed the idle one it was sent on.
func (s *Store) Put(ctx context.Context, key string, entry []byte) error {
	if int64(len(entry)) > s.maxEntry {
		return fmt.Errorf("http storage: entry of %d bytes, more than the %d an entry may have", len(entry), s.maxEntry)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, s.opTimeout, s.timedOut)
	defer cancel()
	req, err := s.request(ctx, http.MethodPut, key, entry)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header["Idempotency-Key"] = nil // treated as idempotent, not sent
	resp, err := s.client.Do(req)
	if err != nil {
		return s.failed(ctx, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusNoContent:
		drain(resp.Body)
		return nil
	}
	return statusError(req, resp)
}

// request returns the request of method on key's URL, with a body of
// entry's length (Content-Length) for a PUT.
func (s *Store) request(ctx context.Context, method, key string, entry []byte) (*http.Request, error) {
	rel, err := relPath(s.layout, key)
	if err != nil {
		return nil, fmt.Errorf("http storage: %w", err)
	}
	var body io.Reader
	if method == http.MethodPut {
		body = bytes.NewReader(entry)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base.JoinPath(rel...).String(), body)
	if err != nil {
		return nil, fmt.Errorf("http storage: %w", err)
	}
	if s.auth != "" {
		req.Header.Set("Authorization", s.auth)
	}
	return req, nil
}

// failed wraps the error of a request, naming the operation timeout
// when that ended it.
func (s *Store) failed(ctx context.Context, err error) error {
	if context.Cause(ctx) == s.timedOut && !errors.Is(err, s.timedOut) {
		return fmt.Errorf("http storage: %w: %w", s.timedOut, err)
	}
	return fmt.Errorf("http storage: %w", err)
}

// statusError is the error of an unexpected status, naming it (and where
// a redirect points).
func statusError(req *http.Request, resp *http.Response) error {
	drain(resp.Body)
	msg := fmt.Sprintf("http storage: %s %s: %s", req.Method, req.URL, resp.Status)
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		msg += " to " + loc
	}
	return errors.New(msg)
}

// drain reads a little of what is left of a body, so that its
// connection can be reused.
func drain(body io.Reader) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
}
