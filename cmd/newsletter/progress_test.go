package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/example/newsletter/internal/testtool"
)

// TestProgress_Terminal runs a send under a pseudo-terminal (util-linux's
// script): stderr shows a progress bar with a count, a rate and an ETA.
func TestProgress_Terminal(t *testing.T) {
	scriptBin := testtool.Need(t, "script")
	bin, err := exec.LookPath("newsletter")
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	c.addReaders(30)
	line := strings.Join([]string{bin, "--db", filepath.Join(c.dir, "newsletter.db"), "--config", filepath.Join(c.dir, "newsletter.toml"),
		"digest", "--since", "2026-11-01", "--transport", "file://" + filepath.Join(c.dir, "outbox")}, " ")
	cmd := exec.Command(scriptBin, "-qec", line, "/dev/null")
	cmd.Env = append(os.Environ(), "NEWSLETTER_DB=", "NEWSLETTER_CONFIG=", "NEWSLETTER_TRANSPORT=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !regexp.MustCompile(`campaign 1\s+\d+% \|.*\| \(\d+/30, [0-9.]+ msg/s\) \[[0-9sm:]+\]`).Match(out) {
		t.Errorf("no progress bar in\n%q", out)
	}
	if !strings.Contains(string(out), "30 recipients, 30 sent") {
		t.Errorf("no summary in\n%q", out)
	}
}
