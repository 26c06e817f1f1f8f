// Package mtatest runs real mail software for tests: a private Postfix
// (Debian's postfix package) on a loopback port that delivers into maildirs
// under the test's temporary directory or relays to a next hop the test
// runs, and a private Dovecot (dovecot-imapd) serving such a maildir over
// IMAP.
//
// Both run as root from their own configuration and state directories
// inside tb.TempDir(); neither touches the system's /etc/postfix,
// /var/spool/postfix or /etc/dovecot, nor needs the system services. They
// listen on free 127.0.0.1 ports, so several may run at once, in one test
// binary or in parallel test binaries, and both are stopped, with all
// their processes, when the test ends.
//
// A test that needs a missing package, or does not run as root, is
// skipped; with NEWSLETTER_REQUIRE_TOOLS=1 (as .ci/run sets) it fails.
//
// Postfix accepts mail from 127.0.0.1 without authentication. Mail to a
// local domain goes to <Root>/maildir/<localpart>/ (lower case, any
// +extension dropped, so bounces+TOKEN@example.org lands in "bounces"),
// through pipe(8) and a small maildir writer run as nobody: Postfix's own
// virtual(8) cannot compute a maildir from an address. Each start takes
// about two seconds (postfix start checks its directories); Dovecot starts
// in a tenth of a second.
//
// Delivery over STARTTLS into maildirs:
//
//	pf := mtatest.StartPostfix(t, mtatest.PostfixOptions{TLS: true})
//	// send to reader@example.com through pf.Addr(), trusting pf.Cert.CAFile
//	pf.WaitCount(t, "reader@example.com", 1, 10*time.Second)
//
// Postfix's own DSNs for what a next hop refuses, read over IMAP:
//
//	hop := smtptest.Start(t)
//	hop.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: "^gone@",
//		Code: 550, Enhanced: [3]int{5, 1, 1}})
//	pf := mtatest.StartPostfix(t, mtatest.PostfixOptions{RelayHost: hop.Addr})
//	// send from bounces+TOKEN@example.org to gone@example.com via pf.Addr()
//	pf.WaitCount(t, "bounces", 1, 10*time.Second)
//	dc := mtatest.StartDovecot(t, mtatest.DovecotOptions{Maildir: pf.Maildir("bounces")})
//	// imapclient.DialInsecure(dc.Addr(), nil); Login(dc.User, dc.Password)
package mtatest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/internal/testtool"
)

// DefaultHostname is the myhostname of a test Postfix, and the host part
// of the MAILER-DAEMON address its DSNs come from. It is not "localhost",
// which would make Postfix refuse to relay to a next hop greeting as
// localhost (such as internal/smtptest) as a mail loop.
const DefaultHostname = "mta.test"

// DefaultBounceDomain is the local domain of a relaying Postfix when
// PostfixOptions.LocalDomains is empty: mail to it, such as the DSNs
// Postfix sends to an envelope sender bounces+TOKEN@example.org, goes
// into maildirs instead of to the next hop.
const DefaultBounceDomain = "example.org"

// PostfixOptions configure StartPostfix. The zero value is a Postfix that
// accepts mail from loopback for any address at any domain over plain SMTP
// and delivers it into <root>/maildir/<localpart>/.
type PostfixOptions struct {
	// TLS offers STARTTLS with a fresh self-signed certificate
	// (Postfix.Cert); clients may still send without it.
	TLS bool

	// LocalDomains are the domains delivered into maildirs. Empty means
	// every domain without RelayHost, and DefaultBounceDomain with it.
	// The Hostname is always local (Postfix's own notices go there).
	LocalDomains []string

	// RelayHost, a host:port such as an internal/smtptest server's Addr,
	// turns on relay mode: mail for every domain that is not local goes
	// there, in plain SMTP, and Postfix returns its own DSNs for what the
	// next hop refuses to the envelope sender. A deferred recipient is
	// retried every second or two and stays in the queue (see Queue)
	// until the test ends.
	RelayHost string

	// MessageRateLimit sets smtpd_client_message_rate_limit: the number of
	// messages a client (127.0.0.1 counts, unlike Postfix's default) may
	// send per RateTimeUnit; more get a 4xx reply to MAIL FROM. 0 is no
	// limit.
	MessageRateLimit int
	// RateTimeUnit sets anvil_rate_time_unit; 0 means a minute.
	RateTimeUnit time.Duration

	// Hostname is myhostname; empty means DefaultHostname.
	Hostname string

	// MainCF sets further main.cf parameters, overriding the harness's
	// (such as "delay_warning_time": "1s" or "smtpd_tls_auth_only": "yes").
	MainCF map[string]string
}

// Postfix is a private Postfix instance started by StartPostfix.
type Postfix struct {
	// Root is the instance's directory: conf/ (main.cf, master.cf, maps),
	// queue/, data/, maildir/ and maillog.
	Root      string
	ConfigDir string // conf: pass to -c of postfix(1), postconf(1), postqueue(1)
	QueueDir  string
	// MaildirBase holds one maildir per local part, owned by nobody.
	MaildirBase string
	// Cert is the certificate offered with STARTTLS; nil without TLS.
	Cert *Cert
	// Tools are the paths of Postfix's programs, including smtp-sink and
	// smtp-source.
	Tools testtool.PostfixTools

	addr     string
	hostname string
	mailUser string // the owner of the maildirs, pipe(8)'s user
	stopped  bool
}

// StartPostfix starts a private Postfix for the test and stops it, with
// every process it started, when the test ends. It skips the test (fails
// under NEWSLETTER_REQUIRE_TOOLS=1) when Postfix is missing or the test
// does not run as root. It returns once Postfix accepts connections.
func StartPostfix(tb testing.TB, opts PostfixOptions) *Postfix {
	tb.Helper()
	tools := testtool.NeedPostfix(tb)
	testtool.NeedRoot(tb, "a private Postfix")
	root := tb.TempDir()
	openPath(tb, root)
	mu, uid, gid := mailUser(tb)
	p := &Postfix{
		Root:        root,
		ConfigDir:   filepath.Join(root, "conf"),
		QueueDir:    filepath.Join(root, "queue"),
		MaildirBase: filepath.Join(root, "maildir"),
		Tools:       tools,
		hostname:    opts.Hostname,
		mailUser:    mu,
	}
	if p.hostname == "" {
		p.hostname = DefaultHostname
	}
	for _, d := range []string{p.ConfigDir, p.QueueDir, filepath.Join(root, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if pu, err := user.Lookup("postfix"); err == nil {
		// data_directory belongs to the mail_owner.
		puid, _ := strconv.Atoi(pu.Uid)
		pgid, _ := strconv.Atoi(pu.Gid)
		if err := os.Chown(filepath.Join(root, "data"), puid, pgid); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.MkdirAll(p.MaildirBase, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chown(p.MaildirBase, uid, gid); err != nil {
		tb.Fatal(err)
	}
	if opts.TLS {
		p.Cert = NewCert(tb, p.ConfigDir, p.hostname)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("postfix log (%s):\n%s", p.LogFile(), tail(p.Logs(), 80))
		}
		p.stop(tb)
	})
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p.addr = testtool.FreeAddr(tb)
		if err := p.writeConfig(opts); err != nil {
			tb.Fatal(err)
		}
		if lastErr = p.start(); lastErr == nil {
			return p
		}
		p.stop(tb)
		p.stopped = false
		if !strings.Contains(p.Logs(), "in use") {
			break
		}
	}
	tb.Fatalf("postfix did not start: %v\nlog:\n%s", lastErr, tail(p.Logs(), 40))
	return nil
}

// Addr is the host:port (127.0.0.1) Postfix's smtpd listens on.
func (p *Postfix) Addr() string { return p.addr }

// Port is the port of Addr.
func (p *Postfix) Port() int {
	_, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	return n
}

// Hostname is the instance's myhostname.
func (p *Postfix) Hostname() string { return p.hostname }

// LogFile is the path of Postfix's log (maillog_file).
func (p *Postfix) LogFile() string { return filepath.Join(p.Root, "maillog") }

// Logs returns Postfix's log so far.
func (p *Postfix) Logs() string {
	b, _ := os.ReadFile(p.LogFile())
	return string(b)
}

// Maildir is the maildir that mail to localpart (at any local domain, with
// any +extension) is delivered into. It may not exist before the first
// delivery.
func (p *Postfix) Maildir(localpart string) string {
	localpart, _, _ = strings.Cut(localpart, "+")
	return filepath.Join(p.MaildirBase, strings.ToLower(localpart))
}

// Count returns how many messages the maildir of address (a local part, or
// an address whose local part is used, +extension ignored) holds.
func (p *Postfix) Count(address string) int {
	return len(MaildirFiles(p.Maildir(localPart(address))))
}

// Messages returns the messages in the maildir of address, in delivery
// order.
func (p *Postfix) Messages(tb testing.TB, address string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, f := range MaildirFiles(p.Maildir(localPart(address))) {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// WaitCount waits until the maildir of address holds at least n messages
// and returns how many it holds; it fails the test after timeout.
func (p *Postfix) WaitCount(tb testing.TB, address string, n int, timeout time.Duration) int {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c := p.Count(address)
		if c >= n {
			return c
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s has %d messages after %v, want %d\npostfix log:\n%s", address, c, timeout, n, tail(p.Logs(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Flush asks Postfix to retry all deferred mail now (postqueue -f).
func (p *Postfix) Flush(tb testing.TB) {
	tb.Helper()
	if out, err := exec.Command(p.Tools.Postqueue, "-c", p.ConfigDir, "-f").CombinedOutput(); err != nil {
		tb.Fatalf("postqueue -f: %v: %s", err, out)
	}
}

// QueuedMessage is a message in Postfix's queue, as postqueue -j reports
// it.
type QueuedMessage struct {
	QueueName   string `json:"queue_name"` // incoming, active, deferred, hold
	QueueID     string `json:"queue_id"`
	ArrivalTime int64  `json:"arrival_time"`
	Sender      string `json:"sender"`
	Recipients  []struct {
		Address     string `json:"address"`
		DelayReason string `json:"delay_reason"`
	} `json:"recipients"`
}

// Queue returns the messages Postfix still holds (postqueue -j): those it
// has not delivered or bounced yet, such as deferred ones.
func (p *Postfix) Queue(tb testing.TB) []QueuedMessage {
	tb.Helper()
	out, err := exec.Command(p.Tools.Postqueue, "-c", p.ConfigDir, "-j").Output()
	if err != nil {
		tb.Fatalf("postqueue -j: %v", err)
	}
	var q []QueuedMessage
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m QueuedMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("postqueue -j: %v: %s", err, sc.Bytes())
		}
		q = append(q, m)
	}
	return q
}

// Set changes main.cf parameters and reloads Postfix, e.g. to lift a rate
// limit in the middle of a test: Set(t, map[string]string{
// "smtpd_client_message_rate_limit": "0"}).
func (p *Postfix) Set(tb testing.TB, params map[string]string) {
	tb.Helper()
	args := []string{"-c", p.ConfigDir, "-e"}
	for _, k := range sortedKeys(params) {
		args = append(args, k+"="+params[k])
	}
	if out, err := exec.Command(p.Tools.Postconf, args...).CombinedOutput(); err != nil {
		tb.Fatalf("postconf: %v: %s", err, out)
	}
	if out, err := exec.Command(p.Tools.Postfix, "-c", p.ConfigDir, "reload").CombinedOutput(); err != nil {
		tb.Fatalf("postfix reload: %v: %s", err, out)
	}
}

func (p *Postfix) start() error {
	cmd := exec.Command(p.Tools.Postfix, "-c", p.ConfigDir, "start")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("postfix start: %v: %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := greeting(p.addr, "220")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postfix started but %s does not answer: %v (%s)", p.addr, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops Postfix (as the end of the test does) and waits until all its
// processes are gone: a client then gets "connection refused". Mail in its
// queue stays there.
func (p *Postfix) Stop(tb testing.TB) {
	tb.Helper()
	p.stop(tb)
}
