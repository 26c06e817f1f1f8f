package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

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
