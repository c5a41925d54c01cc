package scale

import (
	"context"
	"fmt"
	"net"
	"time"
)

// netDialer dials with a short timeout.
type netDialer struct{}

// dial connects to addr within 200 ms.
func (netDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 200 * time.Millisecond}
	return d.DialContext(ctx, "tcp", addr)
}

// checkFree fails when something already listens on addr (another
// simulation, say), which the host about to start there would not notice
// from its own dial.
func checkFree(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s is taken (another dcc-scale running?): %w", addr, err)
	}
	return l.Close()
}
