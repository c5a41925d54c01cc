//go:build unix

package daemon

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// remoteBackend is a fakeBackend that also compiles remotely.
type remoteBackend struct {
	fakeBackend
	hosts    []HostReport
	cleaned  []CleanReport
	err      error
	mu       sync.Mutex
	checks   []bool
	projects []string
}

func (b *remoteBackend) Hosts(ctx context.Context, check bool) ([]HostReport, error) {
	b.mu.Lock()
	b.checks = append(b.checks, check)
	b.mu.Unlock()
	return b.hosts, b.err
}

func (b *remoteBackend) CleanRemote(ctx context.Context, project string) ([]CleanReport, error) {
	b.mu.Lock()
	b.projects = append(b.projects, project)
	b.mu.Unlock()
	return b.cleaned, b.err
}

func TestRemoteRequests(t *testing.T) {
	hosts := []HostReport{
		{Host: "127.0.0.2:9693", Jobs: 4, Contacted: true, Reachable: true, Authenticated: true, Server: "h2",
			Toolchains: []HostToolchain{{Key: "id2-1", Family: "gcc", Driver: "gcc", Version: "12.2.0", Target: "x86_64-linux-gnu"}},
			Slots:      2, Running: 1, InFlight: 1, Sent: 3, OK: 2, Failed: 1},
		{Host: "127.0.0.3:9693", Jobs: 8, Contacted: true, Reachable: true, Error: "token refused", Backoff: 2 * time.Second},
	}
	cleaned := []CleanReport{{Host: "127.0.0.2:9693", Removed: 7}, {Host: "127.0.0.3:9693", Error: "token refused"}}
	tests := []struct {
		name    string
		backend Backend
		check   func(t *testing.T, c *Client, b Backend)
	}{
		{"hosts without check", &remoteBackend{hosts: hosts}, func(t *testing.T, c *Client, b Backend) {
			got, err := c.Hosts(context.Background(), false)
			require.NoError(t, err)
			assert.Equal(t, hosts, got)
			assert.Equal(t, []bool{false}, b.(*remoteBackend).checks)
		}},
		{"hosts with check", &remoteBackend{hosts: hosts}, func(t *testing.T, c *Client, b Backend) {
			_, err := c.Hosts(context.Background(), true)
			require.NoError(t, err)
			assert.Equal(t, []bool{true}, b.(*remoteBackend).checks)
		}},
		{"no hosts", &remoteBackend{}, func(t *testing.T, c *Client, b Backend) {
			got, err := c.Hosts(context.Background(), false)
			require.NoError(t, err)
			assert.Empty(t, got)
		}},
		{"clean", &remoteBackend{cleaned: cleaned}, func(t *testing.T, c *Client, b Backend) {
			got, err := c.CleanRemote(context.Background(), "proj-0123456789ab")
			require.NoError(t, err)
			assert.Equal(t, cleaned, got)
			assert.Equal(t, []string{"proj-0123456789ab"}, b.(*remoteBackend).projects)
		}},
		{"backend error keeps the connection", &remoteBackend{err: errors.New("pool closed")}, func(t *testing.T, c *Client, b Backend) {
			_, err := c.Hosts(context.Background(), true)
			require.ErrorIs(t, err, ErrDaemon)
			assert.Equal(t, "daemon hosts: daemon request failed: hosts: pool closed", err.Error())
			_, err = c.CleanRemote(context.Background(), "p")
			require.ErrorIs(t, err, ErrDaemon)
			assert.Contains(t, err.Error(), `clean project "p" on the hosts: pool closed`)
			_, err = c.Status(context.Background())
			assert.NoError(t, err)
		}},
		{"backend without remote", &fakeBackend{}, func(t *testing.T, c *Client, b Backend) {
			_, err := c.Hosts(context.Background(), false)
			require.ErrorIs(t, err, ErrNoRemote)
			assert.Equal(t, "daemon hosts: the daemon does not support remote hosts", err.Error())
			_, err = c.CleanRemote(context.Background(), "p")
			require.ErrorIs(t, err, ErrNoRemote)
			_, err = c.Status(context.Background())
			assert.NoError(t, err, "the connection stays usable")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := serve(t, ServerOptions{}, tt.backend)
			tt.check(t, dial(t, r.socket), tt.backend)
		})
	}
}

// A hosts check that takes long is cancelled with the client's context.
func TestRemoteRequestCancelled(t *testing.T) {
	block := make(chan struct{})
	b := &blockingRemote{block: block}
	r := serve(t, ServerOptions{}, b)
	c := dial(t, r.socket)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Hosts(ctx, true)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
	select {
	case <-block:
	case <-time.After(10 * time.Second):
		t.Fatal("the backend's context was not cancelled when the client went away")
	}
}

// blockingRemote waits in Hosts until its context ends, then closes block.
type blockingRemote struct {
	fakeBackend
	block chan struct{}
}

func (b *blockingRemote) Hosts(ctx context.Context, check bool) ([]HostReport, error) {
	<-ctx.Done()
	close(b.block)
	return nil, ctx.Err()
}

func (b *blockingRemote) CleanRemote(ctx context.Context, project string) ([]CleanReport, error) {
	return nil, nil
}
