package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/testtool"
	"github.com/example/newsletter/mailer"
)

// cli runs the command in-process with its database and config in dir.
type cli struct {
	t   *testing.T
	dir string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{t: t, dir: t.TempDir()}
	c.ok("--config", filepath.Join(c.dir, "newsletter.toml"), "init")
	return c
}

// outboxFile is the path of the message of a campaign to an address that
// file:// wrote (DIR/<campaign>/<delivery>-<address>.eml), or a path that
// does not exist.
func outboxFile(t *testing.T, outbox, campaign, email string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(outbox, campaign, "*-"+email+".eml"))
	if len(files) > 1 {
		t.Fatalf("%d files for %s in campaign %s", len(files), email, campaign)
	} else if len(files) == 0 {
		return filepath.Join(outbox, campaign, "none-"+email+".eml")
	}
	return files[0]
}

// editConfig replaces old by new in the config init wrote.
func (c *cli) editConfig(old, new string) {
	c.t.Helper()
	path := filepath.Join(c.dir, "newsletter.toml")
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), old) {
		c.t.Fatalf("config %s has no %q (%v)", path, old, err)
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"--db", filepath.Join(c.dir, "newsletter.db"), "--config", filepath.Join(c.dir, "newsletter.toml")}, args...)
	code = run(context.Background(), full, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("newsletter %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out
}

// loadExamples adds the example articles and subscribers.
func (c *cli) loadExamples() {
	c.t.Helper()
	c.ok("articles", "add", "../../examples/articles")
	c.ok("subscribers", "import", "../../examples/subscribers.csv")
}

// expectedTitles computes, from the CLI's own listings, which article
// titles each active reader's digest since 2026-11-01 must hold.
func (c *cli) expectedTitles() map[string][]string {
	c.t.Helper()
	var arts []struct {
		Title, Date string
		Categories  []string
	}
	json.Unmarshal([]byte(c.ok("--format", "json", "articles", "list", "--since", "2026-11-01")), &arts)
	var subs []struct {
		Email, Status string
		Categories    []string
	}
	json.Unmarshal([]byte(c.ok("--format", "json", "subscribers", "list")), &subs)
	want := map[string][]string{}
	for _, s := range subs {
		if s.Status != "active" {
			continue
		}
		for _, a := range arts {
			match := len(s.Categories) == 0
			for _, sc := range s.Categories {
				for _, ac := range a.Categories {
					if strings.EqualFold(sc, ac) {
						match = true
					}
				}
			}
			if match {
				want[s.Email] = append(want[s.Email], a.Title)
			}
		}
		sort.Strings(want[s.Email])
	}
	return want
}

// titlesIn returns which of titles appear in text.
func titlesIn(text string, titles []string) []string {
	var out []string
	flat := strings.Join(strings.Fields(text), " ")
	for _, t := range titles {
		if strings.Contains(flat, t) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

func allTitles(want map[string][]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, ts := range want {
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// TestExamplesDigest_Files sends the examples' digest into a file outbox
// and checks every message: a strict MIME walk in Go, python3's email
// package (policy.default) finds no defect, each reader has exactly their
// articles, and SpamAssassin scores the digest of a reader of every
// category at most 1.0.
func TestExamplesDigest_Files(t *testing.T) {
	c := newCLI(t)
	c.loadExamples()
	outbox := filepath.Join(c.dir, "outbox")
	c.ok("digest", "--since", "2026-11-01", "--transport", "file://"+outbox)
	want := c.expectedTitles()
	files, _ := filepath.Glob(filepath.Join(outbox, "*", "*.eml"))
	if len(files) != len(want) || len(files) == 0 {
		t.Fatalf("%d messages in the outbox, want %d", len(files), len(want))
	}
	titles := allTitles(want)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, email, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".eml"), "-")
		checkHeaders(t, email, raw)
		text, html, err := mailer.Parts(raw)
		if err != nil {
			t.Errorf("%s: %v", email, err)
			continue
		}
		if got := titlesIn(text, titles); strings.Join(got, "|") != strings.Join(want[email], "|") {
			t.Errorf("%s: text part holds %q, want %q", email, got, want[email])
		}
		if got := titlesIn(htmlText(html), titles); strings.Join(got, "|") != strings.Join(want[email], "|") {
			t.Errorf("%s: HTML part holds %q, want %q", email, got, want[email])
		}
		for i, l := range strings.Split(text, "\n") {
			if len([]rune(l)) > 78 && !regexp.MustCompile(`^\S+://\S+$`).MatchString(l) {
				t.Errorf("%s: text line %d is %d characters: %q", email, i+1, len([]rune(l)), l)
			}
		}
	}

	t.Run("Python", func(t *testing.T) {
		py := testtool.Need(t, "python3")
		script := `
import sys, email
from email import policy
bad = 0
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        msg = email.message_from_binary_file(f, policy=policy.default)
    defects = list(msg.defects)
    for part in msg.walk():
        defects += list(part.defects)
        for k, v in part.items():
            defects += list(getattr(v, 'defects', []))
    if not msg.is_multipart() or msg.get_content_type() != 'multipart/alternative':
        defects.append('not multipart/alternative')
    kinds = [p.get_content_type() for p in msg.iter_parts()]
    if kinds != ['text/plain', 'text/html']:
        defects.append('parts %r' % kinds)
    for h in ('From', 'To', 'Subject', 'Date', 'Message-ID', 'List-Id', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'MIME-Version'):
        if msg[h] is None:
            defects.append('no ' + h)
    if defects:
        bad += 1
        print(path, defects)
sys.exit(1 if bad else 0)
`
		out, err := exec.Command(py, append([]string{"-c", script}, files...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("python3 email found defects: %v\n%s", err, out)
		}
	})

	t.Run("SpamAssassin", func(t *testing.T) {
		sa := testtool.Need(t, "spamassassin")
		raw, err := os.ReadFile(outboxFile(t, outbox, "1", "jo.murphy@example.org"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sa, "-L", "-t")
		cmd.Stdin = bytes.NewReader(raw)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, _ := cmd.Output()
		m := regexp.MustCompile(`(?m)^X-Spam-Status: \w+, score=(-?[0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no X-Spam-Status in spamassassin output:\n%s", out)
		}
		score, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("SpamAssassin score of the examples' digest: %.1f", score)
		if score > 1.0 {
			t.Errorf("SpamAssassin score %.1f > 1.0:\n%s", score, out)
		}
	})
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

func htmlText(html string) string {
	s := tagRe.ReplaceAllString(html, " ")
	return strings.NewReplacer("&#39;", "'", "&amp;", "&", "&#34;", `"`, "&quot;", `"`).Replace(s)
}

// checkHeaders checks the headers every campaign message must carry.
func checkHeaders(t *testing.T, email string, raw []byte) {
	t.Helper()
	hdr := string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))])
	for _, re := range []string{
		`(?m)^From: "Example News" <news@example\.org>\r?$`,
		`(?m)^To: .*<` + regexp.QuoteMeta(email) + `>\r?$`,
		`(?m)^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r?$`,
		`(?m)^Message-ID: <[0-9]{14}\.[a-z2-7]+@example\.org>\r?$`,
		`(?m)^List-Id: Example News <newsletter\.example\.org>\r?$`,
		`(?m)^List-Unsubscribe: <http[^>]+/unsubscribe/[A-Za-z0-9_.-]+>`,
		`(?m)^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$`,
		`(?m)^MIME-Version: 1\.0\r?$`,
		`(?m)^Content-Type: multipart/alternative;`,
	} {
		if !regexp.MustCompile(re).MatchString(hdr) {
			t.Errorf("%s: no header matching %s in\n%s", email, re, hdr)
		}
	}
	for _, forbidden := range []string{"Bcc:", "Cc:", "Precedence:", "Auto-Submitted:"} {
		if strings.Contains(hdr, "\n"+forbidden) {
			t.Errorf("%s: header %s must not be there", email, forbidden)
		}
	}
}

// TestExamplesDigest_Mailpit sends the examples' digest to Mailpit: every
// reader gets exactly their articles, the headers are there, each logged
// Message-ID is what Mailpit holds, and Mailpit's HTML check finds at
// least 90 % of the HTML supported across mail clients.
func TestExamplesDigest_Mailpit(t *testing.T) {
	mp := testtool.StartMailpit(t)
	c := newCLI(t)
	c.loadExamples()
	c.ok("digest", "--since", "2026-11-01", "--transport", "smtp://"+mp.SMTP+"?tls=none")
	want := c.expectedTitles()
	titles := allTitles(want)
	var logged []struct {
		Email     string `json:"email"`
		Status    string `json:"status"`
		MessageID string `json:"message_id"`
	}
	json.Unmarshal([]byte(c.ok("--format", "json", "deliveries")), &logged)
	loggedID := map[string]string{}
	for _, d := range logged {
		if d.Status != newsletter.DeliverySent {
			t.Errorf("%s: %s", d.Email, d.Status)
		}
		loggedID[d.Email] = d.MessageID
	}
	msgs := mp.Messages(t)
	if len(msgs) != len(want) {
		t.Fatalf("mailpit holds %d messages, want %d", len(msgs), len(want))
	}
	for _, m := range msgs {
		to := m.To[0].Address
		if "<"+m.MessageID+">" != loggedID[to] {
			t.Errorf("%s: mailpit has Message-ID %s, the log %s", to, m.MessageID, loggedID[to])
		}
		raw := mp.Raw(t, m.ID)
		checkHeaders(t, to, bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\r\n")))
		var full struct{ Text, HTML string }
		mp.Get(t, "/message/"+m.ID, &full)
		if got := titlesIn(full.Text, titles); strings.Join(got, "|") != strings.Join(want[to], "|") {
			t.Errorf("%s: got %q, want %q", to, got, want[to])
		}
		if to == "jo.murphy@example.org" {
			var hc struct {
				Total struct{ Supported, Partial, Unsupported float64 }
			}
			mp.Get(t, "/message/"+m.ID+"/html-check", &hc)
			t.Logf("mailpit html-check of the examples' digest: %.1f%% supported, %.1f%% partial, %.1f%% unsupported", hc.Total.Supported, hc.Total.Partial, hc.Total.Unsupported)
			if hc.Total.Supported < 90 {
				t.Errorf("html-check: %.1f%% supported, want at least 90%%", hc.Total.Supported)
			}
		}
	}
}

// TestDigest_MailpitChaos sends through Mailpit while its chaos mode refuses
// 30 % of recipients with 451: the retries get every message through, each
// exactly once, and the log counts the extra attempts.
func TestDigest_MailpitChaos(t *testing.T) {
	mp := testtool.StartMailpit(t, "--enable-chaos", "--chaos-triggers", "Recipient:451:30")
	c := newCLI(t)
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := 0; i < 40; i++ {
		csv.WriteString("reader" + strconv.Itoa(i) + "@example.org\n")
	}
	os.WriteFile(filepath.Join(c.dir, "readers.csv"), []byte(csv.String()), 0o644)
	c.ok("subscribers", "import", filepath.Join(c.dir, "readers.csv"))
	c.ok("articles", "add", "../../examples/articles")
	c.editConfig(`retry_backoff = "1s"`, `retry_backoff = "1ms"`)
	c.ok("digest", "--since", "2026-11-01", "--retries", "20", "--transport", "smtp://"+mp.SMTP+"?tls=none")
	var logged []struct {
		Email    string `json:"email"`
		Status   string `json:"status"`
		Attempts int    `json:"attempts"`
	}
	json.Unmarshal([]byte(c.ok("--format", "json", "deliveries")), &logged)
	retried := 0
	for _, d := range logged {
		if d.Status != "sent" {
			t.Errorf("%s: %s", d.Email, d.Status)
		}
		if d.Attempts > 1 {
			retried++
		}
	}
	got := map[string]int{}
	for _, m := range mp.Messages(t) {
		got[m.To[0].Address]++
	}
	for i := 0; i < 40; i++ {
		if n := got["reader"+strconv.Itoa(i)+"@example.org"]; n != 1 {
			t.Errorf("reader%d received %d messages", i, n)
		}
	}
	if retried == 0 {
		t.Error("no delivery needed a retry: the chaos trigger did not fire")
	}
	t.Logf("%d of 40 deliveries needed more than one attempt", retried)
}
