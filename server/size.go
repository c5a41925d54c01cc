package server

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the size suffixes ParseSize reads, all powers of 1024.
var sizeUnits = []struct {
	suffixes []string
	factor   int64
}{
	{[]string{"TIB", "TB", "T"}, 1 << 40},
	{[]string{"GIB", "GB", "G"}, 1 << 30},
	{[]string{"MIB", "MB", "M"}, 1 << 20},
	{[]string{"KIB", "KB", "K"}, 1 << 10},
	{[]string{"B"}, 1},
}

// ParseSize reads a size such as "10GiB", "500M", "1.5G" or "4096". Every unit
// is a power of 1024 (G, GB and GiB alike); case does not matter.
func ParseSize(s string) (int64, error) {
	text := strings.ToUpper(strings.TrimSpace(s))
	factor := int64(1)
	for _, u := range sizeUnits {
		found := false
		for _, suf := range u.suffixes {
			if rest, ok := strings.CutSuffix(text, suf); ok {
				text, factor, found = strings.TrimSpace(rest), u.factor, true
				break
			}
		}
		if found {
			break
		}
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*float64(factor) >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a size such as \"10GiB\", \"500M\" or a number of bytes", s)
	}
	return int64(v * float64(factor)), nil
}

// FormatSize shows n bytes in the largest unit that divides it: "10GiB", "1536KiB", "100B".
func FormatSize(n int64) string {
	for _, u := range sizeUnits[:len(sizeUnits)-1] {
		if n >= u.factor && n%u.factor == 0 {
			name := u.suffixes[0]
			return strconv.FormatInt(n/u.factor, 10) + name[:1] + "iB"
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
