package compile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// cacheDirGone says why the cache's directory is no longer the one the
// daemon opened (removed, as users reset a cache with rm -rf ~/.dcc, or
// replaced by a new daemon's), or nil while it still is, or cannot be told.
func (s *Service) cacheDirGone() error {
	if s.cacheDir == nil {
		return nil
	}
	fi, err := os.Stat(s.opts.CacheDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s was removed", s.opts.CacheDir)
	case err != nil:
		return nil
	case !os.SameFile(fi, s.cacheDir):
		return fmt.Errorf("%s was replaced", s.opts.CacheDir)
	}
	return nil
}
