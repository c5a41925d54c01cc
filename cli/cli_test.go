package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/dcc-build/dcc/wrapper"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The wrapper tells "dcc stats" from "dcc gcc" by its own list of command
// names (it links none of the commands): the list and the commands agree.
func TestCommandNamesMatchCommands(t *testing.T) {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	assert.ElementsMatch(t, append(names, "help"), wrapper.CommandNames)
	for name, want := range map[string]bool{
		"explain": true, "install-links": true, "version": true, "help": true,
		"gcc": false, "clang++": false, "cl.exe": false, "": false,
	} {
		assert.Equal(t, want, wrapper.IsCommand(name), name)
	}
}

func TestExecute(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string
		wantErrOut string
	}{
		{"help", []string{"help"}, 0, "Commands:", ""},
		{"no args", nil, 0, "Commands:", ""},
		{"help of a command", []string{"help", "install-links"}, 0, "usage: dcc install-links DIR", ""},
		{"version", []string{"version"}, 0, "dcc " + Version, ""},
		{"--version", []string{"--version"}, 0, "dcc " + Version, ""},
		{"version with args", []string{"version", "x"}, 2, "", "usage: dcc version"},
		{"unknown option", []string{"--frobnicate"}, 2, "", `unknown command or option "--frobnicate"`},
		{"install-links without dir", []string{"install-links"}, 2, "", "install-links takes one directory"},
		{"install-links --help", []string{"install-links", "--help"}, 0, "usage: dcc install-links DIR", ""},
		{"explain without command", []string{"explain"}, 2, "", "explain needs a compiler command"},
		{"explain --help", []string{"explain", "--help"}, 0, "usage: dcc explain", ""},
		{"explain", []string{"explain", "gcc", "-c", "a.c"}, 0, `"action": "remote"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(context.Background(), tt.args, &out, &errOut)
			assert.Equal(t, tt.wantCode, code, errOut.String())
			assert.Contains(t, out.String(), tt.wantOut)
			assert.Contains(t, errOut.String(), tt.wantErrOut)
		})
	}
}

func TestExplainJSONShape(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, 0, Execute(context.Background(), []string{"explain", "gcc", "-MD", "-c", "d/a.c"}, &out, &bytes.Buffer{}))
	var got map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	for _, key := range []string{"action", "reason", "family", "language", "source", "outputs"} {
		assert.Contains(t, got, key)
	}
	assert.Equal(t, map[string]any{"object": "a.o", "deps": "a.d"}, got["outputs"])
}
