package depfile

import (
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUserDeps follows gcc's rules on small made-up compiles; the real
// gcc's -MMD is compared in compile's tests.
func TestUserDeps(t *testing.T) {
	abs := func(p string) string {
		if path.IsAbs(p) {
			return path.Clean(p)
		}
		return path.Join("/w", p)
	}
	user := func(lines ...int) HeaderFacts { return HeaderFacts{QuoteSearch: true, SystemHeader: lines} }
	plain := HeaderFacts{}
	tests := []struct {
		name  string
		list  []string
		incl  []Inclusion
		facts map[string]HeaderFacts
		want  []string
		err   string
	}{
		{
			name: "user and system headers",
			list: []string{"a.c", "/usr/include/stdio.h", "/usr/include/bits/x.h", "inc/a.h", "inc/b.h"},
			incl: []Inclusion{
				{"/w/a.c", "/usr/include/stdio.h", 1, DirSystem},
				{"/usr/include/stdio.h", "/usr/include/bits/x.h", 3, DirSystem},
				{"/w/a.c", "/w/inc/a.h", 2, DirUser},
				{"/w/inc/a.h", "/w/inc/b.h", 1, DirIncluder},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/usr/include/stdio.h": plain, "/usr/include/bits/x.h": plain,
				"/w/inc/a.h": user(), "/w/inc/b.h": plain},
			want: []string{"a.c", "inc/a.h", "inc/b.h"},
		},
		{
			name: "a user header read first from a system header",
			list: []string{"a.c", "/sys/s.h", "inc/cfg.h"},
			incl: []Inclusion{
				{"/w/a.c", "/sys/s.h", 1, DirSystem},
				{"/sys/s.h", "/w/inc/cfg.h", 1, DirUser},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/sys/s.h": plain, "/w/inc/cfg.h": plain},
			want:  []string{"a.c"},
		},
		{
			name: "a user header that may be read first from either",
			list: []string{"a.c", "/sys/s.h", "inc/cfg.h"},
			incl: []Inclusion{
				{"/w/a.c", "/sys/s.h", 1, DirSystem},
				{"/sys/s.h", "/w/inc/cfg.h", 1, DirUser},
				{"/w/a.c", "/w/inc/cfg.h", 2, DirUser},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/sys/s.h": plain, "/w/inc/cfg.h": plain},
			err:   "inc/cfg.h: it may have been read first",
		},
		{
			name: "only includers read before count",
			list: []string{"a.c", "inc/cfg.h", "/sys/s.h"},
			incl: []Inclusion{
				{"/w/a.c", "/sys/s.h", 2, DirSystem},
				{"/sys/s.h", "/w/inc/cfg.h", 1, DirUser},
				{"/w/a.c", "/w/inc/cfg.h", 1, DirUser},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/sys/s.h": plain, "/w/inc/cfg.h": plain},
			want:  []string{"a.c", "inc/cfg.h"},
		},
		{
			// The source's line 3 read local.h, which nothing else can
			// include, after cfg.h was read: cfg.h came from line 1's
			// vendor.h, a system header, and so did what cfg.h includes.
			name: "the source's lines run in order",
			list: []string{"a.c", "/sys/vendor.h", "inc/cfg.h", "inc/detail.h", "src/local.h", "inc/late.h"},
			incl: []Inclusion{
				{"/w/a.c", "/sys/vendor.h", 1, DirSystem},
				{"/sys/vendor.h", "/w/inc/cfg.h", 2, DirUser},
				{"/w/inc/cfg.h", "/w/inc/detail.h", 3, DirIncluder},
				{"/w/a.c", "/w/src/local.h", 3, DirUser},
				{"/w/a.c", "/w/inc/cfg.h", 4, DirUser},
				{"/w/inc/cfg.h", "/w/inc/late.h", 5, DirIncluder},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/sys/vendor.h": plain, "/w/inc/cfg.h": user(),
				"/w/inc/detail.h": plain, "/w/src/local.h": plain, "/w/inc/late.h": plain},
			// late.h, first read after the source's line 4 may have read
			// cfg.h again (as a user header), may be either.
			err: "inc/late.h: it may have been read first",
		},
		{
			name: "the source's lines run in order, and nothing is left unsure",
			list: []string{"a.c", "/sys/vendor.h", "inc/cfg.h", "inc/detail.h", "src/local.h"},
			incl: []Inclusion{
				{"/w/a.c", "/sys/vendor.h", 1, DirSystem},
				{"/sys/vendor.h", "/w/inc/cfg.h", 2, DirUser},
				{"/w/inc/cfg.h", "/w/inc/detail.h", 3, DirIncluder},
				{"/w/a.c", "/w/src/local.h", 3, DirUser},
				{"/w/a.c", "/w/inc/cfg.h", 4, DirUser},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/sys/vendor.h": plain, "/w/inc/cfg.h": user(),
				"/w/inc/detail.h": plain, "/w/src/local.h": plain},
			want: []string{"a.c", "src/local.h"},
		},
		{
			name: "#pragma GCC system_header: includes after it are system",
			list: []string{"a.c", "inc/w.h", "inc/before.h", "inc/after.h"},
			incl: []Inclusion{
				{"/w/a.c", "/w/inc/w.h", 1, DirUser},
				{"/w/inc/w.h", "/w/inc/before.h", 1, DirUser},
				{"/w/inc/w.h", "/w/inc/after.h", 5, DirUser},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/w/inc/w.h": user(3), "/w/inc/before.h": plain, "/w/inc/after.h": plain},
			err:   "inc/after.h: it may have been read first",
		},
		{
			name: "#pragma GCC system_header in a system header changes nothing",
			list: []string{"a.c", "/sys/s.h", "/sys/t.h"},
			incl: []Inclusion{
				{"/w/a.c", "/sys/s.h", 1, DirSystem},
				{"/sys/s.h", "/sys/t.h", 5, DirIncluder},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/sys/s.h": user(1), "/sys/t.h": plain},
			want:  []string{"a.c"},
		},
		{
			name: "the own directory keeps the state of the first file that searched it",
			list: []string{"a.c", "/sys/s.h", "/sys/u.h", "/sys/v.h"},
			incl: []Inclusion{
				{"/w/a.c", "/sys/s.h", 1, DirSystem},
				// A user file in /sys (reached by a quoted relative name
				// from the source) reads v.h from its own directory,
				// whose entry s.h made as a system one.
				{"/w/a.c", "/sys/u.h", 2, DirIncluder},
				{"/sys/u.h", "/sys/v.h", 1, DirIncluder},
			},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/sys/s.h": user(), "/sys/u.h": user(), "/sys/v.h": plain},
			err:   "/sys/v.h: it may have been read first",
		},
		{
			name:  "a line marker",
			list:  []string{"a.c", "inc/a.h"},
			incl:  []Inclusion{{"/w/a.c", "/w/inc/a.h", 1, DirUser}},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/w/inc/a.h": {Unknown: "line marker"}},
			err:   "line marker",
		},
		{
			name:  "no includer",
			list:  []string{"a.c", "inc/a.h"},
			facts: map[string]HeaderFacts{"/w/a.c": user(), "/w/inc/a.h": plain},
			err:   "no file read before it includes it",
		},
		{
			name:  "a file not described",
			list:  []string{"a.c", "inc/a.h"},
			incl:  []Inclusion{{"/w/a.c", "/w/inc/a.h", 1, DirUser}},
			facts: map[string]HeaderFacts{"/w/a.c": user()},
			err:   "nothing known",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UserDeps(tt.list, abs, tt.incl, tt.facts)
			if tt.err != "" {
				require.ErrorIs(t, err, ErrUnsure)
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
