// Package smtptest runs a real SMTP server in the test process, built on
// github.com/emersion/go-smtp. It records what it receives and injects
// faults by recipient pattern or probability: 421 at the greeting, 4xx and
// 5xx at MAIL, RCPT or DATA, a connection dropped in the middle of DATA,
// and slow replies.
package smtptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stages a fault can fire at.
const (
	Greet = "greet" // 421 instead of the greeting, then the connection closes
	Mail  = "mail"  // a reply to MAIL FROM
	Rcpt  = "rcpt"  // a reply to RCPT TO
	Data  = "data"  // a reply after the message data
	Drop  = "drop"  // the connection closes in the middle of DATA
	// DropAfterDot: the whole message arrives (and is kept, as a server
	// that queued it would), then the connection closes before the reply.
	DropAfterDot = "drop-after-dot"
	// StallAfterDot: the whole message arrives (and is kept), then the
	// server waits Delay before it replies.
	StallAfterDot = "stall-after-dot"
)

// Fault is one injected failure.
type Fault struct {
	Stage    string
	Match    string  // regexp on the recipient (on the sender at MAIL); "" matches all
	Code     int     // reply code, such as 451 or 550
	Enhanced [3]int  // enhanced status code, such as {5, 1, 1}
	Message  string  // reply text
	Prob     float64 // chance of firing; 0 means always
	Times    int     // fire at most this many times; 0 means no limit
	Delay    time.Duration
}

type fault struct {
	Fault
	re    *regexp.Regexp
	fired int
}

// Message is one message the server accepted.
type Message struct {
	From     string
	To       []string
	Data     []byte
	Received time.Time
}

// Server is a running test SMTP server.
type Server struct {
	Addr string // host:port on the loopback interface

	srv *smtp.Server
	ln  net.Listener

	mu       sync.Mutex
	faults   []*fault
	messages []Message
	rng      *rand.Rand
	conns    int
	user     string
	pass     string
	discard  bool

	tlsConfig   *tls.Config
	implicitTLS bool
}

// Option configures a Server.
type Option func(*Server)

// WithAuth makes the server require AUTH PLAIN with user and pass.
func WithAuth(user, pass string) Option { return func(s *Server) { s.user, s.pass = user, pass } }

// WithTLS offers STARTTLS with cfg; with implicit, the listener speaks TLS
// from the first byte (as on port 465) instead.
func WithTLS(cfg *tls.Config, implicit bool) Option {
	return func(s *Server) { s.tlsConfig, s.implicitTLS = cfg, implicit }
}

// Discard makes the server count messages without keeping their data (for
// benchmarks).
func Discard() Option { return func(s *Server) { s.discard = true } }

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// New starts a server on 127.0.0.1; Close stops it.
func New(opts ...Option) (*Server, error) {
	s := &Server{rng: rand.New(rand.NewPCG(1, 2))}
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr = ln.Addr().String()
	if s.implicitTLS {
		ln = tls.NewListener(ln, s.tlsConfig)
	}
	s.ln = &listener{Listener: ln, s: s}
	s.srv = smtp.NewServer(backend{s})
	if !s.implicitTLS {
		s.srv.TLSConfig = s.tlsConfig
	}
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go s.srv.Serve(s.ln)
	return s, nil
}

// URL is the transport URL of the server (plain text, no TLS).
func (s *Server) URL() string {
	if s.user != "" {
		return fmt.Sprintf("smtp://%s:%s@%s?tls=none", s.user, s.pass, s.Addr)
	}
	return "smtp://" + s.Addr + "?tls=none"
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetFaults replaces the faults.
func (s *Server) SetFaults(fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	for _, f := range fs {
		s.faults = append(s.faults, &fault{Fault: f, re: regexp.MustCompile(f.Match)})
	}
}

// Messages returns the accepted messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count returns how many accepted messages were for rcpt ("" for all).
func (s *Server) Count(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.messages {
		for _, t := range m.To {
			if rcpt == "" || strings.EqualFold(t, rcpt) {
				n++
			}
		}
	}
	return n
}

// Connections returns how many connections were accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// fire returns the fault to inject at stage for addr, if any.
func (s *Server) fire(stage, addr string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Stage != stage || !f.re.MatchString(addr) || (f.Times > 0 && f.fired >= f.Times) {
			continue
		}
		if f.Prob > 0 && s.rng.Float64() >= f.Prob {
			continue
		}
		f.fired++
		return f
	}
	return nil
}

func (f *fault) err() error {
	if f.Delay > 0 {
		time.Sleep(f.Delay)
	}
	if f.Code == 0 {
		return nil
	}
	msg := f.Message
	if msg == "" {
		msg = "injected fault"
	}
	return &smtp.SMTPError{Code: f.Code, EnhancedCode: smtp.EnhancedCode(f.Enhanced), Message: msg}
}

type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
		if f := l.s.fire(Greet, ""); f != nil {
			if f.Delay > 0 {
				time.Sleep(f.Delay)
			}
			code := f.Code
			if code == 0 {
				code = 421
			}
			fmt.Fprintf(c, "%d 4.3.2 %s\r\n", code, "service not available (injected)")
			c.Close()
			continue
		}
		return c, nil
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	from   string
	to     []string
	authed bool
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain, "CRAM-MD5"}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech == "CRAM-MD5" {
		return &cramMD5{ss: ss}, nil
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.user || password != ss.s.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "invalid credentials"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	if f := ss.s.fire(Mail, from); f != nil {
		if err := f.err(); err != nil {
			return err
		}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := ss.s.fire(Rcpt, to); f != nil {
		if err := f.err(); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	rcpt := ""
	if len(ss.to) > 0 {
		rcpt = ss.to[0]
	}
	if f := ss.s.fire(Drop, rcpt); f != nil {
		io.CopyN(io.Discard, r, 64)
		ss.conn.Conn().Close()
		io.Copy(io.Discard, r)
		return errors.New("connection dropped (injected)")
	}
	var buf bytes.Buffer
	var dst io.Writer = &buf
	if ss.s.discard {
		dst = io.Discard // a benchmark's allocations are the sender's
	}
	if _, err := io.Copy(dst, r); err != nil {
		return err
	}
	if f := ss.s.fire(Data, rcpt); f != nil {
		if err := f.err(); err != nil {
			return err
		}
	}
	ss.keep(buf.Bytes())
	if f := ss.s.fire(DropAfterDot, rcpt); f != nil {
		ss.conn.Conn().Close()
		return errors.New("connection dropped after the message (injected)")
	}
	if f := ss.s.fire(StallAfterDot, rcpt); f != nil {
		time.Sleep(f.Delay)
	}
	return nil
}

// keep records a message the server received whole.
func (ss *session) keep(data []byte) {
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Received: time.Now()}
	if !ss.s.discard {
		m.Data = data
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, m)
	ss.s.mu.Unlock()
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// cramMD5 is the server side of CRAM-MD5 (RFC 2195).
type cramMD5 struct {
	ss        *session
	challenge string
}

func (c *cramMD5) Next(response []byte) ([]byte, bool, error) {
	if c.challenge == "" {
		c.challenge = fmt.Sprintf("<%d.%d@localhost>", rand.Int64(), time.Now().UnixNano())
		return []byte(c.challenge), false, nil
	}
	user, digest, ok := strings.Cut(string(response), " ")
	h := hmac.New(md5.New, []byte(c.ss.s.pass))
	h.Write([]byte(c.challenge))
	if !ok || user != c.ss.s.user || !hmac.Equal([]byte(digest), []byte(hex.EncodeToString(h.Sum(nil)))) {
		return nil, true, &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "invalid credentials"}
	}
	c.ss.authed = true
	return nil, true, nil
}
