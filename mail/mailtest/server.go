// Package mailtest runs a real SMTP server inside a test (on
// github.com/emersion/go-smtp), with STARTTLS and authentication when asked,
// recording every mail it receives.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one mail as the test server took it.
type Received struct {
	From, To string
	Data     string
	TLS      bool   // it came over TLS
	User     string // who authenticated, if anyone
}

// Server is a real SMTP server inside the test.
type Server struct {
	t        testing.TB
	addr     string
	srv      *smtp.Server
	mu       sync.Mutex
	mails    []Received
	password string // with one set, PLAIN authentication as "gatehouse" is required
}

// Wait waits up to ten seconds for the server to have received n mails and
// returns them; fewer mean a failure of the test.
func (s *Server) Wait(n int) []Received {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got := s.Mails(); len(got) >= n {
			return got
		}
	}
	got := s.Mails()
	s.t.Fatalf("the SMTP server received %d mails, want %d", len(got), n)
	return got
}

// Cert is a certificate for 127.0.0.1 and localhost, and a pool of roots
// that trusts it.
func Cert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test mail server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// Start listens on addr ("127.0.0.1:0" for any port), with STARTTLS when
// cert is given and requiring PLAIN authentication as "gatehouse" with
// password when one is given. It stops when the test ends.
func Start(t testing.TB, addr string, cert *tls.Certificate, password string) *Server {
	t.Helper()
	s := &Server{t: t, password: password}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	if cert != nil {
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Port is the port the server listens on.
func (s *Server) Port() int {
	_, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return n
}

// Mails returns what the server received so far.
func (s *Server) Mails() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.mails...)
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{server: s, conn: c}, nil
}

type smtpSession struct {
	server *Server
	conn   *smtp.Conn
	cur    Received
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "gatehouse" || pass != ss.server.password {
			return errors.New("wrong user or password")
		}
		ss.cur.User = user
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.password != "" && ss.cur.User == "" {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	_, ss.cur.TLS = ss.conn.TLSConnectionState()
	ss.cur.From = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.cur.To = to
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = string(b)
	ss.server.mu.Lock()
	ss.server.mails = append(ss.server.mails, ss.cur)
	ss.server.mu.Unlock()
	ss.cur = Received{User: ss.cur.User}
	return nil
}

func (ss *smtpSession) Reset()        {}
func (ss *smtpSession) Logout() error { return nil }
