package protocol

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoHandler answers requests in ways the tests can check.
func echoHandler(ctx context.Context, req Message) Message {
	switch r := req.(type) {
	case *Status:
		return &StatusResult{Server: "test-server", Load: Load{Slots: 4}}
	case *CompileRequest:
		return &CompileResult{Object: r.Preprocessed, Stdout: []byte(r.SourceName)}
	case *CacheGet:
		switch r.Key {
		case "busy":
			return &Error{Code: CodeBusy, Message: "try later"}
		case "nil":
			return nil
		case "huge":
			return &StatusResult{Toolchains: make([]Toolchain, MaxToolchains+1)}
		case "hang":
			<-ctx.Done()
			return &Error{Code: CodeTimeout}
		}
		return &CacheGetResult{Found: true, Entry: []byte(r.Project + "/" + r.Key)}
	}
	return &Error{Code: CodeInternal, Message: "unexpected request"}
}

func TestCall(t *testing.T) {
	srv := startServer(t, []string{testToken}, echoHandler)
	cs := srv.dial(t, testToken)
	assert.Equal(t, Load{Slots: 4}, cs.Welcome().Load)
	big := bytes.Repeat([]byte("int x;\n"), 3<<20) // ~21 MB, several chunks and windows

	tests := []struct {
		name   string
		req    Message
		want   MsgType
		resp   Message
		remote string // expected RemoteError code
	}{
		{"status", &Status{}, MsgStatusResult, &StatusResult{Server: "test-server", Load: Load{Slots: 4}}, ""},
		{"cache get", &CacheGet{Project: "p", Key: "k"}, MsgCacheGetResult, &CacheGetResult{Found: true, Entry: []byte("p/k")}, ""},
		{"large compile", &CompileRequest{Preprocessed: big, SourceName: "a.c"}, MsgCompileResult, &CompileResult{Object: big, Stdout: []byte("a.c")}, ""},
		{"random payload", &CompileRequest{Preprocessed: randomBytes(5 << 20)}, MsgCompileResult, nil, ""},
		{"refusal", &CacheGet{Key: "busy"}, MsgCacheGetResult, nil, CodeBusy},
		{"nil response", &CacheGet{Key: "nil"}, MsgCacheGetResult, nil, CodeInternal},
		{"response too large", &CacheGet{Key: "huge"}, MsgCacheGetResult, nil, CodeTooLarge},
		{"not a request", &Hello{}, MsgStatusResult, nil, CodeMalformed},
		{"wrong response type", &Status{}, MsgCleanResult, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A deadline only against a hang: the large compile takes
			// 1.7 s under -race here, over 10 s on a loaded CI machine.
			resp, err := cs.Call(testContext(t, time.Minute), tc.req, tc.want)
			switch {
			case tc.remote != "":
				var re *RemoteError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, tc.remote, re.Code)
			case tc.want == MsgCleanResult:
				require.ErrorIs(t, err, ErrUnexpected)
			case tc.resp == nil: // compile echo with random data
				require.NoError(t, err)
				assert.Equal(t, tc.req.(*CompileRequest).Preprocessed, resp.(*CompileResult).Object)
			default:
				require.NoError(t, err)
				assert.Equal(t, tc.resp, resp)
			}
		})
	}
	assert.False(t, cs.IsClosed(), "refusals do not end the session")
}

func TestCallConcurrent(t *testing.T) {
	srv := startServer(t, []string{testToken}, echoHandler)
	cs := srv.dial(t, testToken)
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := bytes.Repeat([]byte{byte(i)}, 1000+i*50_000)
			if i%2 == 0 {
				payload = randomBytes(1000 + i*50_000)
			}
			name := fmt.Sprintf("unit%d.c", i)
			resp, err := cs.Call(testContext(t, time.Minute), &CompileRequest{Preprocessed: payload, SourceName: name}, MsgCompileResult)
			if err != nil {
				errs <- err
				return
			}
			r := resp.(*CompileResult)
			if !bytes.Equal(r.Object, payload) || string(r.Stdout) != name {
				errs <- fmt.Errorf("call %d: response of another call", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCallDeadline(t *testing.T) {
	handled := make(chan struct{}, 1)
	handler := func(ctx context.Context, req Message) Message {
		if r, ok := req.(*CacheGet); ok && r.Key == "hang" {
			<-ctx.Done() // ends when the client gives up
			handled <- struct{}{}
			return &Error{Code: CodeTimeout}
		}
		return echoHandler(ctx, req)
	}
	srv := startServer(t, []string{testToken}, handler)
	cs := srv.dial(t, testToken)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cs.Call(ctx, &CacheGet{Key: "hang"}, MsgCacheGetResult)
	elapsed := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, elapsed, 2*time.Second)
	select {
	case <-handled:
	case <-time.After(5 * time.Second):
		t.Fatal("the server's handler was not told the client gave up")
	}

	// The session survives a timed-out call.
	resp, err := cs.Call(testContext(t, 5*time.Second), &Status{}, MsgStatusResult)
	require.NoError(t, err)
	assert.Equal(t, "test-server", resp.(*StatusResult).Server)
}

func TestCallCancel(t *testing.T) {
	srv := startServer(t, []string{testToken}, echoHandler)
	cs := srv.dial(t, testToken)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := cs.Call(ctx, &CacheGet{Key: "hang"}, MsgCacheGetResult)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second)

	_, err = cs.Call(ctx, &Status{}, MsgStatusResult)
	require.ErrorIs(t, err, context.Canceled, "an ended ctx fails before opening a stream")
}

func TestCallClosedSession(t *testing.T) {
	srv := startServer(t, []string{testToken}, echoHandler)
	cs := srv.dial(t, testToken)
	require.NoError(t, cs.Close())
	assert.True(t, cs.IsClosed())
	_, err := cs.Call(testContext(t, time.Second), &Status{}, MsgStatusResult)
	require.ErrorIs(t, err, yamux.ErrSessionShutdown)
}

func TestCallNilRequest(t *testing.T) {
	srv := startServer(t, []string{testToken}, echoHandler)
	cs := srv.dial(t, testToken)
	_, err := cs.Call(testContext(t, time.Second), nil, MsgStatusResult)
	require.Error(t, err)
}

func TestDial(t *testing.T) {
	srv := startServer(t, []string{testToken}, echoHandler)
	t.Run("wrong token", func(t *testing.T) {
		_, err := Dial(testContext(t, 5*time.Second), srv.addr, "wrong", "me", testTransport(t))
		require.ErrorIs(t, err, ErrAuth)
		assert.NotContains(t, err.Error(), "wrong")
	})
	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		l.Close()
		_, err = Dial(testContext(t, 5*time.Second), addr, testToken, "me", testTransport(t))
		require.Error(t, err)
	})
	t.Run("server that never speaks", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				defer c.Close()
				time.Sleep(2 * time.Second)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err = Dial(ctx, l.Addr().String(), testToken, "me", testTransport(t))
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestServeEnds(t *testing.T) {
	t.Run("ctx cancelled", func(t *testing.T) {
		cc, sc := connPair(t, "tcp")
		ssess, err := yamux.Server(sc, YamuxConfig())
		require.NoError(t, err)
		csess, err := yamux.Client(cc, YamuxConfig())
		require.NoError(t, err)
		defer csess.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, ssess, echoHandler) }()
		cs := &ClientSession{sess: csess}
		_, err = cs.Call(testContext(t, 5*time.Second), &Status{}, MsgStatusResult)
		require.NoError(t, err)
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		assert.True(t, ssess.IsClosed())
		assert.Eventually(t, cs.IsClosed, 5*time.Second, 10*time.Millisecond)
	})
	t.Run("client closes", func(t *testing.T) {
		cc, sc := connPair(t, "pipe")
		ssess, err := yamux.Server(sc, YamuxConfig())
		require.NoError(t, err)
		csess, err := yamux.Client(cc, YamuxConfig())
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- Serve(context.Background(), ssess, echoHandler) }()
		// A handler still running when the session goes is cancelled, and
		// Serve waits for it.
		cs := &ClientSession{sess: csess}
		go func() { _, _ = cs.Call(context.Background(), &CacheGet{Key: "hang"}, MsgCacheGetResult) }()
		time.Sleep(100 * time.Millisecond)
		require.NoError(t, csess.Close())
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return")
		}
	})
	t.Run("nil arguments", func(t *testing.T) {
		require.Error(t, Serve(context.Background(), nil, echoHandler))
	})
}

// A stream that sends garbage, or a frame past the limits, is answered with
// an Error and the session goes on.
func TestServeRefusesBadRequests(t *testing.T) {
	srv := startServer(t, []string{testToken}, echoHandler)
	cs := srv.dial(t, testToken)
	tests := []struct {
		name  string
		bytes []byte
		code  string
	}{
		{"garbage", []byte("\xffgarbage-garbage"), CodeMalformed},
		{"huge frame", frameBytes(MsgCompileRequest, codecRaw, MaxMessageSize+1, MaxMessageSize+1, nil), CodeTooLarge},
		{"trailing bytes", rawFrame(MsgStatus, []byte{0}), CodeMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := cs.sess.OpenStream()
			require.NoError(t, err)
			defer st.Close()
			require.NoError(t, st.SetDeadline(time.Now().Add(5*time.Second)))
			_, err = st.Write(tc.bytes)
			require.NoError(t, err)
			_, err = ReadExpect(st, MsgStatusResult)
			var re *RemoteError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, tc.code, re.Code)
		})
	}
	_, err := cs.Call(testContext(t, 5*time.Second), &Status{}, MsgStatusResult)
	require.NoError(t, err)
}

func TestYamuxConfig(t *testing.T) {
	c := YamuxConfig()
	require.NoError(t, yamux.VerifyConfig(c))
	assert.Equal(t, uint32(4<<20), c.MaxStreamWindowSize)
	assert.Equal(t, 15*time.Second, c.KeepAliveInterval)
	assert.Equal(t, 10*time.Second, c.ConnectionWriteTimeout)
	assert.True(t, c.EnableKeepAlive)
}

// chunkWriter never hands the stream more than maxWriteChunk at once.
type recordingWriter struct{ sizes []int }

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return len(p), nil
}

func TestChunkWriter(t *testing.T) {
	var rw recordingWriter
	n, err := chunkWriter{&rw}.Write(make([]byte, 2*maxWriteChunk+5))
	require.NoError(t, err)
	assert.Equal(t, 2*maxWriteChunk+5, n)
	assert.Equal(t, []int{maxWriteChunk, maxWriteChunk, 5}, rw.sizes)
}
