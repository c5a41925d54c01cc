// Package servertest starts real storage servers (Redis, nginx, an S3
// gateway) on loopback for the tests of teamcache's backends and of dcc's
// team cache, and stops them by pid.
package servertest
