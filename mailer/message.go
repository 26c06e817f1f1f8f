package mailer

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/base32"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"

	"github.com/example/newsletter"
)

// Message is one campaign message to one reader, before it is built.
type Message struct {
	Campaign          string // campaign id, or "test" or "preview"
	ToName, ToEmail   string
	Subject           string
	Text, HTML        string
	List              string // list name, for List-Id
	UnsubscribeURL    string // one-click HTTPS link (RFC 8058)
	UnsubscribeMailto string // optional mailto: address
	MessageID         string // "<id@domain>"; made by Build when empty
}

// Built is a message ready for a transport.
type Built struct {
	Campaign string
	// DeliveryID is the delivery in the log, 0 for a test or a preview.
	DeliveryID int64
	MessageID  string
	From       string // envelope sender
	To         string // envelope recipient
	msg        *gomail.Msg
	dkim       *dkim.SignOptions
}

// WriteTo writes the message in RFC 5322 form (DKIM-signed when
// configured).
func (b *Built) WriteTo(w *bytes.Buffer) error {
	if b.dkim == nil {
		_, err := b.msg.WriteTo(w)
		return err
	}
	var unsigned bytes.Buffer
	if _, err := b.msg.WriteTo(&unsigned); err != nil {
		return err
	}
	return dkim.Sign(w, &unsigned, b.dkim)
}

// Bytes returns the message in RFC 5322 form.
func (b *Built) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	err := b.WriteTo(&buf)
	return buf.Bytes(), err
}

// Builder turns Messages into Built messages with the sender's fixed
// headers. It is safe for concurrent use.
type Builder struct {
	from     *mail.Address
	replyTo  *mail.Address
	domain   string // of From: Message-IDs and List-Id are on it
	siteName string
	dkim     *dkimConfig
	now      func() time.Time
}

type dkimConfig struct {
	domain, selector string
	key              crypto.Signer
}

// BuilderOption configures a Builder.
type BuilderOption func(*Builder) error

// WithReplyTo sets a Reply-To address.
func WithReplyTo(addr string) BuilderOption {
	return func(b *Builder) error {
		if addr == "" {
			return nil
		}
		a, err := mail.ParseAddress(addr)
		if err != nil {
			return newsletter.Errorf(newsletter.EINVALID, "site.reply_to %q: %w", addr, err)
		}
		b.replyTo = a
		return nil
	}
}

// WithDKIM signs every message with the PEM private key (RSA or Ed25519) in
// keyFile, as domain and selector.
func WithDKIM(domain, selector, keyFile string) BuilderOption {
	return func(b *Builder) error {
		if domain == "" {
			return nil
		}
		if selector == "" || keyFile == "" {
			return newsletter.Errorf(newsletter.EINVALID, "dkim: domain, selector and private_key_file are all needed")
		}
		key, err := os.ReadFile(keyFile)
		if err != nil {
			return newsletter.Errorf(newsletter.EINVALID, "dkim.private_key_file %s: %w", keyFile, newsletter.PathCause(err))
		}
		return withDKIMKey(domain, selector, key)(b)
	}
}

// WithDKIMKey is WithDKIM with the PEM key itself.
func WithDKIMKey(domain, selector string, pemKey []byte) BuilderOption {
	return withDKIMKey(domain, selector, pemKey)
}

func withDKIMKey(domain, selector string, pemKey []byte) BuilderOption {
	return func(b *Builder) error {
		key, err := gomail.PrivKeyFromPEM(pemKey)
		if err != nil {
			return newsletter.Errorf(newsletter.EINVALID, "dkim private key: %w", err)
		}
		b.dkim = &dkimConfig{domain: domain, selector: selector, key: key}
		return nil
	}
}

// WithClock sets the clock for Date headers.
func WithClock(now func() time.Time) BuilderOption {
	return func(b *Builder) error { b.now = now; return nil }
}

// dkimOptions returns the signing options, nil without DKIM. The signature
// is made with go-msgauth rather than go-mail's signer: go-mail v0.8.1
// folds the h= tag inside a header name when the list is long, which breaks
// relaxed verification of exactly the header set RFC 8058 asks for.
func (b *Builder) dkimOptions() *dkim.SignOptions {
	if b.dkim == nil {
		return nil
	}
	hs := dkimHeaders
	if b.replyTo != nil {
		hs = append(hs[:len(hs):len(hs)], "Reply-To")
	}
	return &dkim.SignOptions{
		Domain:                 b.dkim.domain,
		Selector:               b.dkim.selector,
		Signer:                 b.dkim.key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             hs,
	}
}

// dkimHeaders are the headers the DKIM signature covers; RFC 8058 requires
// List-Unsubscribe and List-Unsubscribe-Post among them.
var dkimHeaders = []string{"From", "To", "Subject", "Date", "Message-ID",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type"}

// NewBuilder returns a Builder sending as from ("Name <addr@domain>") for
// the organisation siteName.
func NewBuilder(from, siteName string, opts ...BuilderOption) (*Builder, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "site.from %q: %w", from, err)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at < 0 || !strings.Contains(a.Address[at:], ".") {
		return nil, newsletter.Errorf(newsletter.EINVALID, "site.from %q needs an address on a domain", from)
	}
	a.Name = newsletter.OneLine(a.Name)
	b := &Builder{from: a, domain: strings.ToLower(a.Address[at+1:]), siteName: newsletter.OneLine(siteName), now: time.Now}
	for _, o := range opts {
		if err := o(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Domain returns the From domain.
func (b *Builder) Domain() string { return b.domain }

// From returns the From address.
func (b *Builder) From() string { return b.from.Address }

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewMessageID returns a unique Message-ID on the From domain: the time
// and 80 random bits, "<20261127T210019.k3j5...@example.org>".
func (b *Builder) NewMessageID() string {
	r := make([]byte, 10)
	rand.Read(r)
	return "<" + b.now().UTC().Format("20060102150405") + "." + strings.ToLower(idEncoding.EncodeToString(r)) + "@" + b.domain + ">"
}

// ListID returns the List-Id of a list: "Site <list.domain>" (RFC 2919).
func (b *Builder) ListID(list string) string {
	id := "<" + list + "." + b.domain + ">"
	if b.siteName == "" {
		return id
	}
	return b.siteName + " " + id
}

// Build makes the message: From, To with name, Subject, Date, Message-ID,
// List-Id, List-Unsubscribe(-Post), and multipart/alternative with the text
// part before the HTML part, quoted-printable UTF-8.
func (b *Builder) Build(m *Message) (*Built, error) {
	if m.MessageID == "" {
		m.MessageID = b.NewMessageID()
	}
	msg := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(b.from.Name, b.from.Address); err != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "from: %w", err)
	}
	// The name goes in through the address type, which quotes or encodes
	// it, so any name (quotes, "<>", "=", emoji) makes a valid To header;
	// only the bare address is parsed.
	if _, err := mail.ParseAddress("<" + m.ToEmail + ">"); err != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "to %s: %w", m.ToEmail, err)
	}
	msg.ToMailAddress(&mail.Address{Name: newsletter.OneLine(m.ToName), Address: m.ToEmail})
	if b.replyTo != nil {
		msg.ReplyToMailAddress(b.replyTo)
	}
	msg.Subject(newsletter.OneLine(m.Subject))
	msg.SetDateWithValue(b.now())
	msg.SetMessageIDWithValue(strings.Trim(m.MessageID, "<>"))
	if m.List != "" {
		msg.SetGenHeader("List-Id", b.ListID(newsletter.OneLine(m.List)))
	}
	var unsub []string
	if m.UnsubscribeURL != "" {
		unsub = append(unsub, "<"+newsletter.OneLine(m.UnsubscribeURL)+">")
	}
	if m.UnsubscribeMailto != "" {
		unsub = append(unsub, "<mailto:"+newsletter.OneLine(strings.TrimPrefix(m.UnsubscribeMailto, "mailto:"))+"?subject=unsubscribe>")
	}
	if len(unsub) > 0 {
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, strings.Join(unsub, ",\r\n "))
		if m.UnsubscribeURL != "" {
			msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return &Built{Campaign: m.Campaign, MessageID: m.MessageID, From: b.from.Address, To: m.ToEmail, msg: msg, dkim: b.dkimOptions()}, nil
}
