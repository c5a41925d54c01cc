package includescan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScanFileSystemHeader: what can make gcc take the rest of a file for a
// system header is reported, so that dcc knows which headers gcc's -MMD
// leaves out.
func TestScanFileSystemHeader(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		lines     []int
		elsewhere bool
		marker    bool
	}{
		{"none", "#include <stdio.h>\nint system;\n/* system_header */\n// system_header\n", nil, false, false},
		{"pragma", "#include <a.h>\n#pragma GCC system_header\n#include <b.h>\n", []int{2}, false, false},
		{"pragma spelled loosely", "# /**/ pragma GCC \\\n system_header extra\n%:pragma GCC system_header\n", []int{1, 3}, false, false},
		{"other GCC pragma", "#pragma GCC poison system_header\n", nil, true, false},
		{"pragma operator", "_Pragma(\"GCC system_header\")\n", nil, true, false},
		{"pragma operator, spliced", "_Pragma(\"GCC system_\\\nheader\")\n", nil, true, false},
		{"stringified", "#define P(x) _Pragma(#x)\nP(GCC system_header)\n", nil, true, false},
		{"raw string", "const char *s = R\"(system_header)\";\n", nil, true, false},
		{"spliced identifier", "P(GCC system_\\\nheader)\n", nil, true, false},
		{"line marker", "# 33 \"x.h\" 3\nint x;\n", nil, false, true},
		{"line marker spelled loosely", "#/**/ 1 \"x.h\"\n", nil, false, true},
		{"#line is not", "#line 33 \"x.h\"\n", nil, false, false},
		{"a header name is not", "#include <system_header.h>\n", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ScanFile([]byte(tt.src))
			require.NoError(t, err)
			assert.Equal(t, tt.lines, f.SystemHeader, "pragma lines")
			assert.Equal(t, tt.elsewhere, f.SystemHeaderElsewhere, "spelled elsewhere")
			assert.Equal(t, tt.marker, f.LineMarker, "line marker")
		})
	}
}
