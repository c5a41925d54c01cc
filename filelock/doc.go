// Package filelock takes exclusive flock(2) locks without waiting: the
// daemon's start lock, the cache database directories and the server's
// store lock. A lock belongs to the open file, so two opens in one process
// exclude each other as two processes do; closing the file releases it.
package filelock
