package mailer

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

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
	// TextPieces and HTMLPieces, when set, are the parts in pieces, in
	// place of Text and HTML: a send splices each reader's own pieces
	// around blocks encoded once for every reader.
	TextPieces, HTMLPieces []Piece
}

// Piece is a piece of a message part: Text, encoded when the message is
// written (a run of Text pieces as one string), or Encoded, already
// quoted-printable (EncodeQP) and written as it is. The text before and
// after an Encoded piece must end with a line break; then the part is byte
// for byte the one its pieces' texts make joined.
type Piece struct {
	Text    string
	Encoded []byte
}

// Built is a message ready for a transport.
type Built struct {
	Campaign string
	// DeliveryID is the delivery in the log, 0 for a test or a preview.
	DeliveryID int64
	MessageID  string
	From       string // envelope sender
	To         string // envelope recipient
	h          headers
	text, html []Piece
	dkim       *dkimConfig
	dkimKeys   []string // the header names the signature covers
}

// headers are the header values of a built message, ready to write.
type headers struct {
	date              time.Time
	listID, messageID string
	subject           string
	unsubscribe       string // the List-Unsubscribe value, preformatted
	oneClick          bool   // List-Unsubscribe-Post
	from, to, replyTo string // address header values
}

// WriteTo writes the message in RFC 5322 form (DKIM-signed when
// configured) into w.
func (b *Built) WriteTo(w *bytes.Buffer) error {
	if b.dkim == nil {
		return b.writeMIME(w)
	}
	unsigned := bufPool.Get().(*bytes.Buffer)
	unsigned.Reset()
	defer bufPool.Put(unsigned)
	sig, err := b.render(unsigned)
	if err != nil {
		return err
	}
	w.WriteString(sig)
	w.Write(unsigned.Bytes())
	return nil
}

// render writes the unsigned message into w and returns the DKIM-Signature
// field that goes before it ("" without DKIM), so that a transport writes
// the two without copying the message once more.
func (b *Built) render(w *bytes.Buffer) (sig string, err error) {
	if err := b.writeMIME(w); err != nil {
		return "", err
	}
	if b.dkim == nil {
		return "", nil
	}
	return b.sign(w.Bytes())
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
	dkimKeys []string
	now      func() time.Time
	// fromHeader is the From value, made as go-mail made it (the name
	// quoted, then parsed and written again); fromErr its parse error.
	fromHeader string
	fromErr    error
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
	// From as go-mail wrote it: the name quoted, parsed, written again.
	fa, err := mail.ParseAddress(fmt.Sprintf(`"%s" <%s>`, a.Name, a.Address))
	if err != nil {
		b.fromErr = fmt.Errorf("failed to parse mail address %q: %w", fmt.Sprintf(`"%s" <%s>`, a.Name, a.Address), err)
	} else {
		b.fromHeader = fa.String()
	}
	if b.dkim != nil {
		b.dkimKeys = dkimHeaders
		if b.replyTo != nil {
			b.dkimKeys = append(dkimHeaders[:len(dkimHeaders):len(dkimHeaders)], "Reply-To")
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
// part before the HTML part, quoted-printable UTF-8. It only checks and
// keeps the values; WriteTo writes the message into the sender's buffer.
func (b *Builder) Build(m *Message) (*Built, error) {
	if m.MessageID == "" {
		m.MessageID = b.NewMessageID()
	}
	if b.fromErr != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "from: %w", b.fromErr)
	}
	// The name goes in through the address type, which quotes or encodes
	// it, so any name (quotes, "<>", "=", emoji) makes a valid To header;
	// only the bare address is parsed.
	if _, err := mail.ParseAddress("<" + m.ToEmail + ">"); err != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "to %s: %w", m.ToEmail, err)
	}
	built := &Built{Campaign: m.Campaign, MessageID: m.MessageID, From: b.from.Address, To: m.ToEmail,
		text: m.TextPieces, html: m.HTMLPieces, dkim: b.dkim, dkimKeys: b.dkimKeys}
	if built.text == nil {
		built.text = []Piece{{Text: m.Text}}
	}
	if built.html == nil && m.HTML != "" {
		built.html = []Piece{{Text: m.HTML}}
	}
	h := &built.h
	h.date = b.now()
	h.messageID = "<" + strings.Trim(m.MessageID, "<>") + ">"
	h.subject = newsletter.OneLine(m.Subject)
	h.from = b.fromHeader
	h.to = (&mail.Address{Name: newsletter.OneLine(m.ToName), Address: m.ToEmail}).String()
	if b.replyTo != nil {
		h.replyTo = b.replyTo.String()
	}
	if m.List != "" {
		h.listID = b.ListID(newsletter.OneLine(m.List))
	}
	var unsub []string
	if m.UnsubscribeURL != "" {
		unsub = append(unsub, "<"+newsletter.OneLine(m.UnsubscribeURL)+">")
	}
	if m.UnsubscribeMailto != "" {
		unsub = append(unsub, "<mailto:"+newsletter.OneLine(strings.TrimPrefix(m.UnsubscribeMailto, "mailto:"))+"?subject=unsubscribe>")
	}
	h.unsubscribe = strings.Join(unsub, ",\r\n ")
	h.oneClick = m.UnsubscribeURL != ""
	return built, nil
}
