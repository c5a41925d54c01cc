package s3store

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/dcc-build/dcc/teamcache"
)

// config is what a specification says of a store.
type config struct {
	bucket, prefix string
	// host is the endpoint's host[:port]; secure: it speaks HTTPS.
	host   string
	secure bool
	region string
	lookup minio.BucketLookupType
}

// parseConfig reads an s3:// specification.
func parseConfig(spec teamcache.Spec) (config, error) {
	u := spec.URL
	if u == nil || u.Scheme != "s3" {
		return config{}, fmt.Errorf("not an s3:// URL")
	}
	if u.User != nil {
		// Never echo u.User: it may hold a secret.
		return config{}, fmt.Errorf("credentials in the URL are not supported: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use ~/.aws/credentials")
	}
	if u.Port() != "" {
		return config{}, fmt.Errorf("the host is the bucket and takes no port: give the server as ?endpoint=http://HOST:PORT")
	}
	if err := s3utils.CheckValidBucketNameStrict(u.Hostname()); err != nil {
		return config{}, fmt.Errorf("bucket %q: %w", u.Hostname(), err)
	}
	if u.Fragment != "" {
		return config{}, fmt.Errorf("a URL fragment (#...) is not supported")
	}
	switch {
	case spec.Layout != "":
		return config{}, fmt.Errorf("attribute \"layout\": only for http storages")
	case spec.BearerToken != "":
		return config{}, fmt.Errorf("attribute \"bearer-token\": only for http storages")
	case len(spec.Shards) > 0:
		return config{}, fmt.Errorf("attribute \"shards\": not for s3 storages")
	}
	c := config{
		bucket: u.Hostname(),
		prefix: strings.Trim(u.Path, "/"),
		host:   "s3.amazonaws.com",
		secure: true,
		region: firstNonEmpty(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")),
	}
	if err := s3utils.CheckValidObjectNamePrefix(c.prefix); err != nil {
		return config{}, fmt.Errorf("prefix %q: %w", c.prefix, err)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return config{}, fmt.Errorf("query: %w", err)
	}
	for name, values := range query {
		if len(values) != 1 {
			return config{}, fmt.Errorf("query parameter %q: given %d times", name, len(values))
		}
		if err := c.setParam(name, values[0]); err != nil {
			return config{}, fmt.Errorf("query parameter %q: %w", name, err)
		}
	}
	return c, nil
}

// setParam sets one query parameter.
func (c *config) setParam(name, value string) error {
	switch name {
	case "endpoint":
		e, err := url.Parse(value)
		if err != nil {
			return fmt.Errorf("not a URL")
		}
		if e.Scheme != "http" && e.Scheme != "https" || e.Host == "" || e.User != nil ||
			strings.Trim(e.Path, "/") != "" || e.RawQuery != "" || e.Fragment != "" {
			return fmt.Errorf("want http://HOST[:PORT] or https://HOST[:PORT], not %q", value)
		}
		c.host, c.secure = e.Host, e.Scheme == "https"
	case "region":
		if value == "" || strings.ContainsAny(value, " /") {
			return fmt.Errorf("want a region name such as us-east-1, not %q", value)
		}
		c.region = value
	case "path-style":
		on, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("want true or false, not %q", value)
		}
		c.lookup = minio.BucketLookupDNS
		if on {
			c.lookup = minio.BucketLookupPath
		}
	default:
		return fmt.Errorf("unknown: want endpoint, region or path-style")
	}
	return nil
}

// firstNonEmpty returns the first of ss that is not empty.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
