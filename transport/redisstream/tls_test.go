package redisstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// TestTLS runs a private redis-server that only speaks TLS, with a
// certificate from a test CA, and checks rediss:// end to end: refused when
// the CA is not trusted, delivered when it is.
func TestTLS(t *testing.T) {
	bin := redisServerBin(t)
	dir := t.TempDir()
	pool := writeTestCerts(t, dir)
	port := freePort(t)
	clientTLS := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	srv := startRedis(t, bin, dir, port, clientTLS,
		"--tls-cert-file", filepath.Join(dir, "server.pem"), "--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.pem"), "--tls-auth-clients", "no")
	ctx := t.Context()

	// The system roots do not trust the test CA.
	if _, err := Open(ctx, "rediss://"+srv.addr+"?timeout=2s"); !errors.Is(err, eventgate.ErrConnection) {
		t.Fatalf("Open with an untrusted certificate: %v, want a connection error", err)
	}
	// Plain redis:// to a TLS port fails too.
	if _, err := Open(ctx, "redis://"+srv.addr+"?timeout=1s"); err == nil {
		t.Fatal("plain Open of a TLS-only port succeeded")
	}

	cfg, err := ParseURL("rediss://" + srv.addr + "?stream=egtest-tls&timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLSConfig.RootCAs = pool
	tr := newTransport(t, cfg)
	evs := []*eventgate.Event{testEvent("tls", 0), testEvent("tls", 1), testEvent("tls", 2)}
	if err := tr.Send(ctx, evs[0]); err != nil {
		t.Fatalf("Send over TLS: %v", err)
	}
	if err := tr.SendBatch(ctx, evs[1:]); err != nil {
		t.Fatalf("SendBatch over TLS: %v", err)
	}
	c := newAdminTLS(t, srv.addr, clientTLS)
	got, err := readStreams(ctx, c, "egtest-tls")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != evs[0].ID || got[2].ID != evs[2].ID {
		t.Fatalf("stream holds %d events, want the 3 sent in order", len(got))
	}
}

// writeTestCerts writes ca.pem, server.pem and server.key (for 127.0.0.1)
// into dir and returns a pool trusting the CA.
func writeTestCerts(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eventgate test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"ca.pem":     {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool
}
