package mailer

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
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
