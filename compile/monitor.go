package compile

import (
	"context"

	"github.com/dcc-build/dcc/daemon"
)

var _ daemon.HostMonitor = (*Service)(nil)

// MonitorHosts reports each configured compile host for "dcc monitor"
// (daemon.HostMonitor): the pool's report with each host's load asked now
// and this client's jobs in flight there, or Hosts' without contacting any
// when the pool cannot give it.
func (s *Service) MonitorHosts(ctx context.Context) ([]daemon.HostReport, error) {
	if s.opts.Hosts == nil {
		return nil, errNoHosts
	}
	if m, ok := s.opts.Hosts.(daemon.HostMonitor); ok {
		return m.MonitorHosts(ctx)
	}
	return s.opts.Hosts.Hosts(ctx, false)
}
