package teamcache

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Spec is one remote storage of remote_storage, in ccache's syntax: a URL
// and attributes after "|" ("redis://cache:6379|read-only|connect-timeout=100").
type Spec struct {
	// Raw is the specification as written (for messages; it may hold a
	// password: never log it).
	Raw string
	// URL is the storage's address.
	URL *url.URL
	// ReadOnly: entries are read, never written.
	ReadOnly bool
	// ConnectTimeout and OperationTimeout bound a connection and one
	// request; zero means the backend's default.
	ConnectTimeout, OperationTimeout time.Duration
	// Layout is an HTTP storage's layout: "flat", "subdirs" or "bazel".
	Layout string
	// Shards are the names that replace "*" in the host, each with its
	// weight, for storages spread over several servers.
	Shards []Shard
	// BearerToken is an HTTP storage's token.
	BearerToken string
}

// Shard is one server of a sharded storage.
type Shard struct {
	Name   string
	Weight float64
}

// schemes are the storages remote_storage may name.
var schemes = []string{"file", "redis", "redis+unix", "http", "https", "s3", "dcc"}

// ParseSpecs reads remote_storage: specifications separated by spaces.
// An error names the specification and what is wrong with it.
func ParseSpecs(s string) ([]Spec, error) {
	var out []Spec
	for _, raw := range strings.Fields(s) {
		spec, err := parseSpec(raw)
		if err != nil {
			return nil, fmt.Errorf("remote_storage %q: %w", redact(raw), err)
		}
		out = append(out, spec)
	}
	return out, nil
}

// parseSpec reads one specification.
func parseSpec(raw string) (Spec, error) {
	parts := strings.Split(raw, "|")
	u, err := url.Parse(parts[0])
	if err != nil {
		return Spec{}, fmt.Errorf("not a URL: %w", err)
	}
	if !slices.Contains(schemes, u.Scheme) {
		return Spec{}, fmt.Errorf("unknown storage %q: want one of %s", u.Scheme, strings.Join(schemes, ", "))
	}
	spec := Spec{Raw: raw, URL: u}
	switch u.Scheme {
	case "file", "redis+unix":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return Spec{}, fmt.Errorf("%s: want an absolute path (%s:/path)", u.Scheme, u.Scheme)
		}
	default:
		if u.Host == "" {
			return Spec{}, fmt.Errorf("%s: no host", u.Scheme)
		}
	}
	for _, attr := range parts[1:] {
		name, value, hasValue := strings.Cut(attr, "=")
		if err := spec.setAttr(name, value, hasValue); err != nil {
			return Spec{}, fmt.Errorf("attribute %q: %w", name, err)
		}
	}
	if spec.Layout != "" && u.Scheme != "http" && u.Scheme != "https" {
		return Spec{}, fmt.Errorf("attribute \"layout\": only for http storages")
	}
	if len(spec.Shards) > 0 && !strings.Contains(u.Host, "*") {
		return Spec{}, fmt.Errorf("attribute \"shards\": the host has no \"*\" for the shard names")
	}
	return spec, nil
}

// setAttr sets one attribute.
func (s *Spec) setAttr(name, value string, hasValue bool) error {
	millis := func() (time.Duration, error) {
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("want milliseconds, not %q", value)
		}
		return time.Duration(n) * time.Millisecond, nil
	}
	var err error
	switch name {
	case "read-only":
		if hasValue {
			return fmt.Errorf("takes no value")
		}
		s.ReadOnly = true
	case "connect-timeout":
		s.ConnectTimeout, err = millis()
	case "operation-timeout":
		s.OperationTimeout, err = millis()
	case "layout":
		if value != "flat" && value != "subdirs" && value != "bazel" {
			return fmt.Errorf("want flat, subdirs or bazel, not %q", value)
		}
		s.Layout = value
	case "bearer-token":
		if value == "" {
			return fmt.Errorf("empty")
		}
		s.BearerToken = value
	case "shards":
		s.Shards, err = parseShards(value)
	default:
		return fmt.Errorf("unknown: want read-only, connect-timeout, operation-timeout, layout, bearer-token or shards")
	}
	return err
}

// parseShards reads "a,b(2),c(0.5)": names with optional weights.
func parseShards(value string) ([]Shard, error) {
	var out []Shard
	for _, item := range strings.Split(value, ",") {
		name, weight := item, 1.0
		if i := strings.IndexByte(item, '('); i >= 0 && strings.HasSuffix(item, ")") {
			w, err := strconv.ParseFloat(item[i+1:len(item)-1], 64)
			if err != nil || w <= 0 {
				return nil, fmt.Errorf("shard %q: weight must be a positive number", item)
			}
			name, weight = item[:i], w
		}
		if name == "" {
			return nil, fmt.Errorf("an empty shard name")
		}
		out = append(out, Shard{Name: name, Weight: weight})
	}
	return out, nil
}

// RedactSpecs returns remote_storage with every password hidden, for
// showing and logging.
func RedactSpecs(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		fields[i] = redact(f)
	}
	return strings.Join(fields, " ")
}

// redact hides a URL's password for messages.
func redact(raw string) string {
	first, rest, _ := strings.Cut(raw, "|")
	if u, err := url.Parse(first); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			first = u.Redacted()
		}
	}
	if rest != "" {
		return first + "|" + rest
	}
	return first
}
