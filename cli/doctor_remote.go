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
	"github.com/dcc-build/dcc/daemon"
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
		d.checkClock(subject, r)
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

// clockSkewLimit is how far apart a host's clock and this machine's may be
// before doctor warns: NTP keeps clocks within milliseconds.
const clockSkewLimit = 2 * time.Second

// checkClock says how far the host's clock is from this machine's. dcc's
// objects do not depend on it, but the times in the host's logs and on its
// status page do, and a clock that far off means the host keeps no time.
func (d *doctor) checkClock(subject string, r daemon.HostReport) {
	if !r.ClockKnown {
		d.say(doctorInfo, subject, "did not say its time: its clock is not checked")
		return
	}
	skew := r.ClockSkew.Round(time.Millisecond)
	if skew.Abs()-r.ClockUncertainty <= clockSkewLimit {
		d.say(doctorOK, subject, "clock within %s of this machine's (%s)", clockSkewLimit, signed(skew))
		return
	}
	way := "ahead of"
	if skew < 0 {
		way = "behind"
	}
	d.say(doctorWarn, subject, "clock is %s %s this machine's: objects are not affected, but the host's logs and status page are off by as much; keep time on both (systemd-timesyncd, chrony)",
		skew.Abs().Round(time.Second/10), way)
}

// signed formats d with its sign.
func signed(d time.Duration) string {
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
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
