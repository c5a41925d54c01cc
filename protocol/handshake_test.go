package protocol

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testToken = "s3cret-token-0123456789"

type handshakeResult struct {
	welcome *Welcome
	client  string
	index   int
	err     error
}

// runHandshake runs both sides over transport and returns what each got.
func runHandshake(t *testing.T, transport, clientToken string, serverTokens []string) (client, server handshakeResult) {
	t.Helper()
	cc, sc := connPair(t, transport)
	ctx := testContext(t, 5*time.Second)
	done := make(chan handshakeResult, 1)
	go func() {
		name, idx, err := ServerHandshake(ctx, sc, "srv", serverTokens, func() Welcome {
			return Welcome{Toolchains: []Toolchain{{Key: "id2-1", Family: "gcc"}}, Load: Load{Slots: 8, Running: 1}}
		})
		if err != nil {
			sc.Close() // as a server would: the client's read ends
		}
		done <- handshakeResult{client: name, index: idx, err: err}
	}()
	w, err := ClientHandshake(ctx, cc, clientToken, "me@here")
	if err != nil {
		cc.Close()
	}
	return handshakeResult{welcome: w, err: err}, <-done
}

func TestHandshake(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			t.Run("right token", func(t *testing.T) {
				c, s := runHandshake(t, transport, testToken, []string{"", "other", testToken})
				require.NoError(t, c.err)
				require.NoError(t, s.err)
				assert.Equal(t, "me@here", s.client)
				assert.Equal(t, 2, s.index)
				assert.Equal(t, []Toolchain{{Key: "id2-1", Family: "gcc"}}, c.welcome.Toolchains)
				assert.Equal(t, Load{Slots: 8, Running: 1}, c.welcome.Load)
			})
			t.Run("wrong token", func(t *testing.T) {
				c, s := runHandshake(t, transport, "wrong", []string{testToken})
				require.ErrorIs(t, c.err, ErrAuth)
				var re *RemoteError
				require.ErrorAs(t, c.err, &re)
				assert.Equal(t, CodeAuth, re.Code)
				require.ErrorIs(t, s.err, ErrAuth)
				assert.Equal(t, -1, s.index)
				for _, err := range []error{c.err, s.err} {
					assert.NotContains(t, err.Error(), testToken)
					assert.NotContains(t, err.Error(), "wrong")
				}
			})
			t.Run("no tokens accepted", func(t *testing.T) {
				c, s := runHandshake(t, transport, testToken, nil)
				require.ErrorIs(t, c.err, ErrAuth)
				require.ErrorIs(t, s.err, ErrAuth)
			})
		})
	}
}

func TestClientHandshakeEmptyToken(t *testing.T) {
	cc, _ := net.Pipe()
	defer cc.Close()
	_, err := ClientHandshake(context.Background(), cc, "", "me")
	require.ErrorIs(t, err, ErrAuth)
}

// fakeServer plays the server side by hand: it sends first (a Hello frame,
// or anything else), reads the Auth, and answers with reply(auth).
func fakeServer(t *testing.T, conn net.Conn, first []byte, reply func(*Auth) Message) {
	t.Helper()
	go func() {
		defer conn.Close()
		if _, err := conn.Write(first); err != nil {
			return
		}
		m, err := ReadExpect(conn, MsgAuth)
		if err != nil {
			return
		}
		if r := reply(m.(*Auth)); r != nil {
			_ = WriteMessage(conn, r)
		}
		_, _ = io.Copy(io.Discard, conn)
	}()
}

func TestClientHandshakeAgainstFakeServers(t *testing.T) {
	hello := &Hello{Version: Version, Server: "fake", Nonce: nonce(9)}
	helloFrame := mustFrame(t, hello)
	tests := []struct {
		name  string
		first []byte
		reply func(*Auth) Message
		want  error
	}{
		{"newer version", mustFrame(t, &Hello{Version: Version + 1, Server: "future"}), nil, ErrVersion},
		{"refusal instead of Hello", mustFrame(t, &Error{Code: CodeAuth, Message: "go away"}), nil, ErrAuth},
		{"huge Hello", frameBytes(MsgHello, codecRaw, maxHelloSize+1, maxHelloSize+1, nil), nil, ErrTooLarge},
		{"request instead of Hello", mustFrame(t, &Status{}), nil, ErrUnexpected},
		{"garbage instead of Hello", []byte("SSH-2.0-OpenSSH_9.2\r\n"), nil, ErrMalformed},
		{"zero MAC", helloFrame, func(*Auth) Message { return &Welcome{} }, ErrAuth},
		{"reflected client MAC", helloFrame, func(a *Auth) Message { return &Welcome{MAC: a.MAC} }, ErrAuth},
		{"MAC with a guessed token", helloFrame, func(a *Auth) Message {
			return &Welcome{MAC: computeMAC("guess", serverLabel, a.Nonce, hello.Nonce)}
		}, ErrAuth},
		{"client label", helloFrame, func(a *Auth) Message {
			return &Welcome{MAC: computeMAC(testToken, clientLabel, a.Nonce, hello.Nonce)}
		}, ErrAuth},
		{"version refusal", helloFrame, func(*Auth) Message { return &Error{Code: CodeVersion, Message: "old"} }, ErrVersion},
		{"other message", helloFrame, func(*Auth) Message { return &Status{} }, ErrUnexpected},
	}
	for _, transport := range transports {
		for _, tc := range tests {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				cc, sc := connPair(t, transport)
				reply := tc.reply
				if reply == nil {
					reply = func(*Auth) Message { return nil }
				}
				fakeServer(t, sc, tc.first, reply)
				w, err := ClientHandshake(testContext(t, 5*time.Second), cc, testToken, "me")
				require.ErrorIs(t, err, tc.want)
				assert.Nil(t, w)
				assert.NotContains(t, err.Error(), testToken)
			})
		}
	}
}

// fakeClient plays the client side by hand: it reads Hello, sends what
// send(hello) returns, and reports the message the server answers with.
func fakeClient(conn net.Conn, send func(*Hello) []byte) <-chan Message {
	got := make(chan Message, 1)
	go func() {
		defer close(got)
		m, err := ReadExpect(conn, MsgHello)
		if err != nil {
			return
		}
		go func() { _, _ = conn.Write(send(m.(*Hello))) }()
		reply, err := ReadMessage(conn)
		if err == nil {
			got <- reply
		}
	}()
	return got
}

func TestServerHandshakeRefuses(t *testing.T) {
	authFrame := func(version uint16, token string) func(*Hello) []byte {
		return func(h *Hello) []byte {
			a := &Auth{Version: version, Client: "c", Nonce: nonce(5)}
			a.MAC = computeMAC(token, clientLabel, h.Nonce, a.Nonce)
			return mustFrame(t, a)
		}
	}
	tests := []struct {
		name string
		send func(*Hello) []byte
		want error
		code string
	}{
		{"wrong token", authFrame(Version, "nope"), ErrAuth, CodeAuth},
		{"empty token", authFrame(Version, ""), ErrAuth, CodeAuth},
		{"server label", func(h *Hello) []byte {
			a := &Auth{Version: Version, Nonce: nonce(5)}
			a.MAC = computeMAC(testToken, serverLabel, h.Nonce, a.Nonce)
			return mustFrame(t, a)
		}, ErrAuth, CodeAuth},
		{"other version", authFrame(Version+1, testToken), ErrVersion, CodeVersion},
		{"garbage", func(*Hello) []byte { return []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n") }, ErrMalformed, CodeMalformed},
		{"request before Auth", func(*Hello) []byte { return mustFrame(t, &Status{}) }, ErrUnexpected, CodeMalformed},
		{"huge frame", func(*Hello) []byte {
			return frameBytes(MsgAuth, codecRaw, MaxMessageSize, MaxMessageSize, nil)
		}, ErrTooLarge, CodeTooLarge},
		{"Auth larger than an Auth can be", func(*Hello) []byte {
			return frameBytes(MsgAuth, codecRaw, maxAuthSize+1, maxAuthSize+1, nil)
		}, ErrTooLarge, CodeTooLarge},
		{"Auth with trailing bytes", func(h *Hello) []byte {
			f := authFrame(Version, testToken)(h)
			return rawFrame(MsgAuth, append(f[headerSize:], 0))
		}, ErrMalformed, CodeMalformed},
	}
	for _, transport := range transports {
		for _, tc := range tests {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				cc, sc := connPair(t, transport)
				got := fakeClient(cc, tc.send)
				name, idx, err := ServerHandshake(testContext(t, 5*time.Second), sc, "srv", []string{"", testToken}, nil)
				require.ErrorIs(t, err, tc.want)
				assert.Equal(t, -1, idx)
				assert.Empty(t, name)
				assert.NotContains(t, err.Error(), testToken)
				reply := <-got
				require.IsType(t, &Error{}, reply)
				assert.Equal(t, tc.code, reply.(*Error).Code)
				assert.NotContains(t, reply.(*Error).Message, testToken)
			})
		}
	}
}

func TestHandshakeContext(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport+"/server deadline", func(t *testing.T) {
			_, sc := connPair(t, transport)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, _, err := ServerHandshake(ctx, sc, "srv", []string{testToken}, nil)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 3*time.Second)
		})
		t.Run(transport+"/client cancel", func(t *testing.T) {
			cc, _ := connPair(t, transport)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			_, err := ClientHandshake(ctx, cc, testToken, "me")
			require.ErrorIs(t, err, context.Canceled)
			assert.Less(t, time.Since(start), 3*time.Second)
			_, werr := cc.Write([]byte{0})
			assert.Error(t, werr, "a cancelled handshake closes the connection")
		})
	}
}

// After a successful handshake the connection carries no deadline.
func TestHandshakeClearsDeadline(t *testing.T) {
	cc, sc := connPair(t, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, _, err := ServerHandshake(ctx, sc, "srv", []string{testToken}, nil)
		errc <- err
	}()
	_, err := ClientHandshake(ctx, cc, testToken, "me")
	require.NoError(t, err)
	require.NoError(t, <-errc)
	time.Sleep(400 * time.Millisecond)
	go func() { _, _ = sc.Write([]byte("late")) }()
	buf := make([]byte, 4)
	_, err = io.ReadFull(cc, buf)
	require.NoError(t, err)
	assert.Equal(t, "late", string(buf))
}

// A client with the right token but another version is refused for its
// version, not its token.
func TestServerHandshakeVersionBeforeAuth(t *testing.T) {
	cc, sc := connPair(t, "pipe")
	got := fakeClient(cc, func(h *Hello) []byte {
		a := &Auth{Version: 99, Client: "client"}
		a.MAC = computeMAC(testToken, clientLabel, h.Nonce, a.Nonce)
		return mustFrame(t, a)
	})
	_, _, err := ServerHandshake(testContext(t, 5*time.Second), sc, "srv", []string{testToken}, nil)
	require.ErrorIs(t, err, ErrVersion)
	assert.False(t, strings.Contains(err.Error(), testToken))
	<-got
	assert.False(t, errors.Is(err, ErrAuth))
}
