package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"

	"github.com/example/newsletter"
)

// TLS modes of an SMTP transport.
const (
	TLSStartTLS      = "starttls"      // STARTTLS required, certificate verified
	TLSOpportunistic = "opportunistic" // STARTTLS when offered, certificate not verified
	TLSInsecure      = "insecure"      // STARTTLS required, certificate not verified
	TLSNone          = "none"          // plain text, AUTH allowed in clear
	TLSImplicit      = "implicit"      // smtps://
)

// SMTPTransport submits messages to an SMTP server or relay.
type SMTPTransport struct {
	Host, User, password string
	Port                 int
	TLS                  string
	Auth                 string // auto, plain, login, cram-md5
	// ConnectTimeout bounds the connection, greeting, EHLO, STARTTLS and
	// AUTH; CommandTimeout each later command; DataTimeout the reply to
	// the end of a message (RFC 5321 4.5.3.2 asks for 10 minutes; relays
	// answer in seconds).
	ConnectTimeout time.Duration
	CommandTimeout time.Duration
	DataTimeout    time.Duration
	LocalName      string
	tlsConfig      *tls.Config
	noPipelining   bool
}

// SMTPOption configures an SMTP transport.
type SMTPOption func(*SMTPTransport)

// WithTLSConfig sets the TLS configuration (for a private CA).
func WithTLSConfig(c *tls.Config) SMTPOption { return func(t *SMTPTransport) { t.tlsConfig = c } }

// WithTimeouts sets the connect, per-command and end-of-data timeouts; a
// zero one keeps its default.
func WithTimeouts(connect, command, data time.Duration) SMTPOption {
	return func(t *SMTPTransport) {
		for _, p := range []struct {
			dst *time.Duration
			v   time.Duration
		}{{&t.ConnectTimeout, connect}, {&t.CommandTimeout, command}, {&t.DataTimeout, data}} {
			if p.v > 0 {
				*p.dst = p.v
			}
		}
	}
}

// WithoutPipelining sends MAIL, RCPT and DATA one at a time even to a
// server that offers PIPELINING.
func WithoutPipelining() SMTPOption { return func(t *SMTPTransport) { t.noPipelining = true } }

// LoadCA returns a TLS configuration that trusts the PEM certificates in
// file (a private CA or a relay's self-signed certificate) besides the
// system's.
func LoadCA(file string) (*tls.Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "transport.ca_file %s: %w", file, newsletter.PathCause(err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, newsletter.Errorf(newsletter.EINVALID, "transport.ca_file %s: no PEM certificate in it", file)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

func newSMTP(u *url.URL, password string, opts ...SMTPOption) (*SMTPTransport, error) {
	t := &SMTPTransport{Host: u.Hostname(), TLS: TLSStartTLS, Port: 587, Auth: "auto",
		ConnectTimeout: 30 * time.Second, CommandTimeout: 60 * time.Second, DataTimeout: 120 * time.Second, LocalName: "localhost"}
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
		case TLSStartTLS, TLSOpportunistic, TLSInsecure, TLSNone:
			t.TLS = v
		default:
			return nil, newsletter.Errorf(newsletter.EINVALID, "transport %s: tls=%s; use starttls, opportunistic, insecure or none", u.Redacted(), v)
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
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.tlsConfig != nil {
		c = t.tlsConfig.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = t.Host
	}
	// Opportunistic TLS, as between MTAs, encrypts without verifying;
	// insecure is the same, but required.
	c.InsecureSkipVerify = t.TLS == TLSOpportunistic || t.TLS == TLSInsecure
	return c
}

// Open connects, says EHLO, starts TLS as configured and authenticates. A
// failure is a *SendError with Reason Connection; its Retry says whether
// trying again may help.
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
		return nil, connectError(err)
	}
	conn.SetDeadline(time.Now().Add(t.ConnectTimeout))
	// A stop cuts the greeting, TLS and AUTH short as it cuts the dial.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	c, err := smtp.NewClient(conn, t.Host)
	if err != nil {
		conn.Close()
		return nil, connectError(err)
	}
	if err := t.greet(c, addr); err != nil {
		c.Close()
		return nil, connectError(err)
	}
	if !stop() || ctx.Err() != nil {
		c.Close()
		return nil, connectError(ctx.Err())
	}
	pipelining, _ := c.Extension("PIPELINING")
	pipelining = pipelining && !t.noPipelining
	return &smtpConn{t: t, c: c, conn: conn, pipelining: pipelining}, nil
}

// greet says EHLO, starts TLS as the mode asks and authenticates. AUTH is
// never sent in clear unless tls=none was chosen.
func (t *SMTPTransport) greet(c *smtp.Client, addr string) error {
	if err := c.Hello(t.LocalName); err != nil {
		return err
	}
	secure := t.TLS == TLSImplicit
	if t.TLS != TLSNone && t.TLS != TLSImplicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(t.tlsConf()); err != nil {
				return fmt.Errorf("TLS with %s failed: %w", addr, err)
			}
			secure = true
		} else if t.TLS != TLSOpportunistic {
			return &SendError{Reason: ReasonConnection, Text: fmt.Sprintf("%s does not offer STARTTLS; use ?tls=opportunistic or ?tls=none to send without it", addr)}
		}
	}
	if t.User == "" {
		return nil
	}
	if !secure && t.TLS != TLSNone {
		return &SendError{Reason: ReasonConnection, Text: fmt.Sprintf("%s offers no STARTTLS, and the password is not sent in clear; use ?tls=none to allow that", addr)}
	}
	a, err := t.auth(c)
	if err != nil {
		return err
	}
	if err := c.Auth(a); err != nil {
		return fmt.Errorf("authentication as %s failed: %w", t.User, err)
	}
	return nil
}

// connectError classifies a failure to open a connection. A reply keeps
// its code; the text says what failed (TLS, authentication).
func connectError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		se.Reason, se.Broken = ReasonConnection, true
		return se
	}
	out := &SendError{Reason: ReasonConnection, Broken: true, Retry: true, Text: err.Error()}
	var te *textproto.Error
	if errors.As(err, &te) {
		out = replyError(te, stageConnect)
		if what := strings.TrimSuffix(strings.TrimSuffix(err.Error(), te.Error()), ": "); what != "" && what != err.Error() {
			out.Text += " (" + what + ")"
		}
		out.Reason, out.Broken = ReasonConnection, true
	}
	return out
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
	allowPlain := t.TLS == TLSNone // greet has checked the rest
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
			return nil, &SendError{Reason: ReasonConnection, Text: fmt.Sprintf("the server offers no AUTH mechanism this tool knows (offered: %q)", mechs)}
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
