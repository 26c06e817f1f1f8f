package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/internal/smtptest"
)

// TestDigest_KillAndResume kills a digest with SIGKILL in the middle of a
// send and runs it again: nobody gets two messages, everyone who got none is
// logged unknown, and at most --concurrency deliveries are unknown. While
// the first run holds the sender lease, a second one is refused.
func TestDigest_KillAndResume(t *testing.T) {
	bin, err := exec.LookPath("newsletter") // the test binary, put on PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	const readers, concurrency = 300, 4
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Data, Delay: 10 * time.Millisecond})
	c := newCLI(t)
	c.addReaders(readers)

	digest := []string{"digest", "--since", "2026-11-01", "--transport", srv.URL(), "--concurrency", fmt.Sprint(concurrency)}
	cmd := c.command(bin, digest...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for srv.Count("") < 40 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the first run sent %d messages in 60s\n%s", srv.Count(""), stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}

	// A second sender is refused while the first holds the lease.
	_, errs, code := c.run(digest...)
	if code != 1 || !strings.Contains(errs, fmt.Sprintf("another sender is running (pid %d", cmd.Process.Pid)) {
		t.Errorf("second sender: exit %d\n%s", code, errs)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	atKill := srv.Count("")

	type delivery struct {
		Email, Status string
	}
	log := func() []delivery {
		var ds []delivery
		if err := json.Unmarshal([]byte(c.ok("--format", "json", "deliveries")), &ds); err != nil {
			t.Fatal(err)
		}
		return ds
	}
	sending := 0
	for _, d := range log() {
		if d.Status == "sending" {
			sending++
		}
	}
	if sending > concurrency {
		t.Errorf("%d deliveries in sending after the kill; at most %d may be in flight", sending, concurrency)
	}
	t.Logf("killed after %d messages; %d deliveries were in flight", atKill, sending)

	// Run again: the dead holder's lease is taken over, the campaign resumed.
	srv.SetFaults()
	_, errs, code = c.run(digest...)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, errs)
	}
	if !strings.Contains(errs, "resuming campaign 1") {
		t.Errorf("resume not reported:\n%s", errs)
	}

	unknown := 0
	for _, d := range log() {
		n := srv.Count(d.Email)
		switch {
		case n > 1:
			t.Errorf("%s received %d messages", d.Email, n)
		case d.Status == "unknown":
			unknown++
		case d.Status != "sent":
			t.Errorf("%s is %s after the resume", d.Email, d.Status)
		case n != 1:
			t.Errorf("%s is logged sent but received %d messages", d.Email, n)
		}
		if n == 0 && d.Status != "unknown" {
			t.Errorf("%s received nothing but is logged %s", d.Email, d.Status)
		}
	}
	if unknown > concurrency {
		t.Errorf("%d unknown deliveries, want at most %d", unknown, concurrency)
	}
	if unknown > 0 && !strings.Contains(errs, fmt.Sprintf("%d deliveries of campaign 1 are unknown", unknown)) {
		t.Errorf("unknown deliveries not reported:\n%s", errs)
	}
	if got := len(log()); got != readers {
		t.Errorf("%d deliveries logged, want %d", got, readers)
	}
}

// TestDigest_Interrupt sends SIGINT during a send: the run takes no new
// message, finishes and logs those in flight, says how to resume and exits
// 130; the next run sends the rest.
func TestDigest_Interrupt(t *testing.T) {
	bin, err := exec.LookPath("newsletter")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Data, Delay: 10 * time.Millisecond})
	c := newCLI(t)
	c.addReaders(200)
	digest := []string{"digest", "--since", "2026-11-01", "--transport", srv.URL()}
	cmd := c.command(bin, digest...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitCount(t, srv, 20, cmd, stderr.String)
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted; campaign 1 is resumable: run the same command again") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	var ds []struct{ Email, Status string }
	json.Unmarshal([]byte(c.ok("--format", "json", "deliveries")), &ds)
	sent := 0
	for _, d := range ds {
		switch d.Status {
		case "sent":
			sent++
		case "pending":
		default:
			t.Errorf("%s is %s after an interrupt", d.Email, d.Status)
		}
	}
	if sent != srv.Count("") || sent == 200 {
		t.Errorf("log says %d sent, server got %d", sent, srv.Count(""))
	}
	srv.SetFaults()
	c.ok(digest...)
	if srv.Count("") != 200 {
		t.Errorf("after the resume the server has %d messages, want 200", srv.Count(""))
	}
}

// command runs the newsletter binary bin on c's database and config, with
// no NEWSLETTER_* settings leaking in from the environment.
func (c *cli) command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"--db", filepath.Join(c.dir, "newsletter.db"), "--config", filepath.Join(c.dir, "newsletter.toml")}, args...)...)
	cmd.Env = append(os.Environ(), "NEWSLETTER_DB=", "NEWSLETTER_CONFIG=", "NEWSLETTER_TRANSPORT=")
	return cmd
}

// addReaders adds n readers of every category and one article for them.
func (c *cli) addReaders(n int) {
	c.t.Helper()
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "reader%03d@example.org,Reader %d\n", i, i)
	}
	os.WriteFile(filepath.Join(c.dir, "readers.csv"), []byte(csv.String()), 0o644)
	os.WriteFile(filepath.Join(c.dir, "post.txt"), []byte("2026-11-27\nA Long Send\nSomething for everyone.\n"), 0o644)
	c.ok("subscribers", "import", filepath.Join(c.dir, "readers.csv"))
	c.ok("articles", "add", filepath.Join(c.dir, "post.txt"))
}

// The lost-lease test is campaign.TestLeaseLost.

// waitCount waits until the server has n messages, failing (and killing the
// command) after a minute.
func waitCount(t *testing.T, srv *smtptest.Server, n int, cmd *exec.Cmd, stderr func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for srv.Count("") < n {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the server got %d messages in a minute, want %d\n%s", srv.Count(""), n, stderr())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
