package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is the port dcc-server listens on, and the one a host address
// without a port gets.
const DefaultPort = 9693

// DefaultJobs is a host's njob when its entry or DCC_HOSTS gives none.
const DefaultJobs = 4

// MaxJobs bounds a host's njob.
const MaxJobs = 4096

// Host is one compile host, with every setting resolved: what its entry
// leaves out comes from the global keys (token, connect_timeout,
// send_timeout, recv_timeout).
type Host struct {
	// Connect is the host's address, "HOST:PORT" (the port defaults to
	// DefaultPort).
	Connect string
	// Token authenticates dcc to the host. It is a secret: never log it.
	Token string
	// Jobs is how many compiles dcc sends the host at once (njob).
	Jobs int
	// ConnectTimeout bounds connecting to the host, handshake included.
	ConnectTimeout time.Duration
	// SendTimeout bounds sending one job to the host.
	SendTimeout time.Duration
	// RecvTimeout bounds waiting for the host's answer to one job.
	RecvTimeout time.Duration
	// Fingerprint pins the host's TLS key, "sha256:HEX" (dcc-server
	// --fingerprint prints it); without it a TLS host is not used.
	Fingerprint string
	// Plaintext reaches the host in plain TCP, unencrypted; the host must
	// have tls = "off".
	Plaintext bool
}

// String describes the host for "dcc config": address, njob, whether a token
// is set (never the token), the timeouts and the transport (the pinned
// fingerprint, or plaintext).
func (h Host) String() string {
	token := "not set"
	if h.Token != "" {
		token = "set"
	}
	transport := "fingerprint=" + h.Fingerprint
	switch {
	case h.Plaintext:
		transport = "plaintext (not encrypted)"
	case h.Fingerprint == "":
		transport = "fingerprint=not set"
	}
	return fmt.Sprintf("%s njob=%d token=%s connect_timeout=%s send_timeout=%s recv_timeout=%s %s",
		h.Connect, h.Jobs, token, h.ConnectTimeout, h.SendTimeout, h.RecvTimeout, transport)
}

// hostKeys are the keys a hosts entry may hold, in the order errors list them.
var hostKeys = []string{"connect", "token", "njob", "connect_timeout", "send_timeout", "recv_timeout", "fingerprint", "plaintext"}

// hostEntry is one host as the file or DCC_HOSTS gives it, before the global
// keys fill in what it leaves out.
type hostEntry struct {
	connect  string
	token    string
	hasToken bool
	jobs     int
	// Timeouts of zero come from the global keys.
	connectTimeout, sendTimeout, recvTimeout time.Duration
	// fingerprint and plaintext choose the transport (see Host).
	fingerprint string
	plaintext   bool
	// source is where the entry is: "file PATH:LINE" or "env DCC_HOSTS".
	source string
}

// hostCount is the number of entries a decoded hosts value holds.
func hostCount(v any) int {
	if list, ok := v.([]any); ok {
		return len(list)
	}
	return 0
}

// fileHosts checks the file's hosts entries.
func (d *document) fileHosts() ([]hostEntry, error) {
	if d.hosts == nil {
		return nil, nil
	}
	list, ok := d.hosts.([]any)
	if !ok {
		return nil, d.hostError(d.hostsLine, "hosts", ErrInvalid,
			fmt.Errorf("want an array of tables ([[hosts]] with connect, token, njob), not %s", tomlTypeName(d.hosts)))
	}
	var out []hostEntry
	seen := map[string]int{}
	for i, v := range list {
		pos := hostPos{line: d.hostsLine}
		if i < len(d.hostPos) {
			pos = d.hostPos[i]
		}
		keyLine := func(key string) int {
			if l, ok := pos.keys[key]; ok {
				return l
			}
			return pos.line
		}
		table, ok := v.(map[string]any)
		if !ok {
			return nil, d.hostError(pos.line, "hosts", ErrInvalid,
				fmt.Errorf("entry %d: want a table with connect, token, njob, not %s", i+1, tomlTypeName(v)))
		}
		for _, key := range slices.Sorted(maps.Keys(table)) {
			if !slices.Contains(hostKeys, key) {
				return nil, d.hostError(keyLine(key), "", ErrUnknownKey,
					fmt.Errorf("unknown key %q in a hosts entry (known: %s)", key, strings.Join(hostKeys, ", ")))
			}
		}
		e := hostEntry{jobs: DefaultJobs, source: "file " + d.path + ":" + strconv.Itoa(pos.line)}
		connect, ok := table["connect"]
		if !ok {
			return nil, d.hostError(pos.line, "hosts", ErrInvalid,
				fmt.Errorf(`entry %d has no connect (want connect = "HOST:PORT")`, i+1))
		}
		var err error
		for _, key := range hostKeys {
			v, ok := table[key]
			if !ok {
				continue
			}
			switch key {
			case "connect":
				e.connect, err = hostString(connect, func(s string) (string, error) { return normalizeAddr(s) })
			case "token":
				e.token, err = hostString(v, func(s string) (string, error) { return strings.TrimSpace(s), nil })
				e.hasToken = true
			case "njob":
				n, isInt := v.(int64)
				switch {
				case !isInt:
					err = fmt.Errorf("want an integer, not %s", tomlTypeName(v))
				default:
					e.jobs, err = checkJobs(n)
				}
			case "connect_timeout":
				e.connectTimeout, err = hostDuration(v)
			case "send_timeout":
				e.sendTimeout, err = hostDuration(v)
			case "recv_timeout":
				e.recvTimeout, err = hostDuration(v)
			case "fingerprint":
				e.fingerprint, err = hostString(v, checkFingerprint)
			case "plaintext":
				b, isBool := v.(bool)
				if !isBool {
					err = fmt.Errorf("want true or false, not %s", tomlTypeName(v))
				}
				e.plaintext = b
			}
			if err != nil {
				return nil, d.hostError(keyLine(key), "hosts."+key, ErrInvalid, err)
			}
		}
		if e.plaintext && e.fingerprint != "" {
			return nil, d.hostError(keyLine("plaintext"), "hosts.plaintext", ErrInvalid,
				errors.New("a host is reached either in plain TCP or with TLS and its fingerprint, not both"))
		}
		if first, dup := seen[e.connect]; dup {
			return nil, d.hostError(keyLine("connect"), "hosts.connect", ErrInvalid,
				fmt.Errorf("%s is listed twice (first on line %d)", e.connect, first))
		}
		seen[e.connect] = keyLine("connect")
		out = append(out, e)
	}
	return out, nil
}

// hostError is an *Error at line of the file.
func (d *document) hostError(line int, key string, kind, err error) error {
	return &Error{Where: d.path + ":" + strconv.Itoa(line), Key: key, Kind: kind, Err: err}
}

// hostString checks that v is a string and passes it through check.
func hostString(v any, check func(string) (string, error)) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, not %s", tomlTypeName(v))
	}
	return check(s)
}

// hostDuration reads a per-host timeout.
func hostDuration(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf(`want a string such as "2s", not %s`, tomlTypeName(v))
	}
	return parseDuration(s)
}

// checkJobs checks a host's njob.
func checkJobs(n int64) (int, error) {
	if n < 1 || n > MaxJobs {
		return 0, fmt.Errorf("invalid njob %d: want 1 to %d", n, MaxJobs)
	}
	return int(n), nil
}

// errAddr says what a host address looks like.
var errAddr = errors.New(`want HOST:PORT, such as "127.0.0.2:9693" or "build1" (port 9693)`)

// normalizeAddr checks a host address and gives it its port: "h" becomes
// "h:9693", "[::1]" "[::1]:9693".
func normalizeAddr(s string) (string, error) {
	addr := strings.TrimSpace(s)
	if addr == "" {
		return "", fmt.Errorf("empty host address: %w", errAddr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if !errors.As(err, &ae) || !strings.Contains(ae.Err, "missing port") {
			return "", fmt.Errorf("invalid host address %q: %w", s, errAddr)
		}
		host, port = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), strconv.Itoa(DefaultPort)
	}
	if host == "" || strings.ContainsAny(host, " \t/[]") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
		return "", fmt.Errorf("invalid host address %q: %w", s, errAddr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("invalid port in host address %q: want 1 to 65535", s)
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}

// envHosts reads DCC_HOSTS: "ADDR/NJOB ADDR ..." separated by white space,
// NJOB defaulting to DefaultJobs, each followed by options after commas:
// ",fingerprint=sha256:HEX" or ",plaintext".
func envHosts(v string) ([]hostEntry, error) {
	var out []hostEntry
	seen := map[string]bool{}
	for _, field := range strings.Fields(v) {
		field, opts, _ := strings.Cut(field, ",")
		fingerprint, plaintext, err := envHostOptions(field, opts)
		if err != nil {
			return nil, err
		}
		addr, jobs := field, strconv.Itoa(DefaultJobs)
		if i := strings.LastIndexByte(field, '/'); i >= 0 {
			addr, jobs = field[:i], field[i+1:]
		}
		connect, err := normalizeAddr(addr)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(jobs, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid njob %q in %q: want ADDR/NJOB, such as 127.0.0.2:9693/4", jobs, field)
		}
		e := hostEntry{connect: connect, source: "env DCC_HOSTS", fingerprint: fingerprint, plaintext: plaintext}
		if e.jobs, err = checkJobs(n); err != nil {
			return nil, fmt.Errorf("%q: %w", field, err)
		}
		if seen[connect] {
			return nil, fmt.Errorf("%s is listed twice", connect)
		}
		seen[connect] = true
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New(`no host: want "ADDR/NJOB ..." such as "127.0.0.2:9693/4 127.0.0.3:9693/8"`)
	}
	return out, nil
}

// envHostOptions reads the options of a DCC_HOSTS entry, "fingerprint=FP"
// and "plaintext", separated by commas.
func envHostOptions(field, opts string) (fingerprint string, plaintext bool, err error) {
	if opts == "" {
		return "", false, nil
	}
	for _, o := range strings.Split(opts, ",") {
		key, val, hasVal := strings.Cut(o, "=")
		switch {
		case key == "fingerprint" && hasVal:
			if fingerprint, err = checkFingerprint(val); err != nil {
				return "", false, fmt.Errorf("%s: %w", field, err)
			}
		case key == "plaintext" && !hasVal:
			plaintext = true
		default:
			return "", false, fmt.Errorf("%s: unknown option %q: want ADDR/NJOB,fingerprint=sha256:HEX or ADDR/NJOB,plaintext", field, o)
		}
	}
	if plaintext && fingerprint != "" {
		return "", false, fmt.Errorf("%s: a host is reached either in plain TCP or with TLS and its fingerprint, not both", field)
	}
	return fingerprint, plaintext, nil
}

// resolve fills in what e leaves out from c's global keys.
func (e hostEntry) resolve(c *Config) Host {
	h := Host{
		Connect: e.connect, Token: c.Token, Jobs: e.jobs, Fingerprint: e.fingerprint, Plaintext: e.plaintext,
		ConnectTimeout: c.ConnectTimeout, SendTimeout: c.SendTimeout, RecvTimeout: c.RecvTimeout,
	}
	if e.hasToken && e.token != "" {
		h.Token = e.token
	}
	if e.connectTimeout > 0 {
		h.ConnectTimeout = e.connectTimeout
	}
	if e.sendTimeout > 0 {
		h.SendTimeout = e.sendTimeout
	}
	if e.recvTimeout > 0 {
		h.RecvTimeout = e.recvTimeout
	}
	return h
}

// HostSetting is one configured host and where it came from, for "dcc config".
type HostSetting struct {
	// Host is the resolved host.
	Host Host
	// Source is "file /path/config.toml:LINE" or "env DCC_HOSTS".
	Source string
}

// HostSettings lists the configured hosts with their sources, in order.
func (c *Config) HostSettings() []HostSetting {
	out := make([]HostSetting, len(c.Hosts))
	for i, h := range c.Hosts {
		src := "default"
		if i < len(c.hostSources) {
			src = c.hostSources[i]
		}
		out[i] = HostSetting{Host: h, Source: src}
	}
	return out
}

// checkFingerprint checks a pinned TLS fingerprint, "sha256:" and 64 hex
// digits (colons between byte pairs allowed), and returns it in the form
// protocol.Fingerprint gives (lowercase, no colons). It is checked here, not
// with the protocol package, which the wrapper does not load.
func checkFingerprint(s string) (string, error) {
	v := strings.TrimSpace(s)
	const prefix = "sha256:"
	bad := fmt.Errorf("invalid fingerprint %q: want sha256: and 64 hex digits, as dcc-server --fingerprint prints on the host", s)
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", bad
	}
	digits := strings.ToLower(strings.ReplaceAll(v[len(prefix):], ":", ""))
	if b, err := hex.DecodeString(digits); err != nil || len(b) != sha256.Size {
		return "", bad
	}
	return prefix + digits, nil
}
