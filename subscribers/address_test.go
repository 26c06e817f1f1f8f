package subscribers_test

import (
	"strings"
	"testing"

	"golang.org/x/net/idna"

	"github.com/example/newsletter/subscribers"
)

func TestNormalizeEmail_Valid(t *testing.T) {
	for in, want := range map[string]string{
		"ana@example.org":                  "ana@example.org",
		"  Ana.Silva@Example.ORG \t":       "ana.silva@example.org",
		"first+tag@sub.example.co.uk":      "first+tag@sub.example.co.uk",
		"o'brien@example.org":              "o'brien@example.org",
		"{weird}!#$%&*=?^_`|~-@example.io": "{weird}!#$%&*=?^_`|~-@example.io",
		`"quoted.local"@example.org`:       `"quoted.local"@example.org`,
		`"a\"b"@example.org`:               `"a\"b"@example.org`,
		"user@bücher.example":              "user@xn--bcher-kva.example",
		"user@BÜCHER.Example":              "user@xn--bcher-kva.example",
		"user@XN--BCHER-KVA.example":       "user@xn--bcher-kva.example",
		"jürgen@example.de":                "jürgen@example.de",
		"a@b.co":                           "a@b.co",
	} {
		got, err := subscribers.NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// 64-character local part, 254 characters in all: the limits.
	local := strings.Repeat("a", 64)
	domain := strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".org"
	addr := local + "@" + domain
	if len(addr) != 254 {
		t.Fatalf("test address has %d characters", len(addr))
	}
	if _, err := subscribers.NormalizeEmail(addr); err != nil {
		t.Errorf("254-character address refused: %v", err)
	}
}

func TestNormalizeEmail_Invalid(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".org"
	for _, tc := range []struct{ in, want string }{
		{"", "email is empty"},
		{"   ", "email is empty"},
		{"plainaddress", "has no @"},
		{"@example.org", "nothing before the @"},
		{"ana@", "no domain"},
		{"ana@localhost", "needs a dot"},
		{"ana@example.org.", "ends with a dot"},
		{"ana@[192.0.2.1]", "address literals"},
		{"Ana <ana@example.org>", "bare address"},
		{"<ana@example.org>", "bare address"},
		{"ana@example.org (Ana)", "bare address"},
		{"ana(comment)@example.org", "bare address"},
		{"ana silva@example.org", "white space"},
		{"ana@example.org\r\nBcc: x@example.org", "white space or a control character"},
		{".ana@example.org", "dots"},
		{"ana.@example.org", "dots"},
		{"an..a@example.org", "dots"},
		{"ana@-example.org", "domain is not valid"},
		{"ana@exa_mple.org", "domain"},
		{"ana@example.123", "number"},
		{"a,b@example.org", "before the @"},
		{`"unclosed@example.org`, "unclosed quote"},
		{`"a b"@example.org`, "white space"},
		{strings.Repeat("a", 65) + "@example.org", "longer than 64"},
		{long, "longer than 254"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := subscribers.NormalizeEmail(tc.in)
			if err == nil {
				t.Fatalf("accepted as %q", got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"  Ana   Silva ":                "Ana Silva",
		"Ana\r\nBcc: evil@example.org":  "Ana Bcc: evil@example.org",
		"Chloé\x00 Mar\x07tin":          "Chloé Martin",
		"Zoë\u200bBidi\u202eEvil":       "ZoëBidiEvil",
		"Tab\tbed":                      "Tab bed",
		"":                              "",
		"invalid \xff utf8":             "invalid utf8",
		"Line\u2028Separator":           "Line Separator",
		"👩\u200d💻 Coder (ZWJ kept)":     "👩\u200d💻 Coder (ZWJ kept)",
		strings.Repeat("é", 250) + " x": strings.Repeat("é", 200),
	} {
		if got := subscribers.CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzNormalizeEmailIDNA: a normalised address normalises to itself, is ASCII
// after the @, and the Unicode spelling of its domain is the same address.
func FuzzNormalizeEmailIDNA(f *testing.F) {
	for _, s := range []string{"reader@bücher.example", "reader@xn--bcher-kva.example", "READER@BÜCHER.example",
		"a@b。example", `"q\"x"@example.org`, "jürgen@ÉXAMPLE.de", "x@xn--.org", "x@-a.org", "x@ß.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := subscribers.NormalizeEmail(s)
		if err != nil {
			return
		}
		again, err := subscribers.NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeEmail(%q) = %q, which normalises to %q, %v", s, out, again, err)
		}
		domain := out[strings.LastIndexByte(out, '@')+1:]
		for _, c := range []byte(domain) {
			if c >= 0x80 {
				t.Fatalf("NormalizeEmail(%q) = %q: the domain is not ASCII", s, out)
			}
		}
		if u, err := idna.ToUnicode(domain); err == nil && u != domain {
			if back, err := subscribers.NormalizeEmail(out[:len(out)-len(domain)] + u); err == nil && back != out {
				t.Fatalf("%q and its Unicode spelling %q normalise apart: %q", out, u, back)
			}
		}
	})
}
