package mailer_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mime"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/example/newsletter/internal/testtool"
	"github.com/example/newsletter/mailer"
)

func build(t *testing.T, b *mailer.Builder, m *mailer.Message) []byte {
	t.Helper()
	built, err := b.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := built.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func sample() *mailer.Message {
	return &mailer.Message{ToName: "Ana Silva", ToEmail: "ana@example.org", Subject: "Millbrook: News", Text: "Hello\n", HTML: "<p>Hello</p>",
		List: "newsletter", UnsubscribeURL: "https://news.example.org/unsubscribe/tok", UnsubscribeMailto: "leave@example.org"}
}

func TestBuild_Headers(t *testing.T) {
	b, err := mailer.NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust", mailer.WithReplyTo("office@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	raw := build(t, b, sample())
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	for k, want := range map[string]string{
		"From":                  `"Millbrook Trust" <news@example.org>`,
		"To":                    `"Ana Silva" <ana@example.org>`,
		"Reply-To":              `<office@example.org>`,
		"Subject":               "Millbrook: News",
		"List-Id":               "Millbrook Trust <newsletter.example.org>",
		"List-Unsubscribe":      "<https://news.example.org/unsubscribe/tok>, <mailto:leave@example.org?subject=unsubscribe>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Mime-Version":          "1.0",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	id := h.Get("Message-Id")
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("Message-ID %q is not <id@from-domain>", id)
	}
	if id2 := b.NewMessageID(); id2 == id {
		t.Error("Message-IDs repeat")
	}
	text, html, err := mailer.Parts(raw)
	if err != nil || text != "Hello\n" || html != "<p>Hello</p>" {
		t.Errorf("parts = %q %q %v", text, html, err)
	}
	for _, l := range strings.Split(string(raw), "\r\n") {
		if len(l) > 998 {
			t.Errorf("line over 998 characters: %q", l[:80])
		}
	}
}

// TestBuild_HostileInput: CR/LF and "Bcc:" in names and subjects never make
// a header; non-ASCII is RFC 2047 encoded.
func TestBuild_HostileInput(t *testing.T) {
	b, _ := mailer.NewBuilder("Millbrook Trust <news@example.org>", "Millbrook\r\nBcc: evil@example.net")
	m := sample()
	m.ToName = "Ana\r\nBcc: victim@example.net"
	m.Subject = "Café “news”\r\nBcc: evil@example.net\n\nbody"
	m.List = "newsletter\r\nX-Evil: 1"
	raw := build(t, b, m)
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Bcc", "X-Evil", "Cc"} {
		if v := msg.Header.Get(k); v != "" {
			t.Errorf("injected header %s: %q", k, v)
		}
	}
	hdr := string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
	for _, l := range strings.Split(hdr, "\r\n") {
		if strings.HasPrefix(strings.ToLower(l), "bcc:") || strings.HasPrefix(strings.ToLower(l), "x-evil:") {
			t.Errorf("injected header line %q", l)
		}
	}
	if !strings.Contains(hdr, "=?UTF-8?") {
		t.Error("non-ASCII subject is not RFC 2047 encoded")
	}
	dec := new(mime2047)
	subj, err := dec.decode(msg.Header.Get("Subject"))
	if err != nil || subj != "Café “news” Bcc: evil@example.net body" {
		t.Errorf("decoded subject = %q, %v", subj, err)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil || to.Name != "Ana Bcc: victim@example.net" || to.Address != "ana@example.org" {
		t.Errorf("To = %+v, %v", to, err)
	}
}

func TestBuild_DKIM(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		pem  []byte
		pub  string
	}{
		{"RSA", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), "v=DKIM1; k=rsa; p=" + pubRSA(t, rsaKey)},
		{"Ed25519", pemPKCS8(t, edKey), "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := mailer.NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust", mailer.WithDKIMKey("example.org", "news", tc.pem))
			if err != nil {
				t.Fatal(err)
			}
			raw := build(t, b, sample())
			lookup := func(domain string) ([]string, error) {
				if domain != "news._domainkey.example.org" {
					t.Errorf("looked up %s", domain)
				}
				return []string{tc.pub}, nil
			}
			verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup})
			if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
				t.Fatalf("verify: %v %+v %v\n%s", err, verifs, verifs[0].Err, raw)
			}
			signed := strings.ToLower(strings.Join(verifs[0].HeaderKeys, ":"))
			for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post", "list-id"} {
				if !strings.Contains(":"+signed+":", ":"+h+":") {
					t.Errorf("signature does not cover %s (h=%s)", h, signed)
				}
			}
			// A changed body no longer verifies.
			tampered := bytes.Replace(raw, []byte("Hello"), []byte("Hallo"), 1)
			verifs, err = dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{LookupTXT: lookup})
			if err != nil || len(verifs) != 1 || verifs[0].Err == nil {
				t.Fatalf("a changed body verified: %v %+v", err, verifs)
			}
		})
	}
	t.Run("ErrBadKey", func(t *testing.T) {
		if _, err := mailer.NewBuilder("a <a@example.org>", "x", mailer.WithDKIMKey("example.org", "s", []byte("not a key"))); err == nil {
			t.Fatal("accepted a bad key")
		}
	})
}

func pubRSA(t *testing.T, k *rsa.PrivateKey) string {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func pemPKCS8(t *testing.T, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestNewBuilder_Errors(t *testing.T) {
	for _, from := range []string{"", "not an address", "News <news@localhost>"} {
		if _, err := mailer.NewBuilder(from, "x"); err == nil {
			t.Errorf("NewBuilder(%q) accepted", from)
		}
	}
}

func TestParseTransport(t *testing.T) {
	for raw, want := range map[string]string{
		"file://outbox":                             "file://outbox",
		"smtp://mail.example.org":                   "smtp://mail.example.org:587",
		"smtp://u:p@mail.example.org:2525?tls=none": "smtp://mail.example.org:2525?tls=none",
		"smtps://mail.example.org":                  "smtps://mail.example.org:465",
		"smtp://mail.example.org?tls=opportunistic": "smtp://mail.example.org:587?tls=opportunistic",
	} {
		tr, err := mailer.ParseTransport(raw, "")
		if err != nil || tr.String() != want {
			t.Errorf("ParseTransport(%q) = %v, %v; want %s", raw, tr, err, want)
		}
	}
	for _, raw := range []string{"", "outbox", "ftp://x", "smtp://", "smtp://h:99999", "smtp://h?tls=maybe", "smtps://h?tls=none", "smtp://h?auth=magic", "file://"} {
		if _, err := mailer.ParseTransport(raw, ""); err == nil {
			t.Errorf("ParseTransport(%q) accepted", raw)
		}
	}
}

type mime2047 struct{}

func (mime2047) decode(s string) (string, error) {
	return new(mimeDecoder).DecodeHeader(s)
}

type mimeDecoder = mime.WordDecoder

// TestBuild_DKIMVerifiedByDkimpy verifies the signature with a second,
// unrelated implementation: dkimpy (Debian's python3-dkim).
func TestBuild_DKIMVerifiedByDkimpy(t *testing.T) {
	py := testtool.Need(t, "/usr/bin/python3")
	if err := exec.Command(py, "-c", "import dkim").Run(); err != nil {
		if os.Getenv("NEWSLETTER_REQUIRE_TOOLS") == "1" {
			t.Fatal("python3-dkim is not installed; .ci/run installs it")
		}
		t.Skip("python3-dkim is not installed; .ci/run installs it")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	b, err := mailer.NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust", mailer.WithDKIMKey("example.org", "news", pemKey))
	if err != nil {
		t.Fatal(err)
	}
	raw := build(t, b, sample())
	script := `
import sys, dkim
record = sys.argv[1].encode()
msg = open(sys.argv[2], 'rb').read()
def dns(name, timeout=5):
    assert name == b'news._domainkey.example.org.', name
    return record
ok = dkim.verify(msg, dnsfunc=dns)
print('pass' if ok else 'fail')
`
	verify := func(msg []byte) string {
		f := filepath.Join(t.TempDir(), "m.eml")
		os.WriteFile(f, msg, 0o644)
		out, err := exec.Command(py, "-c", script, "v=DKIM1; k=rsa; p="+pubRSA(t, key), f).CombinedOutput()
		if err != nil {
			t.Fatalf("dkimpy: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := verify(raw); got != "pass" {
		t.Fatalf("dkimpy says %s", got)
	}
	if got := verify(bytes.Replace(raw, []byte("Hello"), []byte("Hallo"), 1)); got != "fail" {
		t.Fatalf("dkimpy says %s for a changed body", got)
	}
}
