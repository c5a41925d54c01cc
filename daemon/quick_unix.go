//go:build unix

package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// QuickCompile is Dial and Client.Compile in one, for the wrapper's hot
// path: one connection made and used with plain blocking system calls (no
// network poller, goroutines or timers, which cost a process that lives for
// one compile more than the exchange itself), and the hello and the request
// sent together. Connecting and the handshake are bounded by timeout; the
// compile is not, as with Compile under a context without deadline. Like
// Dial, it fails with ErrNotRunning when no daemon listens on socketPath and
// with ErrVersionMismatch when the daemon is another build: the caller then
// goes the long way (Ensure), which starts or replaces the daemon.
func QuickCompile(socketPath, buildID string, req CompileRequest, timeout time.Duration) (CompileResult, error) {
	self := hello{Magic: helloMagic, Protocol: ProtocolVersion, BuildID: buildID, PID: os.Getpid()}
	helloFrame, err := encodeMessage(&message{Op: opHello, Hello: &self})
	if err != nil {
		return CompileResult{}, err
	}
	reqFrame, err := encodeMessage(&message{Op: opCompile, Compile: &req})
	if err != nil {
		return CompileResult{}, err
	}
	f, err := dialBlocking(socketPath, timeout)
	if err != nil {
		return CompileResult{}, err
	}
	defer f.Close()
	if _, err := f.Write(append(helloFrame, reqFrame...)); err != nil {
		return CompileResult{}, quickError(opHello, err)
	}
	reply, err := readMessage(f)
	if err == nil {
		err = self.checkReply(reply)
	}
	if err != nil {
		return CompileResult{}, fmt.Errorf("daemon on %s: %w", socketPath, quickError(opHello, err))
	}
	// The compile takes as long as it takes: its reply is awaited in the
	// network poller, since a thread blocked in read for long keeps the
	// runtime's monitor waking every 20 µs for its first 10 ms.
	r := pollable(f)
	defer r.Close()
	reply, err = readMessage(r)
	switch {
	case err != nil:
		return CompileResult{}, quickError(opCompile, err)
	case !reply.Reply:
		return CompileResult{}, fmt.Errorf("%w: a request from the daemon", ErrProtocol)
	case reply.err() != nil:
		return CompileResult{}, fmt.Errorf("daemon %v: %w", opCompile, reply.err())
	case reply.Op != opCompile:
		return CompileResult{}, fmt.Errorf("%w: %v reply to a %v request", ErrProtocol, reply.Op, opCompile)
	case reply.Result == nil:
		return CompileResult{}, nil
	}
	return *reply.Result, nil
}

// dialBlocking connects a blocking Unix socket to socketPath, with timeout
// on every send and receive.
func dialBlocking(socketPath string, timeout time.Duration) (*os.File, error) {
	if err := checkSocketPath(socketPath); err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("connect to the daemon: %w", err)
	}
	f := os.NewFile(uintptr(fd), socketPath)
	tv := syscall.NsecToTimeval(timeout.Nanoseconds())
	for _, opt := range []int{syscall.SO_SNDTIMEO, syscall.SO_RCVTIMEO} {
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			f.Close()
			return nil, fmt.Errorf("daemon socket timeout: %w", err)
		}
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: socketPath})
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		f.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrNotRunning, socketPath, err)
	default:
		f.Close()
		return nil, fmt.Errorf("connect to the daemon: %w", err)
	}
}

// pollable returns f's connection as a file read through the network
// poller (a non-blocking duplicate, to close after use), or an unclosing
// f itself should that fail.
func pollable(f *os.File) io.ReadCloser {
	dup, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return io.NopCloser(f)
	}
	syscall.CloseOnExec(dup)
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return io.NopCloser(f)
	}
	return os.NewFile(uintptr(dup), f.Name())
}
