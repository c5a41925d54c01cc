package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/dcc-build/dcc/protocol"
)

// HostKey is the server's TLS key pair and the fingerprint clients pin.
type HostKey struct {
	// Cert is the key and its self-signed certificate.
	Cert tls.Certificate
	// Fingerprint is "sha256:HEX" of the public key (protocol.Fingerprint).
	Fingerprint string
	// Created: this call made the key (the first run).
	Created bool
}

// privateKeyMode reports whether a key file's mode keeps it private: no
// access for others, and none for the group either, except read access
// to a file root owns (the Debian package's /etc/dcc/server-tls.pem,
// root:dcc-server 0640, read by the service's dynamic user through its
// group), as PostgreSQL allows for its key.
func privateKeyMode(fi os.FileInfo) bool {
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0 && perm&0o077 == 0o040
}

// LoadHostKey reads the TLS key and certificate at path, making them first
// when the file does not exist: a fresh key, written atomically, readable
// only by its owner (another process writing it meanwhile wins). A file
// that others may read is refused (privateKeyMode): the key is the host's
// identity.
func LoadHostKey(path, name string) (*HostKey, error) {
	created := false
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if created, err = writeHostKey(path, name); err != nil {
			return nil, err
		}
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read the TLS key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && !privateKeyMode(fi) {
		return nil, fmt.Errorf("TLS key %s: others may read it (mode %#o): chmod 600 it, or remove it to have a new one made "+
			"(clients then need the new fingerprint)", path, fi.Mode().Perm())
	}
	cert, fp, err := protocol.LoadCertificatePEM(data)
	if err != nil {
		return nil, fmt.Errorf("TLS key %s: %w (remove it to have a new one made; clients then need the new fingerprint)", path, err)
	}
	return &HostKey{Cert: cert, Fingerprint: fp, Created: created}, nil
}

// writeHostKey writes a new key and certificate at path unless a file is
// there already; it reports whether it wrote it.
func writeHostKey(path, name string) (bool, error) {
	data, err := protocol.NewCertificatePEM(name)
	if err != nil {
		return false, err
	}
	return writePrivateOnce(path, data)
}
