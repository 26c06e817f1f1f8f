package bounces

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

var base64URL = base64.RawURLEncoding

// Report types.
const (
	TypeDSN       = "delivery-status" // RFC 3464
	TypeFeedback  = "feedback-report" // RFC 5965 (ARF)
	TypeNonStdDSN = "non-standard"    // a bounce in prose, as some servers write them
)

// Actions of a recipient in a DSN (RFC 3464 section 2.3.3).
const (
	ActionFailed  = "failed"
	ActionDelayed = "delayed"
)

// ErrNotReport: the message is neither a bounce nor a complaint.
var ErrNotReport = errors.New("not a bounce or complaint")

// Report is what one bounce or complaint message says.
type Report struct {
	Type string
	// ID identifies the report: its Message-ID, or a hash of the whole
	// message when it has none.
	ID         string
	Recipients []Recipient
	// Tokens are the VERP tokens found in the report's addresses and in
	// the original message it quotes.
	Tokens []string
	// ReturnPaths are the addresses with a "+" in the local part found
	// where Tokens are looked for: the processor tells whether one has the
	// form of its VERP addresses though no token verifies.
	ReturnPaths []string
	// MessageIDs are the Message-IDs of the original message, from the
	// headers the report quotes.
	MessageIDs []string
	// FeedbackType is an ARF report's type ("abuse", "fraud" …).
	FeedbackType string
}

// Recipient is one recipient of a report: a DSN's per-recipient fields, or
// the reported address of a complaint.
type Recipient struct {
	Address    string // Final-Recipient (or Original-Recipient)
	Original   string // Original-Recipient, when there is one
	Action     string // failed, delayed, delivered, relayed, expanded; "" in a complaint
	Status     string // enhanced status code, such as 5.1.1
	Diagnostic string // Diagnostic-Code without its type
	// Kind, when a provider says it ("Permanent"), is the event's kind;
	// "" classifies Status and Diagnostic.
	Kind string
}

// Limits that keep a hostile message from costing much.
const (
	maxDepth = 8       // nested MIME parts
	maxParts = 64      // MIME parts in all
	MaxSize  = 4 << 20 // bytes of a message read; the rest is ignored
)

// Parse reads one message and returns the report in it, or ErrNotReport.
func Parse(raw []byte) (*Report, error) {
	if len(raw) > MaxSize {
		raw = raw[:MaxSize]
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, ErrNotReport
	}
	body, _ := io.ReadAll(msg.Body)
	p := &parser{rep: &Report{}}
	p.rep.ID = reportID(msg.Header, raw)
	p.addressTokens(msg.Header)
	p.walk(textproto.MIMEHeader(msg.Header), body, 0)
	rep := p.rep
	switch {
	case p.feedback:
		rep.Type = TypeFeedback
	case p.dsn:
		rep.Type = TypeDSN
	case looksLikeBounce(msg.Header):
		rep.Type = TypeNonStdDSN
		p.prose(decodeBody(msg.Header.Get("Content-Transfer-Encoding"), body))
	default:
		return nil, ErrNotReport
	}
	rep.Tokens = unique(rep.Tokens)
	rep.ReturnPaths = unique(rep.ReturnPaths)
	rep.MessageIDs = unique(rep.MessageIDs)
	return rep, nil
}

type parser struct {
	rep           *Report
	dsn, feedback bool
	parts         int
}

// reportID is the report's Message-ID, else a hash of the message with
// its line endings made CRLF, so that the copy in an mbox (LF) and the one
// over IMAP (CRLF) are one report.
func reportID(h mail.Header, raw []byte) string {
	if id := strings.TrimSpace(h.Get("Message-Id")); id != "" {
		return id
	}
	sum := sha256.Sum256(bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// addressTokens collects VERP tokens from the headers that carry the
// report's recipient: a bounce is mailed to the envelope sender.
func (p *parser) addressTokens(h mail.Header) {
	for _, k := range []string{"To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "Cc"} {
		for _, v := range h[textproto.CanonicalMIMEHeaderKey(k)] {
			p.addresses(v)
		}
	}
}

// walk visits a MIME entity and its parts.
func (p *parser) walk(h textproto.MIMEHeader, body []byte, depth int) {
	p.parts++
	if depth > maxDepth || p.parts > maxParts {
		return
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	body = decodeBody(h.Get("Content-Transfer-Encoding"), body)
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if mt == "multipart/report" {
			switch strings.ToLower(params["report-type"]) {
			case TypeDSN, "global-delivery-status":
				p.dsn = true
			case TypeFeedback:
				p.feedback = true
			}
		}
		if params["boundary"] == "" {
			return
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return
			}
			b, err := io.ReadAll(part)
			if err != nil && len(b) == 0 {
				return
			}
			p.walk(part.Header, b, depth+1)
		}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		p.dsn = true
		p.deliveryStatus(body)
	case mt == "message/feedback-report":
		p.feedback = true
		p.feedbackReport(body)
	case mt == "message/rfc822" || mt == "message/global" || mt == "text/rfc822-headers" || mt == "message/rfc822-headers":
		p.original(body)
	}
}

func decodeBody(cte string, b []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		dec, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, newlineStripper(b)))
		if err == nil || len(dec) > 0 {
			return dec
		}
	case "quoted-printable":
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		if err == nil || len(dec) > 0 {
			return dec
		}
	}
	return b
}

func newlineStripper(b []byte) io.Reader {
	return bytes.NewReader(bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, b))
}

// fieldGroups splits a DSN or feedback report body into groups of header
// fields separated by blank lines, continuation lines unfolded.
func fieldGroups(body []byte) []map[string]string {
	var groups []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur, last = map[string]string{}, ""
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case (line[0] == ' ' || line[0] == '\t') && last != "":
			cur[last] += " " + strings.TrimSpace(line)
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			if _, seen := cur[last]; !seen { // the first of a repeated field
				cur[last] = strings.TrimSpace(v)
			}
		}
	}
	flush()
	return groups
}

// typedValue strips the type of "rfc822; user@example.com" or
// "smtp; 550 5.1.1 no such user".
func typedValue(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(t, " @") {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

func (p *parser) deliveryStatus(body []byte) {
	groups := fieldGroups(body)
	for i, g := range groups {
		rcpt := g["final-recipient"]
		if rcpt == "" {
			rcpt = g["original-recipient"]
		}
		if rcpt == "" && i == 0 {
			continue // the per-message fields
		}
		if rcpt == "" && g["action"] == "" {
			continue
		}
		r := Recipient{
			Address:    strings.ToLower(strings.Trim(typedValue(rcpt), "<> ")),
			Original:   strings.ToLower(strings.Trim(typedValue(g["original-recipient"]), "<> ")),
			Action:     strings.ToLower(strings.TrimSpace(g["action"])),
			Status:     statusCode(g["status"]),
			Diagnostic: typedValue(g["diagnostic-code"]),
		}
		p.rep.Recipients = append(p.rep.Recipients, r)
	}
}

func (p *parser) feedbackReport(body []byte) {
	groups := fieldGroups(body)
	if len(groups) == 0 {
		return
	}
	g := groups[0]
	p.rep.FeedbackType = strings.ToLower(strings.TrimSpace(g["feedback-type"]))
	p.addresses(g["original-mail-from"])
	if r := g["original-rcpt-to"]; r != "" {
		p.rep.Recipients = append(p.rep.Recipients, Recipient{Address: strings.ToLower(strings.Trim(typedValue(r), "<> "))})
	}
}

// original reads the quoted original message (or its headers): its
// Message-ID and its envelope sender, which carries the VERP token.
func (p *parser) original(body []byte) {
	hdr := body
	if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
		hdr = body[:i+1]
	}
	if i := bytes.Index(body, []byte("\r\n\r\n")); i >= 0 && i < len(hdr) {
		hdr = body[:i+2]
	}
	tp := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(hdr), strings.NewReader("\r\n"))))
	h, _ := tp.ReadMIMEHeader()
	for _, id := range h.Values("Message-Id") {
		if id = strings.TrimSpace(id); id != "" {
			p.rep.MessageIDs = append(p.rep.MessageIDs, id)
		}
	}
	for _, rp := range h.Values("Return-Path") {
		p.addresses(rp)
	}
	if len(p.rep.Recipients) == 0 && p.feedback {
		if to, err := mail.ParseAddress(h.Get("To")); err == nil {
			p.rep.Recipients = append(p.rep.Recipients, Recipient{Address: strings.ToLower(to.Address)})
		}
	}
}

var (
	bounceSubject    = regexp.MustCompile(`(?i)undeliver|returned mail|delivery (status notification|failure|has failed|problem)|failure notice|mail delivery failed|could not be delivered|non.?delivery|rejected`)
	autoReplySubject = regexp.MustCompile(`(?i)^\s*(automatic reply|auto(matic)?[ -]?(reply|response)|out of (the )?office|away from (the )?office|abwesenheit|r[ée]ponse automatique)`)
	bounceSender     = regexp.MustCompile(`(?i)mailer-daemon|postmaster|mail delivery (subsystem|system)`)
	quotedID         = regexp.MustCompile(`(?im)^[ \t>]*Message-ID:[ \t]*(<[^>\s]+>)`)
	proseAddress     = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)
	delayedWords     = regexp.MustCompile(`(?i)\b(delayed|will (be )?retr(y|ied)|still trying|not yet been delivered)\b`)
)

// looksLikeBounce tells a non-standard bounce by its sender or subject.
// An auto-reply (an out-of-office answer to the envelope sender) is not
// one, whatever its subject quotes.
func looksLikeBounce(h mail.Header) bool {
	if bounceSender.MatchString(h.Get("From")) {
		return true
	}
	return !isAutoReply(h) && bounceSubject.MatchString(h.Get("Subject"))
}

// isAutoReply tells an auto-reply from a person's mailbox: RFC 3834's
// Auto-Submitted: auto-replied, or an auto-reply subject. Only called for
// a message with no delivery-status part from no mailer daemon: a mail
// system's own DSN may say auto-replied too.
func isAutoReply(h mail.Header) bool {
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	return strings.HasPrefix(as, "auto-replied") || autoReplySubject.MatchString(h.Get("Subject"))
}

// prose reads a bounce written as text: the status code in it, the
// Message-IDs it quotes and the tokens of the addresses it names.
func (p *parser) prose(body []byte) {
	text := string(body)
	p.addresses(text)
	for _, m := range quotedID.FindAllStringSubmatch(text, 8) {
		p.rep.MessageIDs = append(p.rep.MessageIDs, m[1])
	}
	r := Recipient{Action: ActionFailed}
	status, at := proseStatus(text)
	r.Status = status
	if at >= 0 {
		line := text[at:]
		if j := strings.IndexAny(line, "\r\n"); j >= 0 {
			line = line[:j]
		}
		r.Diagnostic = strings.TrimSpace(line)
	}
	if (r.Status == "" || r.Status[0] == '4') && delayedWords.MatchString(text) {
		r.Action = ActionDelayed
	}
	// The addresses the prose names before the quoted original are the
	// candidates for the recipient.
	head := text
	if i := quotedID.FindStringIndex(text); i != nil {
		head = text[:i[0]]
	}
	seen := map[string]bool{}
	for _, a := range proseAddress.FindAllString(head, 16) {
		a = strings.ToLower(a)
		if !seen[a] {
			seen[a] = true
			r.Address = a
			p.rep.Recipients = append(p.rep.Recipients, r)
		}
	}
	if len(seen) == 0 {
		p.rep.Recipients = append(p.rep.Recipients, r)
	}
}

func unique(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
