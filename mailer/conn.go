package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"sync"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

type smtpConn struct {
	t          *SMTPTransport
	c          *smtp.Client
	conn       net.Conn
	pipelining bool // the server offers PIPELINING (RFC 2920)
	broken     bool // a send failed in a way that leaves the connection unusable
}

// bufPool holds the buffers a message is built and dot-stuffed into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Send runs one MAIL, RCPT, DATA transaction. After a refused MAIL or RCPT
// the connection is reset and stays usable. Cancelling ctx stops the
// transaction where it is: before the final dot nothing was delivered;
// after it the outcome is Unknown.
func (s *smtpConn) Send(ctx context.Context, m *Built) error {
	raw := bufPool.Get().(*bytes.Buffer)
	raw.Reset()
	defer bufPool.Put(raw)
	sig, err := m.render(raw)
	if err != nil {
		return &SendError{Reason: ReasonSender, Text: "building the message: " + err.Error()}
	}
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Now()) })
	defer stop()
	s.deadline(ctx, s.t.CommandTimeout)
	if s.pipelining && isASCII(m.From) && isASCII(m.To) {
		err = s.envelopePipelined(m)
	} else {
		err = s.envelope(m)
	}
	if err == nil {
		err = s.data(ctx, sig, raw.Bytes())
	}
	var se *SendError
	if errors.As(err, &se) && se.Broken {
		s.broken = true
	}
	return err
}

// deadline sets the connection's deadline d from now, or now when ctx is
// done.
func (s *smtpConn) deadline(ctx context.Context, d time.Duration) {
	if ctx.Err() != nil {
		s.conn.SetDeadline(time.Now())
		return
	}
	s.conn.SetDeadline(time.Now().Add(d))
}

// refused classifies a refused step and resets the transaction, so that the
// connection stays usable.
func (s *smtpConn) refused(err error, stage string) *SendError {
	se := classify(err, stage)
	if !se.Broken {
		if rerr := s.c.Reset(); rerr != nil {
			se.Broken = true
		}
	}
	return se
}

// envelope sends MAIL, RCPT and DATA one at a time.
func (s *smtpConn) envelope(m *Built) error {
	if err := s.c.Mail("<" + m.From + ">"); err != nil {
		return s.refused(err, stageMail)
	}
	if err := s.c.Rcpt("<" + m.To + ">"); err != nil {
		return s.refused(err, stageRcpt)
	}
	t := s.c.Text
	id, err := t.Cmd("DATA")
	if err != nil {
		return classify(err, stageData)
	}
	t.StartResponse(id)
	_, _, err = t.ReadResponse(354)
	t.EndResponse(id)
	if err != nil {
		return s.refused(err, stageData)
	}
	return nil
}

// envelopePipelined sends MAIL, RCPT and DATA in one write and reads the
// three replies (RFC 2920): two round trips a message instead of four.
// Addresses that need SMTPUTF8 take the unpipelined path.
func (s *smtpConn) envelopePipelined(m *Built) error {
	t := s.c.Text
	fmt.Fprintf(t.W, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", m.From, m.To)
	if err := t.W.Flush(); err != nil {
		return classify(err, stageMail)
	}
	// Every reply is read, in order, whatever the first ones said.
	_, _, mailErr := t.ReadResponse(2)
	_, _, rcptErr := t.ReadResponse(2)
	_, _, dataErr := t.ReadResponse(354)
	for _, err := range []error{mailErr, rcptErr, dataErr} {
		var te *textproto.Error
		if err != nil && !errors.As(err, &te) {
			return classify(err, stageMail) // the connection failed
		}
	}
	if mailErr == nil && rcptErr == nil && dataErr == nil {
		return nil
	}
	if dataErr == nil {
		// The server took DATA although MAIL or RCPT failed: end the empty
		// message without a body, then forget it.
		fmt.Fprintf(t.W, ".\r\n")
		if err := t.W.Flush(); err != nil {
			return classify(err, stageMail)
		}
		if _, _, err := t.ReadResponse(0); err != nil {
			var te *textproto.Error
			if !errors.As(err, &te) {
				return classify(err, stageMail)
			}
		}
	}
	switch {
	case mailErr != nil:
		return s.refused(mailErr, stageMail)
	case rcptErr != nil:
		return s.refused(rcptErr, stageRcpt)
	}
	return s.refused(dataErr, stageData)
}

// data writes the message (after its signature field sig), dot-stuffed
// and ended by the final dot, in one write, and reads the reply. Once the
// final dot is out, a lost reply makes the outcome Unknown: the server may
// have taken the message.
func (s *smtpConn) data(ctx context.Context, sig string, msg []byte) error {
	out := bufPool.Get().(*bytes.Buffer)
	out.Reset()
	defer bufPool.Put(out)
	out.Grow(len(sig) + len(msg) + len(msg)/64 + 8)
	out.WriteString(sig) // a header field: no line starts with a dot
	out.Write(dotStuff(out.AvailableBuffer(), msg))
	t := s.c.Text
	s.deadline(ctx, s.t.CommandTimeout)
	if _, err := t.W.Write(out.Bytes()); err != nil {
		return &SendError{Reason: ReasonTemporary, Text: err.Error(), Broken: true}
	}
	if err := t.W.Flush(); err != nil {
		return &SendError{Reason: ReasonTemporary, Text: err.Error(), Broken: true}
	}
	s.deadline(ctx, s.t.DataTimeout)
	// Any 2xx accepts the message (RFC 5321 4.2.1): a 252 is no reason to
	// send it again.
	_, _, err := t.ReadResponse(2)
	if err == nil {
		return nil
	}
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 400 {
		return s.refused(te, stageDot)
	}
	// No reply, or one that is neither yes nor no (a 1xx or 3xx to the end
	// of data): the message may have been taken.
	return &SendError{Reason: ReasonUnknown, Broken: true,
		Text: "the message was sent in full but no reply came after its end (" + err.Error() + "): it may or may not have been delivered"}
}

// dotStuff appends msg to dst as DATA wants it (RFC 5321 4.5.2): lines end
// in CRLF, a line that starts with a dot gets another, and the final
// ".\r\n" ends it.
func dotStuff(dst, msg []byte) []byte {
	atLineStart := true
	for len(msg) > 0 {
		if atLineStart && msg[0] == '.' {
			dst = append(dst, '.')
		}
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			dst = append(dst, msg...)
			dst = append(dst, '\r', '\n')
			break
		}
		line := msg[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		dst = append(dst, line...)
		dst = append(dst, '\r', '\n')
		msg = msg[i+1:]
		atLineStart = true
	}
	return append(dst, '.', '\r', '\n')
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Close says QUIT and closes; a broken connection (a timeout, a drop, a
// stop) is closed at once, without waiting on a server that is not
// answering.
func (s *smtpConn) Close() error {
	if s.broken {
		return s.conn.Close()
	}
	s.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := s.c.Quit(); err != nil {
		return s.c.Close()
	}
	return nil
}
