package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHosts(t *testing.T) {
	defaults := func(connect string, jobs int) Host {
		return Host{Connect: connect, Jobs: jobs, ConnectTimeout: 2 * time.Second, SendTimeout: 10 * time.Second, RecvTimeout: 5 * time.Minute}
	}
	withToken := func(h Host, token string) Host { h.Token = token; return h }
	tests := []struct {
		name        string
		file        string
		env         map[string]string
		want        []Host
		wantRemote  bool
		wantSources []string // "" for the file's path
	}{
		{name: "none", want: []Host{}},
		{name: "one table", file: "[[hosts]]\nconnect = \"127.0.0.2:9000\"\ntoken = \"t1\"\nnjob = 8\n",
			want: []Host{withToken(defaults("127.0.0.2:9000", 8), "t1")}, wantSources: []string{":1"}},
		{name: "defaults: port, njob, global token and timeouts",
			file: "token = \"g\"\nconnect_timeout = \"1s\"\nrecv_timeout = \"1m\"\n\n[[hosts]]\nconnect = \"127.0.0.2\"\n\n[[hosts]]\nconnect = \"[::1]\"\ntoken = \"own\"\nrecv_timeout = \"20m\"\nsend_timeout = \"3s\"\nconnect_timeout = \"100ms\"\n",
			want: []Host{
				{Connect: "127.0.0.2:9693", Token: "g", Jobs: 4, ConnectTimeout: time.Second, SendTimeout: 10 * time.Second, RecvTimeout: time.Minute},
				{Connect: "[::1]:9693", Token: "own", Jobs: 4, ConnectTimeout: 100 * time.Millisecond, SendTimeout: 3 * time.Second, RecvTimeout: 20 * time.Minute},
			}, wantSources: []string{":5", ":8"}},
		{name: "inline array", file: "hosts = [{connect = \"build1:1234\", njob = 2}, {connect = \"build2\"}]\n",
			want: []Host{defaults("build1:1234", 2), defaults("build2:9693", 4)}, wantSources: []string{":1", ":1"}},
		{name: "DCC_HOSTS replaces the file's and turns remote on",
			file: "token = \"g\"\n[[hosts]]\nconnect = \"127.0.0.9\"\n",
			env:  map[string]string{"DCC_HOSTS": " 127.0.0.2:9693/4\t127.0.0.3:9693/8 127.0.0.4 ", "DCC_TOKEN": "envtok"},
			want: []Host{withToken(defaults("127.0.0.2:9693", 4), "envtok"), withToken(defaults("127.0.0.3:9693", 8), "envtok"),
				withToken(defaults("127.0.0.4:9693", 4), "envtok")},
			wantRemote: true, wantSources: []string{"env DCC_HOSTS", "env DCC_HOSTS", "env DCC_HOSTS"}},
		{name: "DCC_REMOTE=0 keeps remote off", env: map[string]string{"DCC_HOSTS": "127.0.0.2/2", "DCC_REMOTE": "0"},
			want: []Host{defaults("127.0.0.2:9693", 2)}, wantSources: []string{"env DCC_HOSTS"}},
		{name: "empty DCC_HOSTS is unset", file: "remote = true\n[[hosts]]\nconnect = \"127.0.0.2\"\n", env: map[string]string{"DCC_HOSTS": ""},
			want: []Host{defaults("127.0.0.2:9693", 4)}, wantRemote: true, wantSources: []string{":2"}},
		{name: "remote from the file", file: "remote = true\n", want: []Host{}, wantRemote: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, tt.file)
			c, err := LoadFrom(dir, envOf(tt.env))
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Hosts)
			assert.Equal(t, tt.wantRemote, c.Remote)
			hs := c.HostSettings()
			require.Len(t, hs, len(tt.wantSources))
			for i, src := range tt.wantSources {
				assert.Equal(t, tt.want[i], hs[i].Host)
				if src[0] == ':' {
					src = "file " + FilePath(dir) + src
				}
				assert.Equal(t, src, hs[i].Source)
			}
		})
	}
}

func TestBadHosts(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		kind    error
		wantMsg string
	}{
		{"hosts as a table", "remote = true\n[hosts]\nconnect = \"a\"\n", nil, ErrInvalid,
			"config.toml:2: hosts: want an array of tables ([[hosts]] with connect, token, njob), not a table"},
		{"hosts as a string", "hosts = \"a b\"\n", nil, ErrInvalid, "config.toml:1: hosts: want an array of tables"},
		{"entry not a table", "hosts = [1]\n", nil, ErrInvalid, "config.toml:1: hosts: entry 1: want a table with connect, token, njob, not an integer"},
		{"no connect", "[[hosts]]\nconnect = \"a\"\n\n[[hosts]]\nnjob = 2\n", nil, ErrInvalid,
			`config.toml:4: hosts: entry 2 has no connect (want connect = "HOST:PORT")`},
		{"unknown key", "[[hosts]]\nconnect = \"a\"\nport = 1\n", nil, ErrUnknownKey,
			`config.toml:3: unknown key "port" in a hosts entry (known: connect, token, njob, connect_timeout, send_timeout, recv_timeout, fingerprint, plaintext)`},
		{"connect not a string", "[[hosts]]\nconnect = 5\n", nil, ErrInvalid, "config.toml:2: hosts.connect: want a string, not an integer"},
		{"bad port", "[[hosts]]\nconnect = \"a:99999\"\n", nil, ErrInvalid, `config.toml:2: hosts.connect: invalid port in host address "a:99999": want 1 to 65535`},
		{"port not a number", "[[hosts]]\nconnect = \"a:http\"\n", nil, ErrInvalid, `config.toml:2: hosts.connect: invalid port in host address "a:http"`},
		{"empty address", "[[hosts]]\nconnect = \"\"\n", nil, ErrInvalid, "config.toml:2: hosts.connect: empty host address: want HOST:PORT"},
		{"address with spaces", "[[hosts]]\nconnect = \"a b:1\"\n", nil, ErrInvalid, `config.toml:2: hosts.connect: invalid host address "a b:1"`},
		{"njob zero", "[[hosts]]\nconnect = \"a\"\n\nnjob = 0\n", nil, ErrInvalid, "config.toml:4: hosts.njob: invalid njob 0: want 1 to 4096"},
		{"njob string", "[[hosts]]\nconnect = \"a\"\nnjob = \"4\"\n", nil, ErrInvalid, "config.toml:3: hosts.njob: want an integer, not a string"},
		{"token not a string", "[[hosts]]\nconnect = \"a\"\ntoken = 1\n", nil, ErrInvalid, "config.toml:3: hosts.token: want a string, not an integer"},
		{"bad host timeout", "[[hosts]]\nconnect = \"a\"\nrecv_timeout = \"long\"\n", nil, ErrInvalid, `config.toml:3: hosts.recv_timeout: invalid duration "long"`},
		{"host timeout as int", "[[hosts]]\nconnect = \"a\"\nsend_timeout = 10\n", nil, ErrInvalid, `config.toml:3: hosts.send_timeout: want a string such as "2s", not an integer`},
		{"duplicate", "[[hosts]]\nconnect = \"a\"\n[[hosts]]\nconnect = \"a:9693\"\n", nil, ErrInvalid,
			"config.toml:4: hosts.connect: a:9693 is listed twice (first on line 2)"},
		{"env bad njob", "", map[string]string{"DCC_HOSTS": "127.0.0.2/x"}, ErrInvalid,
			`$DCC_HOSTS: hosts: invalid njob "x" in "127.0.0.2/x": want ADDR/NJOB, such as 127.0.0.2:9693/4`},
		{"env njob zero", "", map[string]string{"DCC_HOSTS": "127.0.0.2:1/0"}, ErrInvalid, `$DCC_HOSTS: hosts: "127.0.0.2:1/0": invalid njob 0`},
		{"env bad address", "", map[string]string{"DCC_HOSTS": "127.0.0.2:/4"}, ErrInvalid, `$DCC_HOSTS: hosts: invalid port in host address "127.0.0.2:"`},
		{"env duplicate", "", map[string]string{"DCC_HOSTS": "h/1 h:9693/2"}, ErrInvalid, "$DCC_HOSTS: hosts: h:9693 is listed twice"},
		{"env blank", "", map[string]string{"DCC_HOSTS": "   "}, ErrInvalid, "$DCC_HOSTS: hosts: no host"},
		{"env bad fingerprint", "", map[string]string{"DCC_HOSTS": "h/2,fingerprint=sha256:abc"}, ErrInvalid,
			`$DCC_HOSTS: hosts: h/2: invalid fingerprint "sha256:abc": want sha256: and 64 hex digits`},
		{"env unknown option", "", map[string]string{"DCC_HOSTS": "h/2,tls"}, ErrInvalid, `$DCC_HOSTS: hosts: h/2: unknown option "tls"`},
		{"env plaintext and fingerprint", "", map[string]string{"DCC_HOSTS": "h/2,plaintext,fingerprint=sha256:abababababababababababababababababababababababababababababababab"}, ErrInvalid,
			"$DCC_HOSTS: hosts: h/2: a host is reached either in plain TCP or with TLS and its fingerprint, not both"},
		{"bad fingerprint", "[[hosts]]\nconnect = \"a\"\nfingerprint = \"md5:00\"\n", nil, ErrInvalid,
			`config.toml:3: hosts.fingerprint: invalid fingerprint "md5:00"`},
		{"plaintext not bool", "[[hosts]]\nconnect = \"a\"\nplaintext = \"yes\"\n", nil, ErrInvalid,
			`config.toml:3: hosts.plaintext: want true or false, not a string`},
		{"plaintext and fingerprint", "[[hosts]]\nconnect = \"a\"\nplaintext = true\nfingerprint = \"sha256:abababababababababababababababababababababababababababababababab\"\n", nil, ErrInvalid,
			"config.toml:3: hosts.plaintext: a host is reached either in plain TCP or with TLS and its fingerprint, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeConfig(t, dir, tt.file)
			_, err := LoadFrom(dir, envOf(tt.env))
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			assert.NotContains(t, err.Error(), "\n")
			if tt.env == nil {
				assert.Contains(t, err.Error(), FilePath(dir)+":")
			}
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestHostTransport(t *testing.T) {
	fp := "sha256:" + strings.Repeat("ab", 32)
	dir := t.TempDir()
	writeConfig(t, dir, "[[hosts]]\nconnect = \"a\"\nfingerprint = \"SHA256:"+strings.Repeat("AB:", 31)+"AB\"\n"+
		"[[hosts]]\nconnect = \"b\"\nplaintext = true\n")
	c, err := LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	require.Len(t, c.Hosts, 2)
	assert.Equal(t, fp, c.Hosts[0].Fingerprint, "canonical form")
	assert.False(t, c.Hosts[0].Plaintext)
	assert.True(t, c.Hosts[1].Plaintext)

	c, err = LoadFrom(dir, envOf(map[string]string{"DCC_HOSTS": "h1/3,fingerprint=" + fp + " h2:7000,plaintext h3"}))
	require.NoError(t, err)
	require.Len(t, c.Hosts, 3)
	assert.Equal(t, Host{Connect: "h1:9693", Jobs: 3, Fingerprint: fp}, Host{Connect: c.Hosts[0].Connect, Jobs: c.Hosts[0].Jobs, Fingerprint: c.Hosts[0].Fingerprint})
	assert.Equal(t, "h2:7000", c.Hosts[1].Connect)
	assert.True(t, c.Hosts[1].Plaintext)
	assert.Equal(t, DefaultJobs, c.Hosts[1].Jobs)
	assert.Empty(t, c.Hosts[2].Fingerprint)
	assert.False(t, c.Hosts[2].Plaintext)
}

func TestHostString(t *testing.T) {
	h := Host{Connect: "127.0.0.2:9693", Token: "s3cret", Jobs: 4, ConnectTimeout: 2 * time.Second, SendTimeout: 10 * time.Second, RecvTimeout: 5 * time.Minute}
	assert.Equal(t, "127.0.0.2:9693 njob=4 token=set connect_timeout=2s send_timeout=10s recv_timeout=5m0s fingerprint=not set", h.String())
	assert.NotContains(t, h.String(), "s3cret")
	h.Token = ""
	assert.Contains(t, h.String(), "token=not set")
	h.Fingerprint = "sha256:" + strings.Repeat("0f", 32)
	assert.Contains(t, h.String(), " fingerprint=sha256:0f0f")
	h.Fingerprint, h.Plaintext = "", true
	assert.Contains(t, h.String(), " plaintext (not encrypted)")
}

func TestTokenNeverShown(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "token = \"s3cret\"\n")
	c, err := LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	s, err := c.Get("token")
	require.NoError(t, err)
	assert.Equal(t, "set", s.Value)
	for _, s := range c.Settings() {
		assert.NotContains(t, s.Value, "s3cret")
	}
	assert.Equal(t, "s3cret", c.Token)
}

// The default file's commented hosts example becomes a valid host once
// uncommented.
func TestDefaultFileHostExample(t *testing.T) {
	dir := t.TempDir()
	_, err := WriteDefaultIfMissing(dir)
	require.NoError(t, err)
	c, err := LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	assert.Empty(t, c.Hosts)

	data, err := os.ReadFile(FilePath(dir))
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		for _, k := range []string{"[[hosts]]", "connect =", "token =", "njob =", "recv_timeout ="} {
			if strings.HasPrefix(l, "# "+k) {
				lines[i] = strings.TrimPrefix(l, "# ")
			}
		}
	}
	writeConfig(t, dir, strings.Join(lines, "\n"))
	c, err = LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	require.Len(t, c.Hosts, 1)
	assert.Equal(t, Host{Connect: "127.0.0.2:9693", Token: "the token dcc-server printed", Jobs: 4,
		ConnectTimeout: 2 * time.Second, SendTimeout: 10 * time.Second, RecvTimeout: 10 * time.Minute}, c.Hosts[0])

	// "dcc connect" then writes remote = true above the table.
	require.NoError(t, Set(dir, "remote", "true"))
	c, err = LoadFrom(dir, envOf(nil))
	require.NoError(t, err)
	assert.True(t, c.Remote)
	assert.Len(t, c.Hosts, 1)
}
