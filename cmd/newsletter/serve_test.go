package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
)

// TestServe_OneClickFromARealMessage follows the List-Unsubscribe header of
// a sent digest to `newsletter serve`, as a mailbox provider does, and checks
// that the next digest leaves the reader out.
func TestServe_OneClickFromARealMessage(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "newsletter.toml")
	raw, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(raw, []byte(`public_url = "https://news.example.org"`), []byte(`public_url = "http://`+addr+`"`), 1), 0o600)
	c.loadExamples()
	outbox := filepath.Join(c.dir, "outbox")
	c.ok("digest", "--since", "2026-11-01", "--transport", "file://"+outbox)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		var out, errb bytes.Buffer
		done <- run(ctx, []string{"--db", filepath.Join(c.dir, "newsletter.db"), "--config", cfg, "serve", "--addr", addr}, nil, &out, &errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	waitHTTP(t, "http://"+addr+"/healthz")

	eml, err := os.ReadFile(outboxFile(t, outbox, "1", "ben.okafor@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`List-Unsubscribe: <(http://[^>]+)>`).FindSubmatch(eml)
	if m == nil {
		t.Fatalf("no List-Unsubscribe URL in\n%s", eml)
	}
	resp, err := http.Post(string(m[1]), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click: %d %s", resp.StatusCode, b)
	}
	if out := c.ok("--format", "csv", "subscribers", "list", "--status", "unsubscribed"); !strings.Contains(out, "ben.okafor@example.org,") {
		t.Fatalf("ben is not unsubscribed:\n%s", out)
	}
	// The next digest with something for Ben's categories leaves him out.
	os.WriteFile(filepath.Join(c.dir, "bus.txt"), []byte("2026-11-26\nNew Bus Shelters\nSix of them.\nCategories: Transport\n"), 0o644)
	c.ok("articles", "add", filepath.Join(c.dir, "bus.txt"))
	c.ok("digest", "--since", "2026-11-01", "--transport", "file://"+outbox)
	if _, err := os.Stat(outboxFile(t, outbox, "2", "ben.okafor@example.org")); err == nil {
		t.Fatal("ben got the next digest")
	}
	if _, err := os.Stat(outboxFile(t, outbox, "2", "george.li@example.org")); err != nil {
		t.Fatalf("george (Transport) did not get the next digest: %v", err)
	}
}

// TestServe_SignupEndToEnd: a reader signs up on the form, the confirmation
// mail arrives at an SMTP server, its link confirms, and the next digest
// reaches the new reader.
func TestServe_SignupEndToEnd(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	sink := smtptest.Start(t)
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "newsletter.toml")
	raw, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, bytes.Replace(raw, []byte(`public_url = "https://news.example.org"`), []byte(`public_url = "http://`+addr+`"`), 1), 0o600)
	c.loadExamples()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		var out, errb bytes.Buffer
		done <- run(ctx, []string{"--db", filepath.Join(c.dir, "newsletter.db"), "--config", cfg, "serve", "--addr", addr, "--transport", sink.URL()}, nil, &out, &errb)
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitHTTP(t, "http://"+addr+"/healthz")

	resp, err := http.PostForm("http://"+addr+"/subscribe", url.Values{"email": {"zoe@example.org"}, "name": {"Zoë"}, "category": {"Libraries"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", resp, err)
	}
	resp.Body.Close()
	confirmLink(t, sink, "zoe@example.org") // the mail leaves after the answer
	msgs := sink.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "zoe@example.org" {
		t.Fatalf("confirmation mail: %+v", msgs)
	}
	text, _, err := mailer.Parts(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://\S+/confirm/\S+`).FindString(text)
	if link == "" {
		t.Fatalf("no confirmation link in\n%s", text)
	}
	if out := c.ok("--format", "csv", "subscribers", "list", "--status", "unconfirmed"); !strings.Contains(out, "zoe@example.org,Zoë,unconfirmed,Libraries,newsletter") {
		t.Fatalf("before confirming:\n%s", out)
	}
	resp, err = http.PostForm(link, url.Values{})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("confirm: %v %v", resp, err)
	}
	resp.Body.Close()
	c.ok("digest", "--since", "2026-11-01", "--transport", sink.URL())
	if sink.Count("zoe@example.org") != 2 {
		t.Fatalf("zoe received %d messages, want the confirmation and the digest", sink.Count("zoe@example.org"))
	}
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for i := 0; ; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		if i > 300 {
			t.Fatalf("%s did not answer", url)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
