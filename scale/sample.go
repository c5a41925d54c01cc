package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// samples is what the sampler saw of hosts and clients while a row ran.
type samples struct {
	mu sync.Mutex
	// n counts the samples; queuedWhileIdle those in which a host had
	// units waiting for a slot while another host had a free slot.
	n, queuedWhileIdle int
	// maxQueued is the most units one host had waiting.
	maxQueued int
	// hostFDs, hostRSS are the most open files and resident bytes of one
	// host; hostRSSSum the largest sum over all hosts.
	hostFDs          int
	hostRSS, hostSum int64
	// clientFDs is the most open files of one client's daemon.
	clientFDs int
}

// hostLoad is the part of a dcc-server's /status.json the sampler reads.
type hostLoad struct {
	Slots  int `json:"slots"`
	Busy   int `json:"busy"`
	Queued int `json:"queued"`
}

// sample polls hosts and clients every interval until ctx ends.
func sample(ctx context.Context, f *farm, clients []*client, interval time.Duration) *samples {
	s := &samples{}
	httpc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-ctx.Done():
			if s.n == 0 { // a short row: one sample at its end
				end, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				s.once(end, f, clients, httpc)
				cancel()
			}
			return s
		case <-time.After(interval):
		}
		s.once(ctx, f, clients, httpc)
	}
}

// once takes one sample.
func (s *samples) once(ctx context.Context, f *farm, clients []*client, httpc *http.Client) {
	var sum int64
	for _, h := range f.hosts {
		rss, _ := procMem(h.proc.pid())
		fds := procFDs(h.proc.pid())
		sum += rss
		s.hostRSS, s.hostFDs = max(s.hostRSS, rss), max(s.hostFDs, fds)
	}
	s.hostSum = max(s.hostSum, sum)
	for _, c := range clients {
		if c.daemon != nil {
			s.clientFDs = max(s.clientFDs, procFDs(c.daemon.pid()))
		}
	}
	if f.kind != "dcc" {
		s.n++
		return
	}
	loads := make([]hostLoad, len(f.hosts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, h := range f.hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			loads[i], _ = hostStatus(ctx, httpc, h)
		})
	}
	wg.Wait()
	// Units wait on one host while another has a free slot: some host
	// has a queue and some other host a free slot.
	queued, idle, both := 0, 0, 0
	for _, l := range loads {
		s.maxQueued = max(s.maxQueued, l.Queued)
		q, i := l.Queued > 0, l.Slots > 0 && l.Busy < l.Slots
		if q {
			queued++
		}
		if i {
			idle++
		}
		if q && i {
			both++
		}
	}
	s.n++
	if queued > 0 && idle > 0 && !(queued == 1 && idle == 1 && both == 1) {
		s.queuedWhileIdle++
	}
}

// hostStatus reads a dcc-server's /status.json.
func hostStatus(ctx context.Context, httpc *http.Client, h *farmHost) (hostLoad, error) {
	var l hostLoad
	resp, err := getFromHost(ctx, httpc, h, "/status.json")
	if err != nil {
		return l, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		return l, fmt.Errorf("status of %s: %w", h.ip, err)
	}
	return l, nil
}
