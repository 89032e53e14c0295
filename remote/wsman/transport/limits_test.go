package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestServerMaxBodySize(t *testing.T) {
	srv, _ := startServer(t, echoHandler(), ServerConfig{MaxBodySize: 1024, AllowUnencrypted: true}, false)
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(strings.Repeat("x", 1025)))
	req.SetBasicAuth("bob", "hunter2")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

func TestClientMaxBodySize(t *testing.T) {
	srv, _ := startServer(t, echoHandler(), ServerConfig{}, false)
	c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2", MaxBodySize: 4096})
	if _, _, err := c.Post(context.Background(), []byte(strings.Repeat("x", 4096))); err == nil || !strings.Contains(err.Error(), "exceeds 4096 bytes") {
		t.Fatalf("got %v, want a body size error", err)
	}
}

func TestClientResponseTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), ServerConfig{}, false)
	c := newClient(t, Config{URL: srv.URL, Username: "bob", Password: "hunter2", ResponseTimeout: 300 * time.Millisecond})
	_, _, err := c.Post(context.Background(), []byte("<receive/>"))
	if err == nil || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Fatalf("got %v, want a response timeout", err)
	}
}

// TestClientHTTPProxy: plain HTTP through a forward proxy (absolute-URI
// requests) with Basic, which does not depend on connection identity.
func TestClientHTTPProxy(t *testing.T) {
	srv, _ := startServer(t, echoHandler(), ServerConfig{AllowUnencrypted: true}, false)
	var sawAbsolute atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != "Basic cHU6cHA=" {
			http.Error(w, "proxy auth", http.StatusProxyAuthRequired)
			return
		}
		sawAbsolute.Store(r.URL.IsAbs())
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.Header.Del("Proxy-Authorization")
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	pu, _ := url.Parse(proxy.URL)
	pu.User = url.UserPassword("pu", "pp")
	c := newClient(t, Config{URL: srv.URL + "/wsman", Auth: "basic", Username: "bob", Password: "hunter2", AllowUnencrypted: true,
		Proxy: func(*url.URL) (*url.URL, error) { return pu, nil }})
	if _, body := post(t, c, "<x/>"); body != `<echo user="bob"><x/></echo>` {
		t.Errorf("body %q", body)
	}
	if !sawAbsolute.Load() {
		t.Error("proxy did not receive an absolute-URI request")
	}
}

func TestClientExpiredCertificate(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(echoHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	c := newClient(t, Config{URL: srv.URL, Auth: "basic", Username: "bob", Password: "x", TLS: TLSConfig{CAFile: ca}})
	_, _, err = c.Post(context.Background(), []byte("<x/>"))
	var te *TLSError
	if !errors.As(err, &te) || te.Kind != TLSExpired {
		t.Fatalf("got %v, want TLSError of kind TLSExpired", err)
	}
}

func TestClientResponseHeaderLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 3000 {
			w.Header().Add("X-Filler", strings.Repeat("y", 500)+strconv.Itoa(i))
		}
		w.Header().Set("Content-Type", SOAPContentType)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, Config{URL: srv.URL, Auth: "basic", Username: "bob", Password: "x", AllowUnencrypted: true, MaxBodySize: 1024})
	if _, _, err := c.Post(context.Background(), []byte("<x/>")); !errors.Is(err, errResponseTooLarge) {
		t.Fatalf("got %v, want errResponseTooLarge", err)
	}
}
