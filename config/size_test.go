package config

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"1048576", 1 << 20, ""},
		{"5G", 5e9, ""},
		{"5GB", 5e9, ""},
		{"5g", 5e9, ""},
		{"500M", 500e6, ""},
		{"10GiB", 10 << 30, ""},
		{"10Gi", 10 << 30, ""},
		{"10 GiB", 10 << 30, ""},
		{" 2TiB ", 2 << 40, ""},
		{"3K", 3000, ""},
		{"3KiB", 3072, ""},
		{"1.5GiB", 3 << 29, ""},
		{"512B", 512, ""},
		{"", 0, "invalid size"},
		{"abc", 0, "invalid size"},
		{"G", 0, "invalid size"},
		{"5X", 0, "invalid size"},
		{"-5G", 0, "invalid size"},
		{"+5G", 0, "invalid size"},
		{"0", 0, "more than zero"},
		{"0.0001K", 0, "more than zero"},
		{"1e9", 0, "invalid size"},
		{"NaN", 0, "invalid size"},
		{"Inf", 0, "invalid size"},
		{"0x10", 0, "invalid size"},
		{"9999999999T", 0, "too large"},
		{"9999999999.5T", 0, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "\n")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{5 << 30, "5GiB"},
		{3 << 29, "1536MiB"},
		{5e9, "5G"},
		{2e9, "2G"},
		{1024000, "1000KiB"},
		{512, "512B"},
		{1000, "1K"},
		{1234567, "1.2MiB"},
		{0, "0B"},
		{-2048, "-2KiB"},
		{math.MinInt64, "-9223372036854775808B"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, FormatSize(tt.in), tt.in)
	}
}

// Exact formats read back to the same number of bytes.
func TestFormatSizeRoundTrip(t *testing.T) {
	for _, n := range []int64{1, 512, 1000, 1024, 3 << 29, 5 << 30, 5e9, 7e12, 1 << 50} {
		got, err := ParseSize(FormatSize(n))
		require.NoError(t, err, n)
		assert.Equal(t, n, got, FormatSize(n))
	}
}
