package mtatest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/newsletter/internal/smtptest"
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
	t.Parallel()
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

	// A local part that cannot be a maildir is an unknown user.
	err := send(t, pf.Addr(), pf.Cert, "news@example.org", []string{".hidden@example.com"}, "refused")
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 550 || !strings.HasPrefix(te.Msg, "5.1.1") {
		t.Errorf("RCPT .hidden@: %v, want 550 5.1.1", err)
	}

	// Stopped, it refuses connections.
	pf.Stop(t)
	if c, err := net.DialTimeout("tcp", pf.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Stop", pf.Addr())
	}
}

func TestPostfixRelayReturnsDSNs(t *testing.T) {
	t.Parallel()
	start := time.Now()
	hop := smtptest.Start(t)
	hop.SetFaults(
		smtptest.Fault{Stage: smtptest.Rcpt, Match: `^gone@`, Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "no such user"},
		smtptest.Fault{Stage: smtptest.Rcpt, Match: `^later@`, Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "try again later"},
	)
	pf := StartPostfix(t, PostfixOptions{RelayHost: hop.Addr})
	const sender = "bounces+d42@example.org"
	for _, rcpt := range []string{"ok@example.com", "gone@example.com", "later@example.com"} {
		if err := send(t, pf.Addr(), nil, sender, []string{rcpt}, "for "+rcpt); err != nil {
			t.Fatalf("%s: %v", rcpt, err)
		}
	}
	pf.WaitCount(t, sender, 1, 15*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for hop.Count("ok@example.com") < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := hop.Count("ok@example.com"); n != 1 {
		t.Errorf("the next hop got %d messages for ok@, want 1", n)
	}
	time.Sleep(2 * time.Second) // retries of later@ must not bounce
	msgs := pf.Messages(t, "bounces")
	if len(msgs) != 1 {
		t.Fatalf("%d DSNs, want 1", len(msgs))
	}
	dsn := string(msgs[0])
	for _, want := range []string{
		"Delivered-To: bounces+d42@example.org",
		"multipart/report; report-type=delivery-status",
		"Final-Recipient: rfc822; gone@example.com",
		"Action: failed",
		"Status: 5.1.1",
		"Diagnostic-Code: smtp; 550 5.1.1 no such user",
	} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN lacks %q", want)
		}
	}
	if strings.Contains(dsn, "later@") {
		t.Errorf("DSN mentions the deferred recipient")
	}
	// The deferred one stays queued; it is in the active queue while
	// Postfix retries it, so look until it is seen deferred.
	var q []QueuedMessage
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		q = pf.Queue(t)
		if len(q) == 1 && q[0].QueueName == "deferred" {
			break
		}
	}
	if len(q) != 1 || q[0].QueueName != "deferred" || len(q[0].Recipients) != 1 || q[0].Recipients[0].Address != "later@example.com" ||
		!strings.Contains(q[0].Recipients[0].DelayReason, "451 4.3.0") {
		t.Errorf("queue: %+v", q)
	}
	if n := hop.Count("later@example.com"); n != 0 {
		t.Errorf("the next hop accepted later@ %d times", n)
	}
	if t.Failed() {
		t.Logf("DSN:\n%s", dsn)
	}
	t.Logf("done in %v", time.Since(start))
}

func TestPostfixRateLimit(t *testing.T) {
	t.Parallel()
	start := time.Now()
	pf := StartPostfix(t, PostfixOptions{MessageRateLimit: 3, RateTimeUnit: time.Minute})
	var sent int
	var rerr error
	for i := 0; i < 6 && rerr == nil; i++ {
		if rerr = send(t, pf.Addr(), nil, "news@example.org", []string{"reader@example.com"}, fmt.Sprint("message ", i)); rerr == nil {
			sent++
		}
	}
	var te *textproto.Error
	if !errors.As(rerr, &te) || te.Code/100 != 4 {
		t.Fatalf("after %d messages: %v, want a 4xx", sent, rerr)
	}
	if sent != 3 {
		t.Errorf("%d messages accepted before the limit, want 3", sent)
	}
	t.Logf("reply after %d messages: %v", sent, rerr)
	pf.WaitCount(t, "reader", sent, 10*time.Second)
	pf.Set(t, map[string]string{"smtpd_client_message_rate_limit": "0"})
	if err := send(t, pf.Addr(), nil, "news@example.org", []string{"reader@example.com"}, "after the limit was lifted"); err != nil {
		t.Fatalf("after lifting the limit: %v", err)
	}
	pf.WaitCount(t, "reader", sent+1, 10*time.Second)
	t.Logf("done in %v", time.Since(start))
}

// TestStopsEverything starts two Postfixes and a Dovecot at once, in
// parallel, and checks that, when their tests end, none of their processes
// is left.
func TestStopsEverything(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var pids []int
	record := func(leader int) {
		mu.Lock()
		defer mu.Unlock()
		pids = append(pids, leader)
		pids = append(pids, sessionMembers(leader)...)
	}
	t.Run("group", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			t.Run(fmt.Sprint("postfix", i), func(t *testing.T) {
				t.Parallel()
				pf := StartPostfix(t, PostfixOptions{TLS: i == 0})
				if err := send(t, pf.Addr(), pf.Cert, "news@example.org", []string{"reader@example.com"}, "hello"); err != nil {
					t.Fatal(err)
				}
				pf.WaitCount(t, "reader", 1, 10*time.Second)
				b, err := os.ReadFile(filepath.Join(pf.QueueDir, "pid", "master.pid"))
				if err != nil {
					t.Fatal(err)
				}
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				record(pid)
			})
		}
		t.Run("dovecot", func(t *testing.T) {
			t.Parallel()
			dc := StartDovecot(t, DovecotOptions{})
			record(dc.cmd.Process.Pid)
		})
	})
	if t.Failed() {
		return
	}
	if len(pids) < 10 {
		t.Errorf("only %d processes seen: %v", len(pids), pids)
	}
	for _, pid := range pids {
		if alive(pid) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("process %d (%s) is still running", pid, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '}))
		}
	}
}
