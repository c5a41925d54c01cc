package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// lockWait takes the lock on path, polling until ctx ends.
func lockWait(ctx context.Context, path string) (*fileLock, error) {
	delay := time.Millisecond
	for {
		l, ok, err := tryLock(path)
		if err != nil || ok {
			return l, err
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("wait for lock %s: %w", path, err)
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

// lockHeld reports whether someone holds the lock on path (a missing file is
// not held).
func lockHeld(path string) (bool, error) {
	l, ok, err := tryLock(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !ok {
		return true, nil
	}
	return false, l.unlock()
}

// sleep waits for d or until ctx ends, returning ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
