package main

import (
	"encoding/json"
	"errors"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/newsletter/internal/smtptest"
)

// TestDigest_ClosedPortSaysWhy: with nothing listening, the run stops with
// exit 1, and stderr names the cause, not only "not finished".
func TestDigest_ClosedPortSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newCLI(t)
	c.editConfig(`retry_backoff = "1s"`, `retry_backoff = "1ms"`)
	c.addReaders(3) // fewer readers than connections
	_, errs, code := c.run("digest", "--since", "2026-11-01", "--transport", "smtp://"+addr+"?tls=none", "--retries", "1")
	if code != 1 || !strings.Contains(errs, "connection refused") || !strings.Contains(errs, "resumable") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	if strings.Count(errs, "level=WARN")-strings.Count(errs, "site.address is empty") != 1 {
		t.Errorf("the cause should be warned about once, when first met:\n%s", errs)
	}
}

// TestDigest_DeferredThenDelivered: a 450 past the retries is deferred (exit
// 0, "run again later"), listed by deliveries --status deferred with its
// reply, and the next run delivers it once.
func TestDigest_DeferredThenDelivered(t *testing.T) {
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: "^reader001@", Code: 450, Enhanced: [3]int{4, 7, 1}, Message: "too much mail"})
	c := newCLI(t)
	c.editConfig(`retry_backoff = "1s"`, `retry_backoff = "1ms"`)
	c.addReaders(5)
	_, errs, code := c.run("digest", "--since", "2026-11-01", "--transport", srv.URL(), "--retries", "2")
	if code != 0 || !strings.Contains(errs, "1 deferred; run again later") {
		t.Fatalf("exit %d, stderr:\n%s", code, errs)
	}
	var ds []struct{ Email, Status, Error string }
	json.Unmarshal([]byte(c.ok("--format", "json", "deliveries", "--status", "deferred")), &ds)
	if len(ds) != 1 || ds[0].Email != "reader001@example.org" || !strings.Contains(ds[0].Error, "450 4.7.1 too much mail") {
		t.Fatalf("deferred deliveries: %+v", ds)
	}
	srv.SetFaults()
	_, errs, code = c.run("digest", "--since", "2026-11-01", "--transport", srv.URL())
	if code != 0 || srv.Count("reader001@example.org") != 1 || srv.Count("") != 5 {
		t.Fatalf("second run: exit %d, reader001 has %d, server %d\n%s", code, srv.Count("reader001@example.org"), srv.Count(""), errs)
	}
}

// TestDigest_SIGTERMGrace: a server that stalls after the end of a message
// cannot hold a stopping run past its grace period: the message is logged
// unknown and the run exits 130 promptly.
func TestDigest_SIGTERMGrace(t *testing.T) {
	bin, err := exec.LookPath("newsletter")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.StallAfterDot, Match: "^reader002@", Delay: 20 * time.Second})
	c := newCLI(t)
	c.editConfig(`stop_grace = "10s"`, `stop_grace = "300ms"`)
	c.addReaders(5)
	cmd := c.command(bin, "digest", "--since", "2026-11-01", "--transport", srv.URL(), "--concurrency", "1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitCount(t, srv, 3, cmd, stderr.String)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("stopping took %s", took)
	}
	var ds []struct{ Email, Status string }
	json.Unmarshal([]byte(c.ok("--format", "json", "deliveries")), &ds)
	for _, d := range ds {
		if d.Email == "reader002@example.org" && d.Status != "unknown" {
			t.Errorf("%s is %s, want unknown", d.Email, d.Status)
		}
	}
}

// TestDigest_TestToRefusesSuppressed: --test-to does not mail an address
// that unsubscribed (nor one removed after unsubscribing) unless --force.
func TestDigest_TestToRefusesSuppressed(t *testing.T) {
	srv := smtptest.Start(t)
	c := newCLI(t)
	c.addReaders(2)
	c.ok("subscribers", "unsubscribe", "reader001@example.org")
	_, errs, code := c.run("digest", "--since", "2026-11-01", "--transport", srv.URL(), "--test-to", "reader001@example.org")
	if code == 0 || !strings.Contains(errs, "unsubscribed") || !strings.Contains(errs, "--force") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	c.ok("subscribers", "remove", "reader001@example.org")
	if _, _, code := c.run("digest", "--since", "2026-11-01", "--transport", srv.URL(), "--test-to", "reader001@example.org"); code == 0 {
		t.Fatal("a removed, unsubscribed address got a test")
	}
	if srv.Count("") != 0 {
		t.Fatalf("the server got %d messages", srv.Count(""))
	}
	c.ok("digest", "--since", "2026-11-01", "--transport", srv.URL(), "--test-to", "reader001@example.org", "--force")
	if srv.Count("reader001@example.org") != 1 {
		t.Fatalf("--force sent %d", srv.Count(""))
	}
}
