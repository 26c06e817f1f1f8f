// Package testtool finds the outside programs some tests use (python3,
// spamassassin, mailpit, chromium, postfix, dovecot) and runs Mailpit for a
// test.
//
// A test that needs a missing program is skipped, naming it; with
// NEWSLETTER_REQUIRE_TOOLS=1 (as .ci/run sets) it fails instead, so CI can
// never pass by skipping.
package testtool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Need returns the path of program name, or skips (fails under
// NEWSLETTER_REQUIRE_TOOLS=1) when it is not installed.
func Need(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if gopath, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
		cand := filepath.Join(string(bytes.TrimSpace(gopath)), "bin", name)
		if _, err := os.Stat(cand); err == nil {
			return cand
		}
	}
	if os.Getenv("NEWSLETTER_REQUIRE_TOOLS") == "1" {
		tb.Fatalf("%s is not installed (NEWSLETTER_REQUIRE_TOOLS=1); .ci/run installs it", name)
	}
	tb.Skipf("%s is not installed; .ci/run installs it", name)
	return ""
}

// Mailpit is a running Mailpit server.
type Mailpit struct {
	SMTP string // host:port
	API  string // http://host:port/api/v1
}

// FreeAddr returns a 127.0.0.1 address with a port nothing listens on now.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// StartMailpit runs Mailpit on loopback ports with its own database, with
// extra flags, until the test ends.
func StartMailpit(tb testing.TB, flags ...string) *Mailpit {
	tb.Helper()
	bin := Need(tb, "mailpit")
	smtpAddr, httpAddr := FreeAddr(tb), FreeAddr(tb)
	args := append([]string{"--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(tb.TempDir(), "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns", "--max", "100000", "-q"}, flags...)
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	m := &Mailpit{SMTP: smtpAddr, API: "http://" + httpAddr + "/api/v1"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(m.API + "/info")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return m
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailpit did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Get decodes the JSON of GET API+path into v.
func (m *Mailpit) Get(tb testing.TB, path string, v any) {
	tb.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
}

// Raw returns the raw message with the given Mailpit ID.
func (m *Mailpit) Raw(tb testing.TB, id string) []byte {
	tb.Helper()
	resp, err := http.Get(m.API + "/message/" + id + "/raw")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.Bytes()
}

// Summary is a message in Mailpit's listing.
type Summary struct {
	ID        string
	MessageID string
	Subject   string
	To        []struct{ Address string }
}

// Messages returns every message Mailpit holds.
func (m *Mailpit) Messages(tb testing.TB) []Summary {
	tb.Helper()
	var resp struct {
		Total    int
		Messages []Summary
	}
	m.Get(tb, fmt.Sprintf("/messages?limit=%d", 100000), &resp)
	return resp.Messages
}
