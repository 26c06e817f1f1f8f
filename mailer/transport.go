package mailer

import (
	"context"
	"net/url"

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
