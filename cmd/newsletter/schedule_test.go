package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/example/newsletter/internal/smtptest"
)

const scheduleConfig = `[site]
name = "Millbrook Trust"
from = "Millbrook Trust <news@example.org>"
[transport]
retry_backoff = "1ms"
[[schedule]]
name = "weekly"
cron = "0 9 * * MON"
timezone = "Europe/London"
`

// scheduleFixture is a database with readers and an article, and a config
// with a weekly schedule.
func scheduleFixture(t *testing.T, readers int) (*cli, *smtptest.Server) {
	t.Helper()
	c := &cli{t: t, dir: t.TempDir()}
	os.WriteFile(filepath.Join(c.dir, "newsletter.toml"), []byte(scheduleConfig), 0o644)
	c.addReaders(readers)
	return c, smtptest.Start(t)
}

func campaignCount(t *testing.T, c *cli) int {
	var cs []map[string]any
	if err := json.Unmarshal([]byte(c.ok("--format", "json", "campaigns")), &cs); err != nil {
		t.Fatal(err)
	}
	return len(cs)
}

// TestSchedule_ConcurrentOnce: two --once runs at the same moment make one
// campaign and send each reader one message.
func TestSchedule_ConcurrentOnce(t *testing.T) {
	c, srv := scheduleFixture(t, 50)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	errs := make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i], codes[i] = c.run("schedule", "--once", "--now", "2026-11-30T09:05:00Z", "--transport", srv.URL())
		}()
	}
	wg.Wait()
	for i := range 2 {
		if codes[i] != 0 {
			t.Errorf("run %d: exit %d\n%s", i, codes[i], errs[i])
		}
	}
	if n := campaignCount(t, c); n != 1 {
		t.Fatalf("%d campaigns, want 1\n%s\n%s", n, errs[0], errs[1])
	}
	for i := 0; i < 50; i++ {
		if n := srv.Count(fmt.Sprintf("reader%03d@example.org", i)); n != 1 {
			t.Errorf("reader%03d got %d messages", i, n)
		}
	}
}

// TestSchedule_ResumesInterruptedCampaign: a scheduled campaign left
// unfinished is resumed by the next run, which then records nothing twice.
func TestSchedule_ResumesInterruptedCampaign(t *testing.T) {
	c, srv := scheduleFixture(t, 20)
	// A server that accepts nobody: the first run stops with everything
	// pending, as a crash or an outage would leave it.
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Greet})
	_, errs, code := c.run("schedule", "--once", "--now", "2026-11-30T09:05:00Z", "--transport", srv.URL(), "--retries", "1")
	if code != 1 || !strings.Contains(errs, "is resumable") {
		t.Fatalf("first run: exit %d\n%s", code, errs)
	}
	srv.SetFaults()
	_, errs, code = c.run("schedule", "--once", "--now", "2026-11-30T10:00:00Z", "--transport", srv.URL())
	if code != 0 || !strings.Contains(errs, "resuming campaign 1") || !strings.Contains(errs, "already ran") {
		t.Fatalf("second run: exit %d\n%s", code, errs)
	}
	if srv.Count("") != 20 || campaignCount(t, c) != 1 {
		t.Fatalf("server has %d messages, %d campaigns", srv.Count(""), campaignCount(t, c))
	}
}

// TestSchedule_LongRunning starts `newsletter schedule`, which catches up
// the due period at start, then stops it with SIGTERM.
func TestSchedule_LongRunning(t *testing.T) {
	bin, err := exec.LookPath("newsletter")
	if err != nil {
		t.Fatal(err)
	}
	c, srv := scheduleFixture(t, 5)
	cmd := c.command(bin, "schedule", "--transport", srv.URL())
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "decision=") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no decision logged:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{"msg=schedule name=weekly cron=\"0 9 * * MON\" timezone=Europe/London", "next=", "msg=\"schedule stopped\""} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// The article is dated 2026-11-27: whether the period due now takes it
	// depends on today's date, but the decision is logged either way.
	if !strings.Contains(out, "campaign 1 to list newsletter") && !strings.Contains(out, "nothing new") {
		t.Errorf("no decision for the due period:\n%s", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSchedule_KeepsGoingWhenOneFails: a schedule whose run fails does not
// stop the next one; --once then exits 1.
func TestSchedule_KeepsGoingWhenOneFails(t *testing.T) {
	c, srv := scheduleFixture(t, 3)
	os.WriteFile(filepath.Join(c.dir, "newsletter.toml"), []byte(scheduleConfig+`
[[schedule]]
name = "broken"
cron = "0 8 * * MON"
timezone = "Europe/London"
list = "nosuchlist"

[[schedule]]
name = "daily"
cron = "0 7 * * *"
timezone = "UTC"
`), 0o644)
	_, errs, code := c.run("schedule", "--once", "--now", "2026-11-30T09:05:00Z", "--transport", srv.URL())
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		`name=weekly decision="period 2026-11-30T09:00:00Z: campaign 1 to list newsletter"`,
		`name=broken decision=failed err="no list \"nosuchlist\"`,
		`name=daily decision="period 2026-11-30T07:00:00Z: nothing new for list newsletter`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("log lacks %s\n%s", want, errs)
		}
	}
}
