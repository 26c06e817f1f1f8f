package mtatest

import (
	"bytes"
	"fmt"
	"net/smtp"
	"testing"
	"time"
)

// send sends one message from from to rcpts through addr with net/smtp,
// with STARTTLS trusting cert when cert is not nil.
func send(t *testing.T, addr string, cert *Cert, from string, rcpts []string, subject string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if cert != nil {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			t.Fatal("no STARTTLS offered")
		}
		if err := c.StartTLS(cert.ClientConfig("127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d@client.test>\r\n\r\nHello.\r\n",
		from, rcpts[0], subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano())
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestPostfixDeliversOverSTARTTLS(t *testing.T) {
	start := time.Now()
	pf := StartPostfix(t, PostfixOptions{TLS: true})
	t.Logf("postfix started in %v on %s", time.Since(start), pf.Addr())
	if err := send(t, pf.Addr(), pf.Cert, "news@example.org", []string{"reader@example.com"}, "over TLS"); err != nil {
		t.Fatal(err)
	}
	pf.WaitCount(t, "reader@example.com", 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := pf.Count("reader@example.com"); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	msg := pf.Messages(t, "reader")[0]
	if !bytes.Contains(msg, []byte("Subject: over TLS")) || !bytes.Contains(msg, []byte("TLS")) {
		t.Fatalf("message:\n%s", msg)
	}
	t.Logf("delivered in %v:\n%s", time.Since(start), msg)
}
