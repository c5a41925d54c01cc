package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnit is one suffix ParseSize accepts.
type sizeUnit struct {
	suffix string
	bytes  int64
}

// Size suffixes, as ccache reads them: K, M, G and T are powers of 1000,
// Ki, Mi, Gi and Ti powers of 1024; a trailing B is optional ("10GiB", "5GB").
var (
	binaryUnits  = []sizeUnit{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}}
	decimalUnits = []sizeUnit{{"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}}
)

// errSizeSyntax explains what a size looks like.
var errSizeSyntax = errors.New(`want a number of bytes with an optional unit: K, M, G, T (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), e.g. "5G", "500M", "10GiB"`)

// ParseSize parses a size such as "5G" (5*10^9 bytes), "500M", "10GiB"
// (10*2^30), "1.5Gi" or "1048576" (plain bytes). Units are case-insensitive,
// a trailing "B" is optional, and a space may separate number and unit. The
// result must be positive.
func ParseSize(s string) (int64, error) {
	text := strings.TrimSpace(s)
	upper := strings.ToUpper(text)
	upper = strings.TrimSuffix(upper, "B")
	mult := int64(1)
	for _, u := range append(append([]sizeUnit{}, binaryUnits...), decimalUnits...) {
		if strings.HasSuffix(upper, strings.ToUpper(u.suffix)) {
			upper, mult = strings.TrimSuffix(upper, strings.ToUpper(u.suffix)), u.bytes
			break
		}
	}
	num := strings.TrimSpace(upper)
	if num == "" || strings.ContainsAny(num, "eEnNxX_+-") { // no exponents, Inf, NaN, hex, signs
		return 0, fmt.Errorf("invalid size %q: %w", s, errSizeSyntax)
	}
	if i, err := strconv.ParseInt(num, 10, 64); err == nil {
		if i > math.MaxInt64/mult {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		if i*mult <= 0 {
			return 0, fmt.Errorf("invalid size %q: must be more than zero", s)
		}
		return i * mult, nil
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, errSizeSyntax)
	}
	b := math.Round(n * float64(mult))
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	if b < 1 {
		return 0, fmt.Errorf("invalid size %q: must be more than zero", s)
	}
	return int64(b), nil
}

// FormatSize formats n bytes in a form ParseSize reads back: exactly in the
// largest unit that divides n ("5GiB", "1536MiB", "2G", "512B"), otherwise to
// one decimal in the largest binary unit below it ("1.2GiB", approximate).
func FormatSize(n int64) string {
	if n < 0 {
		if n == math.MinInt64 {
			return strconv.FormatInt(n, 10) + "B"
		}
		return "-" + FormatSize(-n)
	}
	var best sizeUnit
	for _, u := range append(append([]sizeUnit{}, binaryUnits...), decimalUnits...) {
		if n >= u.bytes && n%u.bytes == 0 && u.bytes > best.bytes {
			best = u
		}
	}
	if best.bytes > 0 {
		return strconv.FormatInt(n/best.bytes, 10) + unitName(best)
	}
	for _, u := range binaryUnits {
		if n >= u.bytes {
			return strconv.FormatFloat(float64(n)/float64(u.bytes), 'f', 1, 64) + unitName(u)
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// unitName is how FormatSize writes a unit: "GiB" for binary, "G" for decimal.
func unitName(u sizeUnit) string {
	if strings.HasSuffix(u.suffix, "i") {
		return u.suffix + "B"
	}
	return u.suffix
}
