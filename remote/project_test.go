package remote

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProjectOf(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	mk := func(parts ...string) string {
		d := filepath.Join(append([]string{base}, parts...)...)
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	repo := mk("repo")
	require.NoError(t, os.Mkdir(filepath.Join(repo, ".git"), 0o755))
	sub := mk("repo", "src", "lib")
	worktree := mk("work tree (v2)")
	require.NoError(t, os.WriteFile(filepath.Join(worktree, ".git"), []byte("gitdir: elsewhere\n"), 0o644))
	plain := mk("plain", "dir")
	require.NoError(t, os.Symlink(repo, filepath.Join(base, "link")))

	name := func(_, shown string) string { return shown }
	tests := []struct {
		name, dir, want string
	}{
		{"repository root", repo, name(repo, "repo")},
		{"inside a repository", sub, name(repo, "repo")},
		{"relative path inside", filepath.Join(sub, "..", ".."), name(repo, "repo")},
		{"through a symlink", filepath.Join(base, "link", "src"), name(repo, "repo")},
		{"a .git file, odd name", worktree, name(worktree, "work_tree__v2_")},
		{"no repository", plain, name(plain, "dir")},
		{"root", "/", name("/", "root")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ProjectOf(tt.dir)
			assert.Equal(t, tt.want, got)
			assert.Regexp(t, regexp.MustCompile(`^[A-Za-z0-9._-]+$`), got)
			assert.Equal(t, got, ProjectOf(tt.dir), "memoized answer")
		})
	}
}

func TestProjectName(t *testing.T) {
	tests := []struct{ root, want string }{
		{"/x/.hidden", "_hidden"},
		{"/x/naïve", "na_ve"},
		{"/x/a.b_c-d", "a.b_c-d"},
		{"/x/" + strings.Repeat("long", 30), strings.Repeat("long", 16)},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, projectName(tt.root), tt.root)
	}
}

// Two checkouts of one project in different places share a namespace, and
// DCC_PROJECT names it outright.
func TestProjectOfSharedAcrossCheckouts(t *testing.T) {
	a := filepath.Join(t.TempDir(), "zlib")
	b := filepath.Join(t.TempDir(), "zlib")
	require.NoError(t, os.MkdirAll(a, 0o755))
	require.NoError(t, os.MkdirAll(b, 0o755))
	assert.Equal(t, ProjectOf(a), ProjectOf(b))
	t.Setenv("DCC_PROJECT", "team/lib")
	assert.Equal(t, "team_lib", ProjectOf(a))
}
