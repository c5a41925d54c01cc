// Package redisstore is a teamcache.Backend on a Redis server (or any
// server that speaks its protocol), named as ccache's remote_storage names
// it: "redis://[[USER:]PASSWORD@]HOST[:PORT][/DB]" (port 6379 and database
// 0 by default; "?db=N" is also accepted) or "redis+unix:/path/to/socket"
// ("redis+unix:///path" and "?db=N" too). As in ccache, a user part with
// no colon is the password.
//
// Each entry is one string value under KeyPrefix + key, written with SET
// and no expiry: the server's maxmemory policy evicts, as ccache's guide
// sets it up (maxmemory-policy allkeys-lru). SET replaces a value whole, so
// readers never see part of an entry.
package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/dcc-build/dcc/teamcache"
)

const (
	// KeyPrefix is put before every key: the entry of key is the value of
	// "dcc:"+key, apart from ccache's "ccache:" keys on a shared server.
	KeyPrefix = "dcc:"
	// DefaultPort is the port of a URL that names none.
	DefaultPort = 6379
	// DefaultConnectTimeout bounds a connection (and its handshake) when
	// the spec has no connect-timeout: ccache's default.
	DefaultConnectTimeout = 100 * time.Millisecond
	// DefaultOperationTimeout bounds each read and write of a command when
	// the spec has no operation-timeout: ccache's default, generous enough
	// for entries of tens of MB. The caller's context may bound it more.
	DefaultOperationTimeout = 10 * time.Second
	// poolSize bounds the connections a Store keeps open.
	poolSize = 4
)

// Store is one Redis server. It is safe for concurrent use.
type Store struct {
	client *redis.Client
	// name is the URL without its user part, for messages.
	name string
	// budget bounds a whole Get or Put: connection and command.
	budget time.Duration
}

// quietOnce routes go-redis's own log lines to slog once.
var quietOnce sync.Once

// New returns the store spec names. It checks the URL but connects to
// nothing: connections are made by the first requests. Each Get or Put
// is one attempt that takes at most the connect timeout plus the
// operation timeout (a refused connection fails at once), and less if ctx
// says so.
//
// New routes go-redis's log lines, for the whole process, to slog at debug
// level: by default they go to stderr, in the middle of a compiler's output.
func New(spec teamcache.Spec) (*Store, error) {
	if spec.URL == nil {
		return nil, errors.New("redis storage: no URL")
	}
	name := describe(spec.URL)
	opts, err := options(spec.URL)
	if err != nil {
		return nil, fmt.Errorf("redis storage %s: %w", name, err)
	}
	connect := cmp.Or(spec.ConnectTimeout, DefaultConnectTimeout)
	operation := cmp.Or(spec.OperationTimeout, DefaultOperationTimeout)
	opts.DialTimeout = connect
	opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = operation, operation, operation
	opts.ContextTimeoutEnabled = true
	// One attempt: the pool checks an idle connection before using it,
	// and a server that failed once is not asked again at once.
	opts.MaxRetries, opts.DialerRetries = -1, 1
	opts.PoolSize, opts.MaxIdleConns = poolSize, poolSize
	opts.Protocol = 2 // plain replies; no push frames to handle
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	quietOnce.Do(func() { redis.SetLogger(slogLogger{}) })
	return &Store{client: redis.NewClient(opts), name: name, budget: connect + operation}, nil
}

// options reads the address, credentials and database of u.
func options(u *url.URL) (*redis.Options, error) {
	o := &redis.Options{}
	o.Username, o.Password = credentials(u.User)
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("bad query %q: %w", u.RawQuery, err)
	}
	for k := range query {
		if k != "db" {
			return nil, fmt.Errorf("unknown query parameter %q: only db is allowed", k)
		}
	}
	if len(query["db"]) > 1 {
		return nil, errors.New("db is given more than once")
	}
	db := query.Get("db")
	switch u.Scheme {
	case "redis":
		if u.Hostname() == "" {
			return nil, errors.New("no host")
		}
		port := cmp.Or(u.Port(), strconv.Itoa(DefaultPort))
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
		o.Network, o.Addr = "tcp", net.JoinHostPort(u.Hostname(), port)
		if p := strings.TrimPrefix(u.Path, "/"); p != "" {
			if db != "" {
				return nil, errors.New("db is given twice, in the path and in the query")
			}
			db = p
		}
	case "redis+unix":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("host %q: a unix socket is on this machine (redis+unix:/path)", u.Host)
		}
		if !path.IsAbs(u.Path) {
			return nil, errors.New("want the absolute path of a unix socket (redis+unix:/path)")
		}
		o.Network, o.Addr = "unix", u.Path
	default:
		return nil, fmt.Errorf("scheme %q is not redis or redis+unix", u.Scheme)
	}
	if db != "" {
		n, err := strconv.ParseUint(db, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("db %q is not a database number (0, 1, ...)", db)
		}
		o.DB = int(n)
	}
	return o, nil
}

// credentials returns the user and password of a URL's user part; as in
// ccache, a user part without a colon is a password.
func credentials(ui *url.Userinfo) (user, password string) {
	if ui == nil {
		return "", ""
	}
	if pw, ok := ui.Password(); ok {
		return ui.Username(), pw
	}
	return "", ui.Username()
}

// describe returns u without its user part, which may hold a password.
func describe(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// Get implements teamcache.Backend.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, s.fail("get", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.budget)
	defer cancel()
	entry, err := s.client.Get(ctx, KeyPrefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.fail("get", err)
	}
	return entry, true, nil
}

// Put implements teamcache.Backend.
func (s *Store) Put(ctx context.Context, key string, entry []byte) error {
	if err := ctx.Err(); err != nil {
		return s.fail("put", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.budget)
	defer cancel()
	if err := s.client.Set(ctx, KeyPrefix+key, entry, 0).Err(); err != nil {
		return s.fail("put", err)
	}
	return nil
}

// Close closes the store's connections.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redis storage %s: close: %w", s.name, err)
	}
	return nil
}

// fail wraps err with the store and the operation; a network timeout also
// matches context.DeadlineExceeded, so that callers count it as a timeout.
func (s *Store) fail(op string, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("redis storage %s: %s: %w (%w)", s.name, op, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("redis storage %s: %s: %w", s.name, op, err)
}

// slogLogger passes go-redis's log lines to slog at debug level.
type slogLogger struct{}

// Printf implements go-redis's logger.
func (slogLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
