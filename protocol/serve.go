package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

// ServeLimits bound what one session may make a server hold.
type ServeLimits struct {
	// Streams is how many requests of the session are read and answered at
	// once (DefaultSessionStreams when 0); the session's further streams
	// wait for their turn.
	Streams int
	// Open is how many streams of the session are accepted and not yet
	// closed by both sides (DefaultSessionOpen when 0); past it, further
	// streams wait in yamux's backlog (ServerAcceptBacklog).
	Open int
	// CloseWait is how long the server waits, once it answered a stream,
	// for the client to close it before it closes the session
	// (DefaultCloseWait when 0).
	CloseWait time.Duration
	// Budget is the memory requests may hold, shared with the server's
	// other sessions (a budget of DefaultBudget for this session alone when
	// nil). Every accepted stream takes its receive window (StreamWindow)
	// from it until closed, and every request its declared size.
	Budget *Budget
}

// DefaultSessionStreams is ServeLimits.Streams when not set.
const DefaultSessionStreams = 64

// ServeWithin is Serve within limits. The session should have been made
// with ServerYamuxConfig, whose stream window is the one charged.
func ServeWithin(ctx context.Context, sess *yamux.Session, handle func(ctx context.Context, req Message) Message, limits ServeLimits) error {
	if sess == nil || handle == nil {
		return errors.New("protocol: serve: nil session or handler")
	}
	if limits.Streams <= 0 {
		limits.Streams = DefaultSessionStreams
	}
	if limits.Open <= 0 {
		limits.Open = DefaultSessionOpen
	}
	if limits.Budget == nil {
		limits.Budget = NewBudget(DefaultBudget)
	}
	if limits.CloseWait <= 0 {
		limits.CloseWait = DefaultCloseWait
	}
	// Accepted streams queue in order for at most Streams workers, each
	// holding its window of the budget until the client closed it.
	queue := make(chan *yamux.Stream, limits.Open)
	open := make(chan struct{}, limits.Open)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(queue)
	defer sess.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = sess.Close() })
	defer stop()
	go func() {
		select {
		case <-sess.CloseChan():
			cancel()
		case <-sctx.Done():
		}
	}()
	const window = int64(StreamWindow)
	worker := func() {
		for st := range queue {
			serveStream(ctx, st, handle, limits.Budget)
			wg.Go(func() {
				if !awaitClose(st, limits.CloseWait) {
					_ = sess.Close() // it leaves answered streams open: no more
				}
				limits.Budget.releaseWindow(window)
				<-open
			})
		}
	}
	backlog := int64(0) // taken once the session reached its limit
	defer func() { limits.Budget.releaseWindow(backlog) }()
	for workers := 0; ; {
		select {
		case open <- struct{}{}:
		default:
			if backlog == 0 {
				if err := limits.Budget.acquireWindow(sctx, ServerAcceptBacklog*window); err != nil {
					return serveEnded(ctx)
				}
				backlog = ServerAcceptBacklog * window
			}
			select {
			case open <- struct{}{}:
			case <-sctx.Done():
				return serveEnded(ctx)
			}
		}
		st, err := sess.AcceptStream()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return fmt.Errorf("protocol: serve: %w", ctx.Err())
			case errors.Is(err, yamux.ErrSessionShutdown), errors.Is(err, io.EOF):
				return nil
			}
			return fmt.Errorf("protocol: serve: %w", err)
		}
		// Like those in the backlog, the stream waits for memory uncharged.
		if err := limits.Budget.acquireWindow(sctx, window); err != nil {
			_ = st.Close()
			return serveEnded(ctx)
		}
		queue <- st
		if workers < limits.Streams && len(queue) > 0 {
			workers++
			wg.Go(worker)
		}
	}
}

// serveEnded is ServeWithin's result once the session or ctx ended.
func serveEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("protocol: serve: %w", err)
	}
	return nil
}
