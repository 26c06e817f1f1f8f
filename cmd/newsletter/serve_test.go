package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("serve did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}

	eml, err := os.ReadFile(filepath.Join(outbox, "1", "ben.okafor@example.org.eml"))
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
	if _, err := os.Stat(filepath.Join(outbox, "2", "ben.okafor@example.org.eml")); err == nil {
		t.Fatal("ben got the next digest")
	}
	if _, err := os.Stat(filepath.Join(outbox, "2", "george.li@example.org.eml")); err != nil {
		t.Fatalf("george (Transport) did not get the next digest: %v", err)
	}
}
