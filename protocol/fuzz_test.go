package protocol

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"
	"time"
)

// fuzzSeeds are small valid frames of every type, plus damaged ones.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, m := range []Message{
		&Hello{Version: Version, Server: "host", Nonce: nonce(1)},
		&Auth{Version: Version, Client: "u@h", Nonce: nonce(2), MAC: nonce(3)},
		&Welcome{MAC: nonce(4), Toolchains: []Toolchain{{Key: "id2-ab", Family: "gcc", Driver: "g++", Version: "12", Target: "x86_64-linux-gnu"}}, Load: Load{Slots: 2, Running: 1, Queued: -1}, Sandboxed: true},
		&Error{Code: CodeBusy, Message: "later"},
		&CompileRequest{Toolchain: "id2-ab", Language: "c", Args: []string{"-O2", "-g"}, Preprocessed: []byte("int x;\n"), SourceName: "a.c", ClientDir: "/src", CacheKey: "00", TimeoutMS: 60000},
		&CompileRequest{Preprocessed: bytes.Repeat([]byte("int x;\n"), 200)}, // lz4
		&CompileRequest{Toolchain: "id3-ab", Language: "c", SourceName: "a.c", ClientDir: "/src",
			Sources:     []SourceFile{{Path: "/src/a.c", ModTime: 5, Data: []byte("#include <a.h>\n")}, {Path: "/usr/include/a.h"}},
			IncludeArgs: []string{"-I.", "-DX"}, SystemDirs: []string{"/usr/include"}, Preinclude: "stdc-predef.h"},
		&CompileResult{Object: []byte("obj"), Deps: []string{"a.c", "/usr/include/a.h"}},
		&CompileResult{ExitCode: 1, Stdout: []byte("o"), Stderr: []byte("e"), Cached: true, Load: Load{Slots: 8}},
		&CacheGet{Project: "p", Key: "k"},
		&CacheGetResult{Found: true, Entry: []byte("entry")},
		&CachePut{Project: "p", Key: "k", Entry: []byte("entry")},
		&CachePutResult{Stored: true},
		&Clean{Project: "p"},
		&CleanResult{Removed: 42},
		&Status{},
		&StatusResult{Server: "s", Toolchains: []Toolchain{{}}, Load: Load{Queued: 3}},
	} {
		seeds = append(seeds, mustFrame(f, m))
	}
	lz4Frame := seeds[5]
	seeds = append(seeds,
		nil,
		[]byte{byte(MsgStatus)},
		frameBytes(MsgCachePut, codecRaw, MaxMessageSize+1, MaxMessageSize+1, nil),
		frameBytes(MsgCachePut, codecLZ4, MaxMessageSize, MaxFrameSize, nil),
		frameBytes(MsgCachePut, codecLZ4, 4000, 10, bytes.Repeat([]byte{0xff}, 10)),
		append(append([]byte(nil), lz4Frame[:2]...), append([]byte{0, 0, 0x10, 0}, lz4Frame[6:]...)...),
		rawFrame(MsgCachePutResult, []byte{2}),
		rawFrame(MsgCleanResult, bytes.Repeat([]byte{0xff}, 11)),
		rawFrame(MsgCompileRequest, []byte{0, 0, 0xff, 0xff, 0x03}),
	)
	return seeds
}

// FuzzReadMessage: any bytes either decode or fail with one of the package's
// errors, never panic, and what decodes survives a round trip unchanged.
// Allocation stays within the limits by construction (checked headers,
// payload read as it arrives); the fuzzer's memory limit catches regressions.
func FuzzReadMessage(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMessage(bytes.NewReader(data))
		if err != nil {
			if m != nil {
				t.Fatalf("message %v returned with error %v", m, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, io.EOF) {
				t.Fatalf("error outside the package's sentinels: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := WriteMessage(&buf, m); err != nil {
			t.Fatalf("re-encoding %s: %v", m.Type(), err)
		}
		again, err := ReadMessage(&buf)
		if err != nil {
			t.Fatalf("decoding re-encoded %s: %v", m.Type(), err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed %s:\n%#v\n%#v", m.Type(), m, again)
		}
		if buf.Len() != 0 {
			t.Fatalf("%d bytes left after re-encoded frame", buf.Len())
		}
	})
}

// FuzzServerHandshake: whatever a client sends after Hello, the server
// refuses it with an error (it cannot know the nonce-bound MAC) and never
// panics.
func FuzzServerHandshake(f *testing.F) {
	wrongMAC := mustFrame(f, &Auth{Version: Version, Client: "c", Nonce: nonce(7), MAC: nonce(8)})
	for _, s := range [][]byte{
		wrongMAC,
		mustFrame(f, &Auth{Version: Version + 1}),
		mustFrame(f, &Status{}),
		frameBytes(MsgAuth, codecRaw, MaxMessageSize, MaxMessageSize, nil),
		frameBytes(MsgAuth, codecLZ4, 4000, 20, bytes.Repeat([]byte{0x1f}, 20)),
		wrongMAC[:len(wrongMAC)-5],
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		nil,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cc, sc := net.Pipe()
		defer sc.Close()
		clientDone := make(chan struct{})
		go func() {
			defer close(clientDone)
			defer cc.Close()
			if _, err := ReadExpect(cc, MsgHello); err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, cc) }() // take any refusal
			_, _ = cc.Write(data)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, idx, err := ServerHandshake(ctx, sc, "fuzz", []string{"token"}, nil)
		if err == nil || idx != -1 {
			t.Fatalf("handshake accepted: index %d, err %v", idx, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("handshake hung: %v", err)
		}
		sc.Close()
		<-clientDone
	})
}
