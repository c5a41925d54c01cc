package protocol

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// pending returns how many bytes the kernel has received on conn (on the TCP
// connection under it, for TLS) that this process has not read yet, or -1
// when that cannot be told.
func pending(conn net.Conn) int {
	if t, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = t.NetConn() // TLS: the TCP connection under it
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	_ = raw.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
