// Package storages opens the storages remote_storage names, each with the
// backend package of its scheme, and spreads a storage with shards over its
// servers.
package storages

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/filestore"
	"github.com/dcc-build/dcc/teamcache/httpstore"
	"github.com/dcc-build/dcc/teamcache/redisstore"
	"github.com/dcc-build/dcc/teamcache/s3store"
)

// DefaultOperationTimeout bounds one request on a storage whose
// specification gives no operation-timeout: a lookup never delays a
// compile by more (connecting has its own, shorter, bound in each backend).
const DefaultOperationTimeout = time.Second

// Options are what opening storages needs besides their specifications.
type Options struct {
	// Hosts are the configured compile hosts: a dcc:// storage must be one
	// of them (its token and fingerprint come from there).
	Hosts []config.Host
	// Logger receives the dcc:// storages' connection log.
	Logger *slog.Logger
}

// Opened are the storages of remote_storage, ready for a teamcache.Front.
type Opened struct {
	// Backends are the storages in the order written.
	Backends []teamcache.Named
	closers  []io.Closer
}

// Close closes every storage's connections.
func (o *Opened) Close() error {
	var errs []error
	for _, c := range o.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Open opens each storage of specs. An error names the storage; nothing is
// left open then.
func Open(specs []teamcache.Spec, opts Options) (*Opened, error) {
	o := &Opened{}
	for _, spec := range specs {
		b, err := o.open(spec, opts)
		if err != nil {
			o.Close()
			return nil, fmt.Errorf("remote_storage %s: %w", teamcache.RedactSpecs(spec.Raw), err)
		}
		timeout := spec.OperationTimeout
		if timeout <= 0 {
			timeout = DefaultOperationTimeout
		}
		name, _, _ := strings.Cut(teamcache.RedactSpecs(spec.Raw), "|")
		o.Backends = append(o.Backends, teamcache.Named{Name: name, Backend: b, ReadOnly: spec.ReadOnly, Timeout: timeout})
	}
	return o, nil
}

// open opens one storage, or one per shard.
func (o *Opened) open(spec teamcache.Spec, opts Options) (teamcache.Backend, error) {
	if len(spec.Shards) == 0 {
		return o.openOne(spec, opts)
	}
	var backends []teamcache.Backend
	for _, sh := range spec.Shards {
		one := spec
		u := *spec.URL
		u.Host = strings.Replace(u.Host, "*", sh.Name, 1)
		one.URL, one.Shards = &u, nil
		b, err := o.openOne(one, opts)
		if err != nil {
			return nil, fmt.Errorf("shard %s: %w", sh.Name, err)
		}
		backends = append(backends, b)
	}
	return teamcache.NewSharded(spec.Shards, backends)
}

// openOne opens the storage of one server.
func (o *Opened) openOne(spec teamcache.Spec, opts Options) (teamcache.Backend, error) {
	var b teamcache.Backend
	var err error
	switch spec.URL.Scheme {
	case "file":
		b, err = filestore.New(spec.URL.Path)
	case "redis", "redis+unix":
		b, err = redisstore.New(spec)
	case "http", "https":
		b, err = httpstore.New(spec)
	case "s3":
		b, err = s3store.New(spec)
	case "dcc":
		b, err = newDccStore(spec, opts)
	default:
		err = fmt.Errorf("unknown storage %q", spec.URL.Scheme)
	}
	if err != nil {
		return nil, err
	}
	if c, ok := b.(io.Closer); ok {
		o.closers = append(o.closers, c)
	}
	return b, nil
}
