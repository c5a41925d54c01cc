package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/dcc-build/dcc/config"
	"github.com/dcc-build/dcc/teamcache"
	"github.com/dcc-build/dcc/teamcache/storages"
	"github.com/dcc-build/dcc/toolchain"
	"github.com/dcc-build/dcc/wrapper"
)

// doctorStorageTimeout bounds the lookup that checks a remote storage.
const doctorStorageTimeout = 3 * time.Second

// checkHosts contacts each configured host: reachable, token accepted,
// sandbox on, and serving the compilers found here in PATH.
func (d *doctor) checkHosts(ctx context.Context, cfg *config.Config) {
	if len(cfg.Hosts) == 0 {
		return
	}
	if !cfg.Remote {
		d.say(doctorInfo, "hosts", "%d configured, remote compiling off (dcc connect, or remote = true, turns it on)", len(cfg.Hosts))
	}
	local := localCompilers(ctx)
	for _, r := range checkHosts(ctx, cfg) {
		subject := "host " + r.Host
		switch {
		case !r.Reachable:
			d.say(doctorFail, subject, "unreachable: %s", r.Error)
			continue
		case !r.Authenticated:
			d.say(doctorFail, subject, "reachable, but it refused this client: %s (the token is dcc-server's, printed on its first run)", r.Error)
			continue
		}
		d.say(doctorOK, subject, "%s, token accepted, %d slots", r.Server, r.Slots)
		if !r.Sandboxed {
			d.say(doctorWarn, subject, "runs jobs without a sandbox (sandbox = \"off\" in its server.conf)")
		}
		served := map[string]bool{}
		for _, tc := range r.Toolchains {
			served[tc.Key] = true
		}
		for _, c := range local {
			switch {
			case served[c.key]:
			case r.Ships && cfg.ShipToolchains:
				d.say(doctorInfo, subject, "has no %s like %s here: dcc ships it there at the first unit", c.desc, c.path)
			default:
				d.say(doctorWarn, subject, "has no %s like %s here: its units compile here", c.desc, c.path)
			}
		}
	}
}

// localCompiler is a compiler found in PATH and its identity.
type localCompiler struct {
	path, desc, key string
}

// localCompilers identifies the real gcc, g++, clang and clang++ in PATH.
func localCompilers(ctx context.Context) []localCompiler {
	f, err := wrapper.NewFinder(os.Getenv("PATH"), nil)
	if err != nil {
		return nil
	}
	prober := &toolchain.Prober{}
	var out []localCompiler
	for _, name := range []string{"gcc", "g++", "clang", "clang++"} {
		real, err := f.Find(name)
		if err != nil {
			continue
		}
		id, err := prober.Probe(ctx, real)
		if err != nil {
			continue
		}
		out = append(out, localCompiler{path: real, desc: fmt.Sprintf("%s %s", name, id.Version), key: id.Key()})
	}
	return out
}

// checkStorage looks a key up in each remote storage, and says whether
// entries are signed.
func (d *doctor) checkStorage(ctx context.Context, cfg *config.Config) {
	if strings.TrimSpace(cfg.RemoteStorage) == "" {
		return
	}
	specs, err := teamcache.ParseSpecs(cfg.RemoteStorage)
	if err != nil {
		d.say(doctorFail, "remote storage", "%v", err)
		return
	}
	opened, err := storages.Open(specs, storages.Options{Hosts: cfg.Hosts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		d.say(doctorFail, "remote storage", "%v", err)
		return
	}
	defer opened.Close()
	var probe [32]byte
	_, _ = rand.Read(probe[:])
	for _, b := range opened.Backends {
		subject := "remote storage " + b.Name
		lctx, cancel := context.WithTimeout(ctx, doctorStorageTimeout)
		start := time.Now()
		_, _, err := b.Backend.Get(lctx, hex.EncodeToString(probe[:]))
		cancel()
		if err != nil {
			d.say(doctorFail, subject, "a lookup failed: %v", err)
			continue
		}
		d.say(doctorOK, subject, "a lookup took %s", time.Since(start).Round(time.Millisecond))
	}
	if cfg.RemoteStorageKey == "" {
		d.say(doctorWarn, "remote storage", "no remote_storage_key: whoever can write to the storage can serve objects to everyone (set one, the same on every machine)")
	}
}
