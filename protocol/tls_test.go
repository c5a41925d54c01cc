package protocol

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testCert struct {
	once sync.Once
	cert tls.Certificate
	fp   string
	err  error
}

// testTLS is the TLS configuration of the test servers: one key per test
// binary.
func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	testCert.once.Do(func() {
		var pemData []byte
		if pemData, testCert.err = NewCertificatePEM("test"); testCert.err == nil {
			testCert.cert, testCert.fp, testCert.err = LoadCertificatePEM(pemData)
		}
	})
	require.NoError(t, testCert.err)
	return ServerTLSConfig(testCert.cert)
}

// testTransport pins the test servers' key.
func testTransport(t testing.TB) Transport {
	testTLS(t)
	return Transport{Fingerprint: testCert.fp}
}

func TestFingerprintIsOfThePublicKey(t *testing.T) {
	pemData, err := NewCertificatePEM("a")
	require.NoError(t, err)
	cert, fp, err := LoadCertificatePEM(pemData)
	require.NoError(t, err)
	assert.Equal(t, Fingerprint(cert.Leaf), fp)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, fp)

	canon, err := ParseFingerprint("  SHA256:" + strings.ToUpper(fp[len("sha256:"):]))
	require.NoError(t, err)
	assert.Equal(t, fp, canon)
	for _, bad := range []string{"", "sha256:", "md5:" + fp[7:], fp[:len(fp)-2], fp + "00", "sha256:" + strings.Repeat("zz", 32)} {
		_, err := ParseFingerprint(bad)
		assert.Error(t, err, bad)
	}
}

// transportServer accepts one connection with AcceptTransport(cfg) and, on
// success, runs the dcc handshake; its error arrives on the channel.
func transportServer(t *testing.T, cfg *tls.Config) (string, <-chan error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	done := make(chan error, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := AcceptTransport(ctx, conn, cfg)
		if err == nil {
			_, _, err = ServerHandshake(ctx, c, "srv", []string{testToken}, nil)
		}
		done <- err
	}()
	return l.Addr().String(), done
}

func TestTransports(t *testing.T) {
	cfg := testTLS(t)
	other, err := NewCertificatePEM("other")
	require.NoError(t, err)
	_, otherFP, err := LoadCertificatePEM(other)
	require.NoError(t, err)
	pinned := testTransport(t)

	for _, tt := range []struct {
		name       string
		server     *tls.Config
		client     Transport
		clientErr  error  // nil: the session starts
		clientText string // in the client's error
		serverErr  error
	}{
		{name: "tls", server: cfg, client: pinned},
		{name: "plain on both sides", server: nil, client: Transport{Plaintext: true}},
		{name: "wrong pin", server: cfg, client: Transport{Fingerprint: otherFP}, clientErr: ErrFingerprint,
			clientText: "the pinned fingerprint is " + otherFP},
		{name: "tls client, plain host", server: nil, client: pinned, clientErr: ErrTransport,
			clientText: "host answered in plain TCP", serverErr: ErrTransport},
		{name: "plain client, tls host", server: cfg, client: Transport{Plaintext: true}, clientErr: ErrTransport,
			clientText: "this host requires TLS", serverErr: ErrTransport},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, done := transportServer(t, tt.server)
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := Dial(ctx, addr, testToken, "me", tt.client)
			if tt.clientErr == nil {
				require.NoError(t, err)
				s.Close()
				require.NoError(t, <-done)
				return
			}
			require.ErrorIs(t, err, tt.clientErr)
			assert.Contains(t, err.Error(), tt.clientText)
			assert.NotContains(t, err.Error(), "\n")
			serr := <-done
			require.Error(t, serr)
			if tt.serverErr != nil {
				assert.ErrorIs(t, serr, tt.serverErr)
			}
			// A mismatch fails at once, not at a timeout.
			assert.Less(t, time.Since(start), 2*time.Second)
		})
	}
}

func TestNoFingerprintIsRefusedBeforeConnecting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	_, err = Dial(context.Background(), l.Addr().String(), testToken, "me", Transport{})
	require.ErrorIs(t, err, ErrNoFingerprint)
	assert.Contains(t, err.Error(), "dcc-server --fingerprint")
	_, err = Dial(context.Background(), l.Addr().String(), testToken, "me", Transport{Fingerprint: "sha256:00"})
	require.ErrorIs(t, err, ErrFingerprint)
	select {
	case <-accepted:
		t.Fatal("the client connected without a usable pin")
	case <-time.After(50 * time.Millisecond):
	}
	assert.False(t, errors.Is(err, ErrNoFingerprint))
}
