package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// The wire is TLS 1.3 (crypto/tls) unless both sides are configured for
// plain TCP. A host has a self-signed certificate; clients do not consult any
// certificate authority but pin the host's key: its fingerprint is
// "sha256:" followed by the lowercase hex SHA-256 of the certificate's
// SubjectPublicKeyInfo (the DER public key), so a certificate renewed with
// the same key keeps its pin.

// FingerprintPrefix starts every fingerprint.
const FingerprintPrefix = "sha256:"

// certValidity is how long a generated certificate is valid. Clients check
// the pinned key, not the dates; the dates only have to be well-formed.
const certValidity = 100 * 365 * 24 * time.Hour

// Fingerprint returns the fingerprint of a certificate's public key,
// "sha256:HEX".
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return FingerprintPrefix + hex.EncodeToString(sum[:])
}

// ParseFingerprint checks a fingerprint as a user writes it ("sha256:HEX",
// 64 hex digits, any case, colons between byte pairs allowed) and returns
// it in canonical form.
func ParseFingerprint(s string) (string, error) {
	v := strings.TrimSpace(s)
	if !strings.HasPrefix(strings.ToLower(v), FingerprintPrefix) {
		return "", fmt.Errorf("fingerprint %q: want %s followed by 64 hex digits (dcc-server --fingerprint on the host prints it)", s, FingerprintPrefix)
	}
	digits := strings.ToLower(strings.ReplaceAll(v[len(FingerprintPrefix):], ":", ""))
	b, err := hex.DecodeString(digits)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("fingerprint %q: want %s followed by 64 hex digits (dcc-server --fingerprint on the host prints it)", s, FingerprintPrefix)
	}
	return FingerprintPrefix + digits, nil
}

// NewCertificatePEM generates a fresh ECDSA P-256 key and a self-signed
// certificate for it, and returns both PEM-encoded in one block of text
// (certificate first), as LoadCertificatePEM reads it.
func NewCertificatePEM(name string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("protocol: generate a TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("protocol: generate a serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "dcc-server " + name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("protocol: create a certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode the TLS key: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...), nil
}

// LoadCertificatePEM reads what NewCertificatePEM wrote (a certificate and
// its private key, PEM) and returns the key pair and its fingerprint.
func LoadCertificatePEM(data []byte) (tls.Certificate, string, error) {
	cert, err := tls.X509KeyPair(data, data)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("protocol: TLS key and certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("protocol: TLS certificate: %w", err)
	}
	cert.Leaf = leaf
	return cert, Fingerprint(leaf), nil
}

// ServerTLSConfig is the TLS configuration of a host serving cert: TLS 1.3
// only, no client certificates (clients prove themselves with the token,
// inside TLS), no session tickets (every connection is a full handshake, so
// nothing a listener captured can be resumed).
func ServerTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{cert},
		SessionTicketsDisabled: true,
	}
}

// clientTLSConfig is the TLS configuration of a client that pins the host's
// key to fingerprint (canonical form). No certificate authority is
// consulted: the chain is not verified, the pinned key is, in
// VerifyConnection, before any byte of the dcc handshake is sent.
func clientTLSConfig(fingerprint string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // replaced by the pin check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.Version != tls.VersionTLS13 {
				return fmt.Errorf("%w: host negotiated TLS version %#x, not 1.3", ErrFingerprint, cs.Version)
			}
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("%w: host sent no certificate", ErrFingerprint)
			}
			got := Fingerprint(cs.PeerCertificates[0])
			if subtle.ConstantTimeCompare([]byte(got), []byte(fingerprint)) != 1 {
				return fmt.Errorf("%w: host's key is %s, the pinned fingerprint is %s "+
					"(the host's key changed, or something between here and the host answers in its place; "+
					"compare with dcc-server --fingerprint on the host)", ErrFingerprint, got, fingerprint)
			}
			return nil
		},
	}
}

// tlsFailure explains a failed TLS handshake on the client: a fingerprint
// that does not match is returned as is; a host that answered without TLS is
// a transport mismatch.
func tlsFailure(err error) error {
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return fmt.Errorf("%w: host answered in plain TCP, not TLS (its config has tls = \"off\"?); "+
			"set plaintext = true for it only if both sides mean to send in clear", ErrTransport)
	}
	return fmt.Errorf("TLS handshake: %w", err)
}
