//go:build !linux

package protocol

import "net"

// pending returns -1: how many received bytes wait unread is not told here.
func pending(net.Conn) int { return -1 }
