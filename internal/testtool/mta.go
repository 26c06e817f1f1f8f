package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sbinDirs are searched after PATH for the programs of Debian's postfix and
// dovecot packages, which live in sbin directories a non-login PATH may
// lack.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// missing skips the test, or fails it under NEWSLETTER_REQUIRE_TOOLS=1,
// because what is not available.
func missing(tb testing.TB, what string) {
	tb.Helper()
	if os.Getenv("NEWSLETTER_REQUIRE_TOOLS") == "1" {
		tb.Fatalf("%s (NEWSLETTER_REQUIRE_TOOLS=1); .ci/run installs it", what)
	}
	tb.Skipf("%s; .ci/run installs it", what)
}

// NeedSbin is Need for a program that may live in /usr/sbin or /sbin:
// it returns the program's path, or skips (fails under
// NEWSLETTER_REQUIRE_TOOLS=1) when it is not installed.
func NeedSbin(tb testing.TB, name string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range sbinDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	missing(tb, name+" is not installed")
	return ""
}

// NeedRoot skips (fails under NEWSLETTER_REQUIRE_TOOLS=1) unless the test
// runs as root, as a private Postfix or Dovecot must.
func NeedRoot(tb testing.TB, why string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		missing(tb, why+" needs root")
	}
}

// PostfixTools are the programs of Debian's postfix package.
type PostfixTools struct {
	Postfix   string // postfix(1): start, stop, check
	Postconf  string // postconf(1)
	Postqueue string // postqueue(1): flush, list the queue
	Postsuper string // postsuper(1): delete queued mail
	SMTPSink  string // smtp-sink(1): a fast SMTP sink for load tests
	// SMTPSource is smtp-source(1): a fast SMTP client for load tests.
	SMTPSource string
}

// NeedPostfix returns the paths of Postfix's programs, or skips (fails
// under NEWSLETTER_REQUIRE_TOOLS=1) when the postfix package is missing.
// It does not need root; starting a Postfix does (see NeedRoot).
func NeedPostfix(tb testing.TB) PostfixTools {
	tb.Helper()
	return PostfixTools{
		Postfix:    NeedSbin(tb, "postfix"),
		Postconf:   NeedSbin(tb, "postconf"),
		Postqueue:  NeedSbin(tb, "postqueue"),
		Postsuper:  NeedSbin(tb, "postsuper"),
		SMTPSink:   NeedSbin(tb, "smtp-sink"),
		SMTPSource: NeedSbin(tb, "smtp-source"),
	}
}

// NeedDovecot returns the path of dovecot(1), or skips (fails under
// NEWSLETTER_REQUIRE_TOOLS=1) when Debian's dovecot-imapd is missing: the
// dovecot binary alone is not enough, the IMAP server must be installed.
func NeedDovecot(tb testing.TB) string {
	tb.Helper()
	p := NeedSbin(tb, "dovecot")
	for _, dir := range []string{"/usr/lib/dovecot", "/usr/libexec/dovecot"} {
		if _, err := os.Stat(filepath.Join(dir, "imap")); err == nil {
			return p
		}
	}
	missing(tb, "dovecot's IMAP server (dovecot-imapd) is not installed")
	return ""
}
