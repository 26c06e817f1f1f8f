package newsletter_test

import (
	"testing"

	"github.com/example/newsletter"
)

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"Hello\r\nBcc: x@example.net":  "Hello Bcc: x@example.net",
		"  a \t b\u2028c\u0085d\x00e ": "a b c d e",
		"Café — “news”":                "Café — “news”",
	} {
		if got := newsletter.OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCategories(t *testing.T) {
	if got := newsletter.CategoryKey("  Top   Stories "); got != "top stories" {
		t.Errorf("key = %q", got)
	}
	got := newsletter.SplitCategories("Parks; parks |Top  Stories;;", ";|")
	if len(got) != 2 || got[0] != "Parks" || got[1] != "Top Stories" {
		t.Errorf("split = %q", got)
	}
}
