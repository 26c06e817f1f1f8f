package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/internal/mtatest"
)

// TestDigest_PostfixSTARTTLS sends a digest through a real Postfix over
// STARTTLS, its self-signed certificate trusted through transport.ca_file
// (verified, not skipped): each reader's maildir holds the message once.
func TestDigest_PostfixSTARTTLS(t *testing.T) {
	t.Parallel()
	pf := mtatest.StartPostfix(t, mtatest.PostfixOptions{TLS: true})
	c := newCLI(t)
	const readers = 20
	c.addReaders(readers)
	transport := "smtp://" + pf.Addr()

	// Without the CA the certificate cannot be verified, and the run says so.
	_, errs, code := c.run("digest", "--since", "2026-11-01", "--transport", transport, "--retries", "0")
	if code != 1 || !strings.Contains(errs, "certificate") {
		t.Fatalf("without ca_file: exit %d\n%s", code, errs)
	}
	c.editConfig(`# ca_file = "relay-ca.pem"`, fmt.Sprintf("ca_file = %q", pf.Cert.CAFile))
	if _, errs, code := c.run("digest", "--since", "2026-11-01", "--transport", transport); code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for i := range readers {
		addr := fmt.Sprintf("reader%03d@example.org", i)
		pf.WaitCount(t, addr, 1, 20*time.Second)
	}
	time.Sleep(500 * time.Millisecond) // a duplicate would have landed by now
	for i := range readers {
		addr := fmt.Sprintf("reader%03d@example.org", i)
		if n := pf.Count(addr); n != 1 {
			t.Errorf("%s: %d messages, want 1", addr, n)
		}
	}
	msg := string(pf.Messages(t, "reader000")[0])
	if !strings.Contains(msg, "TLS") {
		t.Errorf("the message did not come over TLS:\n%s", msg)
	}
	assertAllSent(t, c, readers)
}

// TestDigest_PostfixRateLimit: Postfix's smtpd_client_message_rate_limit
// answers 4xx part way through the send. The deliveries refused are
// deferred, not failed; re-runs send them once the limit allows, and every
// reader ends with exactly one message.
func TestDigest_PostfixRateLimit(t *testing.T) {
	t.Parallel()
	pf := mtatest.StartPostfix(t, mtatest.PostfixOptions{MessageRateLimit: 8, RateTimeUnit: 3 * time.Second})
	c := newCLI(t)
	c.editConfig(`retry_backoff = "1s"`, `retry_backoff = "10ms"`)
	const readers = 30
	c.addReaders(readers)
	digest := []string{"digest", "--since", "2026-11-01", "--transport", "smtp://" + pf.Addr() + "?tls=none", "--retries", "1", "--concurrency", "2"}
	_, errs, code := c.run(digest...)
	if code != 0 || !strings.Contains(errs, "deferred; run again later") {
		t.Fatalf("first run: exit %d\n%s", code, errs)
	}
	if out := c.ok("deliveries", "--status", "deferred"); !strings.Contains(out, "too much mail") {
		t.Errorf("deferred deliveries without Postfix's reply:\n%s", out)
	}
	for run := 0; deferredCount(t, c) > 0; run++ {
		if run == 20 {
			t.Fatalf("still %d deferred after 20 runs", deferredCount(t, c))
		}
		time.Sleep(time.Second)
		if _, errs, code := c.run(digest...); code != 0 {
			t.Fatalf("run %d: exit %d\n%s", run+2, code, errs)
		}
	}
	for i := range readers {
		pf.WaitCount(t, fmt.Sprintf("reader%03d@example.org", i), 1, 20*time.Second)
	}
	time.Sleep(500 * time.Millisecond)
	for i := range readers {
		addr := fmt.Sprintf("reader%03d@example.org", i)
		if n := pf.Count(addr); n != 1 {
			t.Errorf("%s: %d messages, want 1", addr, n)
		}
	}
	assertAllSent(t, c, readers)
}

func deferredCount(t *testing.T, c *cli) int {
	t.Helper()
	var ds []struct{ Email string }
	if err := json.Unmarshal([]byte(c.ok("--format", "json", "deliveries", "--status", "deferred")), &ds); err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

// assertAllSent checks that the log holds n deliveries, all sent.
func assertAllSent(t *testing.T, c *cli, n int) {
	t.Helper()
	var ds []struct{ Email, Status string }
	json.Unmarshal([]byte(c.ok("--format", "json", "deliveries")), &ds)
	if len(ds) != n {
		t.Errorf("%d deliveries logged, want %d", len(ds), n)
	}
	for _, d := range ds {
		if d.Status != "sent" {
			t.Errorf("%s is %s", d.Email, d.Status)
		}
	}
}
