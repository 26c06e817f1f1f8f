package main

import (
	"math/rand"
	"os/exec"
	"testing"
	"time"

	"github.com/example/newsletter/internal/smtptest"
)

// Kill -9 digest and scheduled runs at random moments, 30 times, resuming
// each time; then finish. Nobody has two copies; every delivery is sent or
// unknown; a sent one arrived once under its Message-ID.
func TestAttack15_KillLoop(t *testing.T) {
	bin, err := exec.LookPath("newsletter")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Data, Delay: 15 * time.Millisecond},
		smtptest.Fault{Stage: smtptest.Rcpt, Match: `reader00[0-2]@`, Code: 450, Enhanced: [3]int{4, 2, 0}, Message: "later", Prob: 0.5})
	c := newCLI(t)
	c.addReaders(150)
	rng := rand.New(rand.NewSource(15))
	kills := 0
	for i := 0; i < 30; i++ {
		args := []string{"digest", "--since", "2026-11-01", "--transport", srv.URL(), "--concurrency", "4", "--retries", "1"}
		if i%3 == 1 {
			args = []string{"schedule", "--once", "--now", "2026-11-30T09:05:00Z", "--transport", srv.URL(), "--concurrency", "4", "--retries", "1"}
		}
		cmd := c.command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.Intn(400)) * time.Millisecond)
		if cmd.Process.Kill() == nil {
			kills++
		}
		cmd.Wait()
	}
	srv.SetFaults()
	for i := 0; i < 3; i++ {
		c.run("digest", "--since", "2026-11-01", "--transport", srv.URL())
	}
	ids := serverIDs(srv)
	st := map[string]int{}
	for _, d := range c.a15log() {
		st[d.Status]++
		n := srv.Count(d.Email)
		if n > 1 {
			t.Errorf("%s received %d copies", d.Email, n)
		}
		switch d.Status {
		case "sent":
			if ids[d.MessageID] != 1 {
				t.Errorf("%s logged sent with %s, which the server has %d times", d.Email, d.MessageID, ids[d.MessageID])
			}
		case "unknown":
		default:
			t.Errorf("%s is %s at the end", d.Email, d.Status)
		}
		if n == 0 && d.Status != "unknown" {
			t.Errorf("%s received nothing, logged %s", d.Email, d.Status)
		}
	}
	t.Logf("%d kills; log %v; server %d messages, %d connections", kills, st, srv.Count(""), srv.Connections())
}

// Two scheduler processes at once, and a digest by hand at the same time.
func TestAttack15_TwoSchedulers(t *testing.T) {
	bin, err := exec.LookPath("newsletter")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Data, Delay: 5 * time.Millisecond})
	c := newCLI(t)
	c.addReaders(80)
	var cmds []*exec.Cmd
	for _, args := range [][]string{
		{"schedule", "--once", "--now", "2026-11-30T09:05:00Z", "--transport", srv.URL()},
		{"schedule", "--once", "--now", "2026-11-30T09:06:00Z", "--transport", srv.URL()},
		{"digest", "--since", "2026-11-01", "--transport", srv.URL()},
	} {
		cmd := c.command(bin, args...)
		cmd.Start()
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		cmd.Wait()
	}
	c.run("schedule", "--once", "--now", "2026-11-30T09:30:00Z", "--transport", srv.URL())
	c.run("digest", "--since", "2026-11-01", "--transport", srv.URL())
	ids := serverIDs(srv)
	st := map[string]int{}
	for _, d := range c.a15log() {
		st[d.Status]++
		if n := srv.Count(d.Email); n != 1 || d.Status != "sent" || ids[d.MessageID] != 1 {
			t.Errorf("%s: %s, %d copies", d.Email, d.Status, n)
		}
	}
	t.Logf("log %v; server %d", st, srv.Count(""))
}
