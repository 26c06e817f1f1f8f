package mtatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a self-signed certificate written as PEM files. The certificate
// is its own CA, so a client trusts it with CAFile (the project's
// `[transport] ca_file`) or with ClientConfig.
type Cert struct {
	CAFile   string // the certificate, PEM; trust this file
	CertFile string // the same certificate, PEM
	KeyFile  string // its private key, PEM (PKCS #8), mode 0600
	// ChainFile holds the key followed by the certificate, as Postfix's
	// smtpd_tls_chain_files wants.
	ChainFile string

	pool *x509.CertPool
}

// NewCert generates a self-signed ECDSA certificate valid for a day for
// 127.0.0.1, localhost and the given host names, and writes it into dir.
func NewCert(tb testing.TB, dir string, hosts ...string) *Cert {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mtatest", Organization: []string{"newsletter tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		DNSNames:              append([]string{"localhost"}, hosts...),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	c := &Cert{
		CAFile:    filepath.Join(dir, "ca.pem"),
		CertFile:  filepath.Join(dir, "cert.pem"),
		KeyFile:   filepath.Join(dir, "key.pem"),
		ChainFile: filepath.Join(dir, "chain.pem"),
		pool:      x509.NewCertPool(),
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{c.CAFile, certPEM, 0o644},
		{c.CertFile, certPEM, 0o644},
		{c.KeyFile, keyPEM, 0o600},
		{c.ChainFile, append(append([]byte{}, keyPEM...), certPEM...), 0o600},
	} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			tb.Fatal(err)
		}
	}
	c.pool.AppendCertsFromPEM(certPEM)
	return c
}

// ClientConfig returns a TLS client configuration that trusts the
// certificate, for serverName (such as "127.0.0.1" or "localhost").
func (c *Cert) ClientConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: c.pool, ServerName: serverName}
}
