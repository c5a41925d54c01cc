package scale

import (
	"context"
	"fmt"
	"net"
	"net/http"
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

// getFromHost GETs path from h's --http address; a status other than 200
// is an error. The caller closes the body.
func getFromHost(ctx context.Context, httpc *http.Client, h *farmHost, path string) (*http.Response, error) {
	url := fmt.Sprintf("http://%s:%d%s", h.ip, httpPort, path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp, nil
}
