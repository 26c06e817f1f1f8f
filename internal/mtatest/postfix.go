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
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
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
		p.addr = freeAddr(tb)
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

func (p *Postfix) mainCF(opts PostfixOptions) map[string]string {
	local := opts.LocalDomains
	if len(local) == 0 && opts.RelayHost != "" {
		local = []string{DefaultBounceDomain}
	}
	domains := "regexp:" + filepath.Join(p.ConfigDir, "all_domains")
	if len(local) > 0 {
		domains = strings.Join(append(append([]string{}, local...), p.hostname), ", ")
	}
	m := map[string]string{
		"compatibility_level":                 "3.6",
		"queue_directory":                     p.QueueDir,
		"data_directory":                      filepath.Join(p.Root, "data"),
		"mail_owner":                          "postfix",
		"setgid_group":                        "postdrop",
		"maillog_file":                        p.LogFile(),
		"maillog_file_prefixes":               p.Root,
		"myhostname":                          p.hostname,
		"mydomain":                            p.hostname,
		"myorigin":                            "$myhostname",
		"mydestination":                       "",
		"inet_interfaces":                     "loopback-only",
		"inet_protocols":                      "ipv4",
		"mynetworks":                          "127.0.0.0/8",
		"smtpd_relay_restrictions":            "permit_mynetworks, reject_unauth_destination",
		"smtpd_peername_lookup":               "no",
		"smtpd_banner":                        "$myhostname ESMTP mtatest",
		"alias_maps":                          "",
		"alias_database":                      "",
		"biff":                                "no",
		"append_dot_mydomain":                 "no",
		"recipient_delimiter":                 "+",
		"virtual_mailbox_domains":             domains,
		"virtual_mailbox_maps":                "regexp:" + filepath.Join(p.ConfigDir, "mailboxes"),
		"virtual_transport":                   "maildir",
		"maildir_destination_recipient_limit": "1",
		"message_size_limit":                  "52428800",
		// Fast queue: retry deferred mail every second or two, never
		// expire it during a test, send DSNs at once.
		"queue_run_delay":        "1s",
		"minimal_backoff_time":   "1s",
		"maximal_backoff_time":   "2s",
		"maximal_queue_lifetime": "1d",
		"bounce_queue_lifetime":  "1d",
		"delay_warning_time":     "0h",
		"smtp_connect_timeout":   "5s",
		"smtp_helo_timeout":      "10s",
		// The next hop is a loopback address in brackets: plain SMTP,
		// no DNS.
		"smtp_tls_security_level": "none",
		"smtp_dns_support_level":  "disabled",
		"lmtp_dns_support_level":  "disabled",
		// No notices to the postmaster: the maildirs hold only what
		// the test sent and the DSNs to its senders.
		"notify_classes":                      "",
		"smtputf8_enable":                     "yes",
		"smtpd_client_event_limit_exceptions": "",
		"anvil_rate_time_unit":                "60s",
		"smtpd_client_message_rate_limit":     "0",
	}
	if opts.RelayHost != "" {
		h, port, err := net.SplitHostPort(opts.RelayHost)
		if err != nil {
			h, port = opts.RelayHost, "25"
		}
		m["relayhost"] = "[" + h + "]:" + port
	}
	if opts.TLS {
		m["smtpd_tls_security_level"] = "may"
		m["smtpd_tls_chain_files"] = p.Cert.ChainFile
		m["smtpd_tls_loglevel"] = "1"
		m["smtpd_tls_received_header"] = "yes"
	}
	if opts.MessageRateLimit > 0 {
		m["smtpd_client_message_rate_limit"] = strconv.Itoa(opts.MessageRateLimit)
	}
	if opts.RateTimeUnit > 0 {
		m["anvil_rate_time_unit"] = fmt.Sprintf("%ds", max(1, int(opts.RateTimeUnit/time.Second)))
	}
	for k, v := range opts.MainCF {
		m[k] = v
	}
	return m
}

// masterCF has one listener, smtpd on 127.0.0.1:PORT, and the internal
// services it and delivery need; no pickup (nothing reads a maildrop), no
// chroot.
const masterCF = `# service type  private unpriv  chroot  wakeup  maxproc command
%s      inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
maildir   unix  -       n       n       -       -       pipe
  flags=DORhu user=%s argv=/bin/sh %s ${user}
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

// Postfix's virtual(8) refuses both $1 substitution in regexp tables and
// tcp: tables for virtual_mailbox_maps, so it cannot map any address to a
// maildir of its own. Local domains are delivered by pipe(8) instead, one
// recipient at a time, as nobody, to a small maildir writer; the map below
// only tells smtpd which recipients exist.

// mailboxesMap accepts local@domain and local+ext@domain where local is
// made of letters, digits, dot, underscore and hyphen and does not start
// with a dot; other recipients at local domains get 550 5.1.1 at RCPT.
const mailboxesMap = `/^[a-z0-9_-][a-z0-9._-]*(\+[^@]*)?@[^@]+$/	OK
`

// deliverScript writes standard input into <base>/<mailbox>/new the maildir
// way (tmp, then rename). Exit 67 (EX_NOUSER) bounces, others defer.
const deliverScript = `# written by internal/mtatest: deliver to a maildir under %s
set -e
case "$1" in ""|.*|*/*|*..*) echo "bad mailbox name: $1"; exit 67;; esac
dir='%[1]s'/"$1"
umask 077
mkdir -p "$dir/tmp" "$dir/new" "$dir/cur"
name="$(date +%%s.%%N).P$$.mtatest"
cat > "$dir/tmp/$name"
mv "$dir/tmp/$name" "$dir/new/$name"
`

func (p *Postfix) writeConfig(opts PostfixOptions) error {
	var main strings.Builder
	main.WriteString("# written by internal/mtatest\n")
	m := p.mainCF(opts)
	for _, k := range sortedKeys(m) {
		fmt.Fprintf(&main, "%s = %s\n", k, m[k])
	}
	files := map[string]string{
		"main.cf":     main.String(),
		"master.cf":   fmt.Sprintf(masterCF, p.addr, p.mailUser, filepath.Join(p.ConfigDir, "deliver")),
		"mailboxes":   mailboxesMap,
		"deliver":     fmt.Sprintf(deliverScript, p.MaildirBase),
		"all_domains": "/./\tOK\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(p.ConfigDir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (p *Postfix) start() error {
	cmd := exec.Command(p.Tools.Postfix, "-c", p.ConfigDir, "start")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("postfix start: %v: %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "220") {
				return nil
			}
			err = fmt.Errorf("greeting %q: %v", line, rerr)
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

// stop ends the master process and its session, and waits until they are
// gone.
func (p *Postfix) stop(tb testing.TB) {
	if p.stopped {
		return
	}
	p.stopped = true
	b, err := os.ReadFile(filepath.Join(p.QueueDir, "pid", "master.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	if !p.ownsPid(pid) {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM) // master terminates its children
	if !waitGone(pid, 5*time.Second) {
		tb.Logf("postfix master %d ignored SIGTERM; killing its process group", pid)
	}
	// The master leads its own session and process group: end any child
	// left behind.
	syscall.Kill(-pid, syscall.SIGKILL)
	waitGone(pid, 2*time.Second)
	for _, c := range sessionMembers(pid) {
		syscall.Kill(c, syscall.SIGKILL)
		waitGone(c, 2*time.Second)
	}
}

// ownsPid tells whether pid is this instance's master: a Postfix master
// (which works in its queue directory), not a process that got a recycled
// pid.
func (p *Postfix) ownsPid(pid int) bool {
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil || cwd != p.QueueDir {
		return false
	}
	exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return filepath.Base(exe) == "master"
}

// waitGone waits until process pid no longer exists or is a zombie.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if !alive(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// sessionMembers returns the live processes in session sid.
func sessionMembers(sid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) > 3 && f[3] == strconv.Itoa(sid) && alive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// MaildirFiles returns the message files of a maildir (new/ and cur/),
// oldest first; none when it does not exist.
func MaildirFiles(dir string) []string {
	type file struct {
		path string
		mod  time.Time
	}
	var fs []file
	for _, sub := range []string{"new", "cur"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			fs = append(fs, file{filepath.Join(dir, sub, e.Name()), fi.ModTime()})
		}
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if !fs[i].mod.Equal(fs[j].mod) {
			return fs[i].mod.Before(fs[j].mod)
		}
		return fs[i].path < fs[j].path
	})
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.path
	}
	return out
}

var localPartRE = regexp.MustCompile(`^<?([^@<>]*)`)

func localPart(address string) string {
	m := localPartRE.FindStringSubmatch(address)
	lp, _, _ := strings.Cut(m[1], "+")
	return lp
}

// mailUser is the uid and gid that own the maildirs: nobody's, since
// neither Postfix's pipe(8) nor Dovecot deliver or read mail as root.
func mailUser(tb testing.TB) (string, int, int) {
	tb.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		tb.Fatalf("no user nobody to own the maildirs: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return u.Username, uid, gid
}

// openPath makes dir and its parent (the test's own temporary directory,
// created 0700) searchable by the unprivileged users the daemons switch to.
func openPath(tb testing.TB, dir string) {
	tb.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
