package mtatest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/newsletter/internal/testtool"
)

// DovecotOptions configure StartDovecot.
type DovecotOptions struct {
	// Maildir is served as the user's INBOX, such as
	// pf.Maildir("bounces") of a relaying Postfix. It is created (owned by
	// nobody, as Postfix delivers) when it does not exist yet. Dovecot
	// moves messages it has seen from new/ to cur/ and keeps its indexes
	// outside the maildir. Empty means an empty maildir of its own.
	Maildir string

	// User and Password are the one login; empty means "bounces" and
	// "secret".
	User, Password string

	// TLS also serves IMAPS (TLSAddr) and offers STARTTLS on Addr, with
	// Cert, or a fresh self-signed certificate when Cert is nil.
	TLS  bool
	Cert *Cert
}

// Dovecot is a private Dovecot IMAP server started by StartDovecot.
type Dovecot struct {
	Root     string // configuration, state, indexes and log
	Config   string // dovecot.conf: pass to dovecot -c, doveadm -c
	Maildir  string // the INBOX
	User     string
	Password string
	Cert     *Cert // nil without TLS

	addr, tlsAddr string
	cmd           *exec.Cmd
	done          chan struct{}
}

// StartDovecot starts a private Dovecot (in the foreground, dovecot -F)
// serving IMAP on a free 127.0.0.1 port, with opts.Maildir as the INBOX of
// one user in a passwd-file, and stops it with all its processes when the
// test ends. It skips the test (fails under NEWSLETTER_REQUIRE_TOOLS=1)
// when dovecot-imapd is missing or the test does not run as root, and
// returns once Dovecot greets.
//
// Written for Dovecot 2.3 (Debian's 2.3.19); log in with LOGIN or AUTH
// PLAIN, over plain text on Addr, or TLS on TLSAddr when opts.TLS.
func StartDovecot(tb testing.TB, opts DovecotOptions) *Dovecot {
	tb.Helper()
	bin := testtool.NeedDovecot(tb)
	testtool.NeedRoot(tb, "a private Dovecot")
	root := tb.TempDir()
	openPath(tb, root)
	_, uid, gid := mailUser(tb)
	d := &Dovecot{
		Root:     root,
		Config:   filepath.Join(root, "dovecot.conf"),
		Maildir:  opts.Maildir,
		User:     opts.User,
		Password: opts.Password,
		Cert:     opts.Cert,
	}
	if d.User == "" {
		d.User = "bounces"
	}
	if d.Password == "" {
		d.Password = "secret"
	}
	if d.Maildir == "" {
		d.Maildir = filepath.Join(root, "Maildir")
	}
	if opts.TLS && d.Cert == nil {
		d.Cert = NewCert(tb, root)
	}
	// Dovecot's sockets live in base_dir; keep their paths short of the
	// 108 bytes a unix socket path may have.
	baseDir := filepath.Join(root, "run")
	if len(baseDir) > 60 {
		short, err := os.MkdirTemp("", "mtadc")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { os.RemoveAll(short) })
		baseDir = short
	}
	for _, dir := range []string{d.Maildir, filepath.Join(d.Maildir, "new"), filepath.Join(d.Maildir, "cur"),
		filepath.Join(d.Maildir, "tmp"), filepath.Join(root, "index"), filepath.Join(root, "home")} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	chownTree(tb, d.Maildir, uid, gid)
	if err := os.WriteFile(filepath.Join(root, "passwd"), []byte(d.User+":"+d.Password+":::::\n"), 0o644); err != nil {
		tb.Fatal(err)
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		d.addr, d.tlsAddr = testtool.FreeAddr(tb), ""
		if opts.TLS {
			d.tlsAddr = testtool.FreeAddr(tb)
		}
		if err := os.WriteFile(d.Config, []byte(d.config(baseDir, uid, gid)), 0o644); err != nil {
			tb.Fatal(err)
		}
		if lastErr = d.start(tb, bin); lastErr == nil {
			return d
		}
		if !strings.Contains(d.Logs(), "in use") {
			break
		}
	}
	tb.Fatalf("dovecot did not start: %v\nlog:\n%s", lastErr, tail(d.Logs(), 40))
	return nil
}

// Deliver adds a message to the INBOX (the maildir's new/), owned by the
// user Dovecot reads mail as, and returns its path. Files a test writes
// itself as root are unreadable to Dovecot.
func (d *Dovecot) Deliver(tb testing.TB, msg []byte) string {
	tb.Helper()
	return WriteMaildir(tb, d.Maildir, msg)
}

// Addr is the host:port of IMAP (plain text, STARTTLS with TLS).
func (d *Dovecot) Addr() string { return d.addr }

// TLSAddr is the host:port of IMAPS, "" without TLS.
func (d *Dovecot) TLSAddr() string { return d.tlsAddr }

// URL is an IMAP URL of the INBOX with the user name: imap://user@addr/INBOX,
// or imaps://user@tlsaddr/INBOX when tls.
func (d *Dovecot) URL(tls bool) string {
	if tls {
		return "imaps://" + d.User + "@" + d.tlsAddr + "/INBOX"
	}
	return "imap://" + d.User + "@" + d.addr + "/INBOX"
}

// LogFile is the path of Dovecot's log.
func (d *Dovecot) LogFile() string { return filepath.Join(d.Root, "dovecot.log") }

// Logs returns Dovecot's log so far.
func (d *Dovecot) Logs() string {
	b, _ := os.ReadFile(d.LogFile())
	return string(b)
}

func (d *Dovecot) config(baseDir string, uid, gid int) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# written by internal/mtatest for Dovecot 2.3")
	p("base_dir = %s", baseDir)
	p("state_dir = %s", filepath.Join(d.Root, "state"))
	p("instance_name = mtatest-%s", filepath.Base(baseDir))
	p("log_path = %s", d.LogFile())
	p("info_log_path = %s", d.LogFile())
	p("protocols = imap")
	p("listen = 127.0.0.1")
	p("shutdown_clients = yes")
	p("first_valid_uid = 1")
	p("first_valid_gid = 1")
	p("disable_plaintext_auth = no")
	p("auth_mechanisms = plain login")
	p("auth_failure_delay = 0") // a wrong password fails at once
	p("mail_location = maildir:%s:INDEX=%s:CONTROL=%s", d.Maildir, filepath.Join(d.Root, "index"), filepath.Join(d.Root, "index"))
	p("mail_fsync = never")
	p("passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%%u %s\n}", filepath.Join(d.Root, "passwd"))
	p("userdb {\n  driver = static\n  args = uid=%d gid=%d home=%s\n}", uid, gid, filepath.Join(d.Root, "home"))
	// No auth penalty: a test that logs in with a wrong password must not
	// make the next login wait seconds.
	p("service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}")
	p("protocol imap {\n  mail_max_userip_connections = 100\n}")
	if d.Cert != nil {
		p("ssl = yes")
		p("ssl_cert = <%s", d.Cert.CertFile)
		p("ssl_key = <%s", d.Cert.KeyFile)
		p("ssl_min_protocol = TLSv1.2")
	} else {
		p("ssl = no")
	}
	_, port, _ := net.SplitHostPort(d.addr)
	p("service imap-login {")
	p("  inet_listener imap {\n    address = 127.0.0.1\n    port = %s\n  }", port)
	if d.tlsAddr != "" {
		_, tport, _ := net.SplitHostPort(d.tlsAddr)
		p("  inet_listener imaps {\n    address = 127.0.0.1\n    port = %s\n    ssl = yes\n  }", tport)
	} else {
		p("  inet_listener imaps {\n    port = 0\n  }")
	}
	p("}")
	// No other listeners: no POP3, LMTP, doveadm or submission ports.
	p("service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}")
	p("service lmtp {\n  inet_listener lmtp {\n    port = 0\n  }\n}")
	p("service submission-login {\n  inet_listener submission {\n    port = 0\n  }\n}")
	return b.String()
}

func (d *Dovecot) start(tb testing.TB, bin string) error {
	tb.Helper()
	logf, err := os.OpenFile(filepath.Join(d.Root, "dovecot.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-c", d.Config, "-F")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own session, so that every process it starts can be found and
	// ended.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	d.cmd, d.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(d.done) }()
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("dovecot log (%s):\n%s", d.LogFile(), tail(d.Logs(), 60))
		}
		d.stop()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-d.done:
			out, _ := os.ReadFile(filepath.Join(d.Root, "dovecot.out"))
			return fmt.Errorf("dovecot exited: %v: %s", cmd.ProcessState, out)
		default:
		}
		err := greeting(d.addr, "* OK")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			d.stop()
			return fmt.Errorf("dovecot does not answer on %s: %v", d.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops Dovecot (as the end of the test does) and waits until all its
// processes are gone.
func (d *Dovecot) Stop() { d.stop() }

// stop ends Dovecot's master, which ends its children, then anything left
// in its session, and waits until they are gone.
func (d *Dovecot) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	pid := d.cmd.Process.Pid
	members := sessionMembers(pid)
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	<-d.done
	for _, m := range append(members, sessionMembers(pid)...) {
		syscall.Kill(m, syscall.SIGKILL)
		waitGone(m, 2*time.Second)
	}
	d.cmd = nil
}

// WriteMaildir writes msg into dir/new (creating the maildir) the maildir
// way, owned by nobody as Postfix's deliveries are, and returns its path.
func WriteMaildir(tb testing.TB, dir string, msg []byte) string {
	tb.Helper()
	_, uid, gid := mailUser(tb)
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			tb.Fatal(err)
		}
		os.Chown(filepath.Join(dir, sub), uid, gid)
	}
	maildirSeq++
	name := fmt.Sprintf("%d.M%dP%dQ%d.mtatest", time.Now().Unix(), time.Now().Nanosecond()/1000, os.Getpid(), maildirSeq)
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, msg, 0o600); err != nil {
		tb.Fatal(err)
	}
	os.Chown(tmp, uid, gid)
	final := filepath.Join(dir, "new", name)
	if err := os.Rename(tmp, final); err != nil {
		tb.Fatal(err)
	}
	return final
}

var maildirSeq int64

// chownTree gives dir and everything in it to uid:gid.
func chownTree(tb testing.TB, dir string, uid, gid int) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
	if err != nil {
		tb.Fatal(err)
	}
}
