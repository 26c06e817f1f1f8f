package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter/internal/smtptest"
)

type a15delivery struct {
	Campaign  int64  `json:"campaign"`
	Email     string `json:"email"`
	Status    string `json:"status"`
	MessageID string `json:"message_id"`
}

func (c *cli) a15log() []a15delivery {
	c.t.Helper()
	var ds []a15delivery
	out := c.ok("--format", "json", "deliveries")
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		c.t.Fatalf("%v\n%s", err, out)
	}
	return ds
}

// serverIDs counts the messages the server holds per Message-ID.
func serverIDs(srv *smtptest.Server) map[string]int {
	n := map[string]int{}
	for _, m := range srv.Messages() {
		for _, l := range strings.Split(string(m.Data), "\r\n") {
			if strings.HasPrefix(strings.ToLower(l), "message-id:") {
				n[strings.TrimSpace(l[len("message-id:"):])]++
				break
			}
		}
	}
	return n
}

// The scheduler over a week with deferred readers: at T (readers 000-004
// are 450'd), T+5min (too early to retry), T+20min (server fixed), T+1
// week (a new article; one reader 450'd past the queue lifetime).
func TestAttack15_ScheduleDeferred(t *testing.T) {
	srv := smtptest.Start(t)
	c := newCLI(t)
	c.editConfig(`retry_backoff = "1s"`, `retry_backoff = "1ms"`)
	c.addReaders(20)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: `reader00[0-4]@`, Code: 450, Enhanced: [3]int{4, 2, 0}, Message: "try later"})
	run := func(now string) string {
		_, errs, code := c.run("schedule", "--once", "--now", now, "--transport", srv.URL())
		t.Logf("%s exit %d\n%s", now, code, errs)
		return errs
	}
	run("2026-11-30T09:05:00Z")
	st := map[string]int{}
	for _, d := range c.a15log() {
		st[d.Status]++
	}
	t.Logf("after T: %v; server %d", st, srv.Count(""))
	if st["deferred"] != 5 || st["sent"] != 15 || srv.Count("") != 15 {
		t.Errorf("after T: %v, server %d", st, srv.Count(""))
	}
	before := srv.Connections()
	run("2026-11-30T09:10:00Z")
	t.Logf("T+5min: %d new connections", srv.Connections()-before)
	srv.SetFaults()
	run("2026-11-30T09:25:00Z")
	st = map[string]int{}
	for _, d := range c.a15log() {
		st[d.Status]++
	}
	if st["sent"] != 20 || srv.Count("") != 20 {
		t.Errorf("after T+20min: %v, server %d", st, srv.Count(""))
	}
	// week 2: a new article; reader019 450'd forever; then past lifetime
	os.WriteFile(filepath.Join(c.dir, "post2.txt"), []byte("2026-12-04\nWeek Two\nMore news.\n"), 0o644)
	c.ok("articles", "add", filepath.Join(c.dir, "post2.txt"))
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: `reader019@`, Code: 450, Enhanced: [3]int{4, 2, 0}, Message: "try later"})
	run("2026-12-07T09:05:00Z")
	run("2026-12-10T09:30:00Z") // past 72h
	run("2026-12-14T09:05:00Z")
	st = map[string]int{}
	for _, d := range c.a15log() {
		st[fmt.Sprint(d.Campaign, d.Status)]++
	}
	t.Logf("final: %v", st)
	ids := serverIDs(srv)
	for _, d := range c.a15log() {
		n := ids[d.MessageID]
		if n > 1 || (d.Status == "sent") != (n == 1) {
			t.Errorf("campaign %d %s: %s, server has %d with its Message-ID %q", d.Campaign, d.Email, d.Status, n, d.MessageID)
		}
		if d.Status == "deferred" || d.Status == "pending" || d.Status == "sending" {
			t.Errorf("campaign %d %s is still %s after its queue lifetime", d.Campaign, d.Email, d.Status)
		}
	}
	for _, e := range []string{"reader000@example.org", "reader010@example.org"} {
		if srv.Count(e) != 2 {
			t.Errorf("%s got %d digests, want 2", e, srv.Count(e))
		}
	}
}

// A deferred delivery that runs past transport.queue_lifetime is failed by
// the scheduler's RetryDeferred, and the scheduler says nothing: `digest`
// and `send` print "N deferred deliveries ran past transport.queue_lifetime
// and failed" (cmd/newsletter/service.go), but RunDue drops the Result's
// Expired count (campaign/scheduled.go runSchedule/RunDueOnce log only the
// decision text), so a reader is given up on silently.
func TestAttack15_ScheduleExpirySilent(t *testing.T) {
	srv := smtptest.Start(t)
	c := newCLI(t)
	c.addReaders(2)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: `reader001@`, Code: 450, Enhanced: [3]int{4, 2, 0}, Message: "try later"})
	sched := func(now string) string {
		_, errs, _ := c.run("schedule", "--once", "--now", now, "--transport", srv.URL(), "--retries", "0")
		return errs
	}
	sched("2026-11-30T09:05:00Z")
	errs := sched("2026-12-03T10:00:00Z") // 72h after the campaign began
	var failed []string
	for _, d := range c.a15log() {
		if d.Status == "failed" {
			failed = append(failed, d.Email)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("failed deliveries: %v\n%s", failed, errs)
	}
	if !strings.Contains(errs, "queue_lifetime") && !strings.Contains(errs, "reader001") && !strings.Contains(errs, "expired") {
		t.Errorf("%s failed past the queue lifetime in this scheduled run, which says nothing of it:\n%s", failed[0], errs)
	}
}
