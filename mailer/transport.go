package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/example/newsletter"
)

// Transport delivers built messages. Each sender worker opens its own
// connection and sends many messages over it.
type Transport interface {
	Open(ctx context.Context) (Conn, error)
	// String describes the transport for logs, without secrets.
	String() string
}

// Conn is one open connection of a transport.
type Conn interface {
	Send(ctx context.Context, m *Built) error
	Close() error
}

// SendError is a failed delivery attempt.
type SendError struct {
	Code     int    // SMTP reply code, 0 when there was none
	Enhanced string // enhanced status code such as "5.1.1", when given
	Text     string
	// Temporary failures may succeed later; permanent ones (5xx) will not.
	Temporary bool
	// Broken means the connection is unusable: open a new one.
	Broken bool
	// Connect means no connection could be made: the message was not sent.
	Connect bool
	// Sender means the server refused MAIL FROM: a fault of the sender or
	// the server, never of the recipient.
	Sender bool
}

func (e *SendError) Error() string {
	if e.Code > 0 {
		return fmt.Sprintf("%d %s", e.Code, e.Text)
	}
	return e.Text
}

// NoSuchUser reports whether the failure says the mailbox does not exist
// (enhanced status 5.1.x), which stops further mail to the address at once.
func (e *SendError) NoSuchUser() bool {
	if e.Temporary {
		return false
	}
	if strings.HasPrefix(e.Enhanced, "5.1.") {
		return true
	}
	return e.Code == 550 && strings.HasPrefix(strings.TrimSpace(e.Text), "5.1.")
}

// classify turns an error from the SMTP conversation into a *SendError.
func classify(err error, connect bool) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		e := &SendError{Code: te.Code, Text: strings.ReplaceAll(te.Msg, "\n", " "), Temporary: te.Code < 500, Connect: connect}
		if f := strings.Fields(te.Msg); len(f) > 0 && len(f[0]) >= 5 && f[0][1] == '.' && (f[0][0] == '4' || f[0][0] == '5') {
			e.Enhanced = f[0]
			e.Text = strings.TrimSpace(strings.TrimPrefix(e.Text, f[0]))
		}
		// 421: the server is closing the connection.
		e.Broken = te.Code == 421 || connect
		return e
	}
	// Network errors, timeouts and dropped connections: temporary.
	return &SendError{Text: err.Error(), Temporary: true, Broken: true, Connect: connect}
}

// ParseTransport returns the transport for a URL of the command-line
// contract: smtp://[user[:pass]@]host[:port][?tls=starttls|opportunistic|none&auth=...],
// smtps://... (implicit TLS) or file://DIR. password, when not empty,
// replaces one in the URL.
func ParseTransport(raw, password string, opts ...SMTPOption) (Transport, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, newsletter.Errorf(newsletter.EINVALID, "transport %q: use smtp://HOST:PORT, smtps://HOST:PORT or file://DIR", redact(raw))
	}
	switch u.Scheme {
	case "file":
		dir := u.Host + u.Path
		if u.Opaque != "" {
			dir = u.Opaque
		}
		if dir == "" {
			return nil, newsletter.Errorf(newsletter.EINVALID, "transport %q: file:// needs a directory, as in file://outbox", raw)
		}
		return &FileTransport{Dir: dir}, nil
	case "smtp", "smtps":
		return newSMTP(u, password, opts...)
	default:
		return nil, newsletter.Errorf(newsletter.EINVALID, "transport %q: unknown scheme %q; use smtp, smtps or file", redact(raw), u.Scheme)
	}
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// FileTransport writes each message to DIR/<campaign>/<address>.eml.
type FileTransport struct {
	Dir string
}

func (t *FileTransport) String() string { return "file://" + t.Dir }

// Open implements Transport.
func (t *FileTransport) Open(ctx context.Context) (Conn, error) { return t, nil }

// Close implements Conn.
func (t *FileTransport) Close() error { return nil }

// Send writes the message atomically: a reader never sees half a file.
func (t *FileTransport) Send(ctx context.Context, m *Built) error {
	dir := filepath.Join(t.Dir, fileName(m.Campaign))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &SendError{Text: err.Error(), Temporary: false, Connect: true}
	}
	var buf bytes.Buffer
	if err := m.WriteTo(&buf); err != nil {
		return &SendError{Text: err.Error()}
	}
	path := filepath.Join(dir, fileName(m.To)+".eml")
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return &SendError{Text: err.Error(), Temporary: true}
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return &SendError{Text: fmt.Sprint(errors.Join(werr, cerr)), Temporary: true}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return &SendError{Text: err.Error(), Temporary: true}
	}
	return nil
}

// fileName makes s safe as one path element.
func fileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r < 0x20 {
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}

// TLS modes of an SMTP transport.
const (
	TLSStartTLS      = "starttls"      // STARTTLS required
	TLSOpportunistic = "opportunistic" // STARTTLS when offered
	TLSNone          = "none"          // plain text
	TLSImplicit      = "implicit"      // smtps://
)

// SMTPTransport submits messages to an SMTP server or relay.
type SMTPTransport struct {
	Host, User, password string
	Port                 int
	TLS                  string
	Auth                 string // auto, plain, login, cram-md5
	ConnectTimeout       time.Duration
	CommandTimeout       time.Duration
	LocalName            string
	tlsConfig            *tls.Config
}

// SMTPOption configures an SMTP transport.
type SMTPOption func(*SMTPTransport)

// WithTLSConfig sets the TLS configuration (for a private CA).
func WithTLSConfig(c *tls.Config) SMTPOption { return func(t *SMTPTransport) { t.tlsConfig = c } }

// WithTimeouts sets the connect and per-command timeouts.
func WithTimeouts(connect, command time.Duration) SMTPOption {
	return func(t *SMTPTransport) { t.ConnectTimeout, t.CommandTimeout = connect, command }
}

func newSMTP(u *url.URL, password string, opts ...SMTPOption) (*SMTPTransport, error) {
	t := &SMTPTransport{Host: u.Hostname(), TLS: TLSStartTLS, Port: 587, Auth: "auto",
		ConnectTimeout: 15 * time.Second, CommandTimeout: 60 * time.Second, LocalName: "localhost"}
	if u.Scheme == "smtps" {
		t.TLS, t.Port = TLSImplicit, 465
	}
	if t.Host == "" {
		return nil, newsletter.Errorf(newsletter.EINVALID, "transport %s: no host", u.Redacted())
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, newsletter.Errorf(newsletter.EINVALID, "transport %s: bad port %q", u.Redacted(), p)
		}
		t.Port = n
	}
	q := u.Query()
	if v := q.Get("tls"); v != "" {
		if u.Scheme == "smtps" {
			return nil, newsletter.Errorf(newsletter.EINVALID, "transport %s: smtps:// is always TLS; tls= is for smtp://", u.Redacted())
		}
		switch v {
		case TLSStartTLS, TLSOpportunistic, TLSNone:
			t.TLS = v
		default:
			return nil, newsletter.Errorf(newsletter.EINVALID, "transport %s: tls=%s; use starttls, opportunistic or none", u.Redacted(), v)
		}
	}
	if v := q.Get("auth"); v != "" {
		switch v {
		case "auto", "plain", "login", "cram-md5":
			t.Auth = v
		default:
			return nil, newsletter.Errorf(newsletter.EINVALID, "transport %s: auth=%s; use auto, plain, login or cram-md5", u.Redacted(), v)
		}
	}
	if u.User != nil {
		t.User = u.User.Username()
		t.password, _ = u.User.Password()
	}
	if password != "" {
		t.password = password
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		t.LocalName = h
	}
	for _, o := range opts {
		o(t)
	}
	return t, nil
}

func (t *SMTPTransport) String() string {
	scheme := "smtp"
	if t.TLS == TLSImplicit {
		scheme = "smtps"
	}
	s := fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(t.Host, strconv.Itoa(t.Port)))
	if t.TLS != TLSStartTLS && t.TLS != TLSImplicit {
		s += "?tls=" + t.TLS
	}
	return s
}

func (t *SMTPTransport) tlsConf() *tls.Config {
	if t.tlsConfig != nil {
		c := t.tlsConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = t.Host
		}
		return c
	}
	return &tls.Config{ServerName: t.Host, MinVersion: tls.VersionTLS12}
}

// Open connects, says EHLO, starts TLS as configured and authenticates.
func (t *SMTPTransport) Open(ctx context.Context) (Conn, error) {
	addr := net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	d := &net.Dialer{Timeout: t.ConnectTimeout}
	var conn net.Conn
	var err error
	if t.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: t.tlsConf()}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, classify(err, true)
	}
	conn.SetDeadline(time.Now().Add(t.CommandTimeout))
	c, err := smtp.NewClient(conn, t.Host)
	if err != nil {
		conn.Close()
		return nil, classify(err, true)
	}
	fail := func(err error) (Conn, error) {
		c.Close()
		return nil, classify(err, true)
	}
	if err := c.Hello(t.LocalName); err != nil {
		return fail(err)
	}
	if t.TLS == TLSStartTLS || t.TLS == TLSOpportunistic {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(t.tlsConf()); err != nil {
				return fail(err)
			}
		} else if t.TLS == TLSStartTLS {
			c.Close()
			return nil, &SendError{Text: fmt.Sprintf("%s does not offer STARTTLS; use ?tls=opportunistic or ?tls=none to send without it", addr), Connect: true}
		}
	}
	if t.User != "" {
		a, err := t.auth(c)
		if err != nil {
			c.Close()
			return nil, err
		}
		if err := c.Auth(a); err != nil {
			return fail(err)
		}
	}
	pipelining, _ := c.Extension("PIPELINING")
	return &smtpConn{t: t, c: c, conn: conn, pipelining: pipelining}, nil
}

func (t *SMTPTransport) auth(c *smtp.Client) (smtp.Auth, error) {
	_, mechs := c.Extension("AUTH")
	has := func(m string) bool {
		for _, f := range strings.Fields(strings.ToUpper(mechs)) {
			if f == m {
				return true
			}
		}
		return false
	}
	allowPlain := t.TLS == TLSNone || t.TLS == TLSOpportunistic
	mech := t.Auth
	if mech == "auto" {
		switch {
		case has("PLAIN"):
			mech = "plain"
		case has("LOGIN"):
			mech = "login"
		case has("CRAM-MD5"):
			mech = "cram-md5"
		default:
			return nil, &SendError{Text: fmt.Sprintf("the server offers no AUTH mechanism this tool knows (offered: %q)", mechs), Connect: true}
		}
	}
	switch mech {
	case "plain":
		return smtp.PlainAuth("", t.User, t.password, t.Host, allowPlain), nil
	case "login":
		return smtp.LoginAuth(t.User, t.password, t.Host, allowPlain), nil
	default:
		return smtp.CRAMMD5Auth(t.User, t.password), nil
	}
}

type smtpConn struct {
	t          *SMTPTransport
	c          *smtp.Client
	conn       net.Conn
	pipelining bool // the server offers PIPELINING (RFC 2920)
}

// Send runs one MAIL, RCPT, DATA transaction. After a refused MAIL or RCPT
// the connection is reset and stays usable.
func (s *smtpConn) Send(ctx context.Context, m *Built) error {
	s.conn.SetDeadline(time.Now().Add(s.t.CommandTimeout))
	if s.pipelining && isASCII(m.From) && isASCII(m.To) {
		return s.sendPipelined(m)
	}
	step := func(err error) error {
		se := classify(err, false)
		if !se.Broken {
			if rerr := s.c.Reset(); rerr != nil {
				se.Broken = true
			}
		}
		return se
	}
	if err := s.c.Mail("<" + m.From + ">"); err != nil {
		se := step(err).(*SendError)
		se.Sender = true
		return se
	}
	if err := s.c.Rcpt("<" + m.To + ">"); err != nil {
		return step(err)
	}
	w, err := s.c.Data()
	if err != nil {
		return step(err)
	}
	var buf bytes.Buffer
	if err := m.WriteTo(&buf); err != nil {
		w.Close()
		return &SendError{Text: err.Error(), Broken: true, Temporary: true}
	}
	if _, err := io.Copy(w, &buf); err != nil {
		return classify(err, false)
	}
	if err := w.Close(); err != nil {
		return classify(err, false)
	}
	return nil
}

// sendPipelined sends MAIL, RCPT and DATA in one write and reads the three
// replies (RFC 2920): two round trips a message instead of four. Addresses
// that need SMTPUTF8 take the unpipelined path.
func (s *smtpConn) sendPipelined(m *Built) error {
	t := s.c.Text
	fmt.Fprintf(t.W, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", m.From, m.To)
	if err := t.W.Flush(); err != nil {
		return classify(err, false)
	}
	// Every reply is read, in order, whatever the first ones said.
	_, _, mailErr := t.ReadResponse(250)
	_, _, rcptErr := t.ReadResponse(25)
	_, _, dataErr := t.ReadResponse(354)
	for _, err := range []error{mailErr, rcptErr, dataErr} {
		var te *textproto.Error
		if err != nil && !errors.As(err, &te) {
			return classify(err, false) // the connection failed
		}
	}
	if mailErr != nil || rcptErr != nil || dataErr != nil {
		if dataErr == nil {
			// The server took DATA although MAIL or RCPT failed: end the
			// empty message without a body, then forget it.
			fmt.Fprintf(t.W, ".\r\n")
			if err := t.W.Flush(); err != nil {
				return classify(err, false)
			}
			if _, _, err := t.ReadResponse(0); err != nil {
				var te *textproto.Error
				if !errors.As(err, &te) {
					return classify(err, false)
				}
			}
		}
		var se *SendError
		switch {
		case mailErr != nil:
			se = classify(mailErr, false)
			se.Sender = true
		case rcptErr != nil:
			se = classify(rcptErr, false)
		default:
			se = classify(dataErr, false)
		}
		if !se.Broken {
			if err := s.c.Reset(); err != nil {
				se.Broken = true
			}
		}
		return se
	}
	w := t.DotWriter()
	var buf bytes.Buffer
	if err := m.WriteTo(&buf); err != nil {
		w.Close()
		return &SendError{Text: err.Error(), Broken: true, Temporary: true}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return classify(err, false)
	}
	if err := w.Close(); err != nil {
		return classify(err, false)
	}
	if _, _, err := t.ReadResponse(250); err != nil {
		return classify(err, false)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (s *smtpConn) Close() error {
	s.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := s.c.Quit(); err != nil {
		return s.c.Close()
	}
	return nil
}
