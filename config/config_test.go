package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter/config"
)

func load(t *testing.T, src string) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "newsletter.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path, true)
	return err
}

// TestLoad_Errors: settings out of range and misspelt ones are refused with
// an error that names the setting, and a misspelling gets a suggestion.
func TestLoad_Errors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"HugeConcurrency", "[transport]\nconcurrency = 100000\n", "transport.concurrency = 100000 is out of range: use 0 to 64"},
		{"NegativeRetries", "[transport]\nretries = -3\n", "transport.retries = -3 is out of range"},
		{"ZeroTimeoutIsDefaultButTinyIsNot", "[transport]\nconnect_timeout = \"1ns\"\n", "transport.connect_timeout = 1ns is out of range"},
		{"BadDuration", "[transport]\nqueue_lifetime = \"3 days\"\n", "is not a duration"},
		{"Misspelt", "[transport]\nretires = 3\n", "unknown setting transport.retires (did you mean transport.retries?)"},
		{"MisspeltSection", "[trasnport]\nurl = \"file://x\"\n", "did you mean transport"},
		{"Unknown", "[transport]\nzzzzzzzz = 1\n", "unknown setting transport.zzzzzzzz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := load(t, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTemplateLoads: what `newsletter init` writes loads without error.
func TestTemplateLoads(t *testing.T) {
	if err := load(t, config.Template()); err != nil {
		t.Fatal(err)
	}
}
