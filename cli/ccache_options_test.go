package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCCacheOption(t *testing.T) {
	tests := []struct {
		args    []string
		want    []string
		ok      bool
		wantErr string
	}{
		{[]string{"-s"}, []string{"stats"}, true, ""},
		{[]string{"--show-stats"}, []string{"stats"}, true, ""},
		{[]string{"-z"}, []string{"stats", "--zero"}, true, ""},
		{[]string{"--zero-stats"}, []string{"stats", "--zero"}, true, ""},
		{[]string{"-C"}, []string{"clear"}, true, ""},
		{[]string{"-p"}, []string{"config"}, true, ""},
		{[]string{"-V"}, []string{"version"}, true, ""},
		{[]string{"-M", "10G"}, []string{"config", "set", "max_size", "10G"}, true, ""},
		{[]string{"--max-size", "500M"}, []string{"config", "set", "max_size", "500M"}, true, ""},
		{[]string{"--max-size=2GiB"}, []string{"config", "set", "max_size", "2GiB"}, true, ""},
		{[]string{"-M"}, nil, true, "-M takes one size"},
		{[]string{"-M", "1G", "x"}, nil, true, "-M takes one size"},
		{[]string{"-s", "-v"}, nil, true, "-s takes no arguments (dcc stats does the same)"},
		{[]string{"stats"}, nil, false, ""},
		{[]string{"--frobnicate"}, nil, false, ""},
		{nil, nil, false, ""},
	}
	for _, tt := range tests {
		got, ok, err := ccacheOption(tt.args)
		assert.Equal(t, tt.ok, ok, "%v", tt.args)
		if tt.wantErr != "" {
			require.Error(t, err, "%v", tt.args)
			assert.Contains(t, err.Error(), tt.wantErr)
			continue
		}
		require.NoError(t, err, "%v", tt.args)
		assert.Equal(t, tt.want, got, "%v", tt.args)
	}
}

// TestCCacheOptionsRun: "dcc -M 2G" and "dcc -p" do what "ccache -M 2G" and
// "ccache -p" do, through dcc's own commands.
func TestCCacheOptionsRun(t *testing.T) {
	t.Setenv("DCC_DIR", filepath.Join(t.TempDir(), "dcc"))
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Execute(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, _, errOut := run("-M", "2G")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := run("-p")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `max_size\s+2G\s+file`, out)
	code, out, _ = run("-V")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "dcc "+Version)
	code, _, errOut = run("-M", "lots")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "max_size")
	code, _, errOut = run("-s", "extra")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-s takes no arguments")
}
