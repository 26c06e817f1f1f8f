package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
)

// server is a running `newsletter serve` of a cli.
type server struct {
	base string
	stop func() // stops it and waits, so mail sent after an answer is out
}

// servable points the config's public_url at a free port and returns it.
func (c *cli) servable(extraConfig string) string {
	c.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := filepath.Join(c.dir, "newsletter.toml")
	raw, _ := os.ReadFile(cfg)
	raw = bytes.Replace(raw, []byte(`public_url = "https://news.example.org"`), []byte(`public_url = "http://`+addr+`"`), 1)
	raw = append(raw, "\n"+extraConfig+"\n"...)
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return addr
}

// serve runs `newsletter serve` on addr (from servable) until the test ends
// or stop is called.
func (c *cli) serve(addr string, args ...string) *server {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var errb bytes.Buffer
	go func() {
		var out bytes.Buffer
		full := append([]string{"--db", filepath.Join(c.dir, "newsletter.db"), "--config", filepath.Join(c.dir, "newsletter.toml"), "serve", "--addr", addr}, args...)
		done <- run(ctx, full, nil, &out, &errb)
	}()
	stopped := false
	s := &server{base: "http://" + addr}
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			c.t.Errorf("serve exited %d\n%s", code, errb.String())
		}
	}
	c.t.Cleanup(s.stop)
	waitHTTP(c.t, s.base+"/healthz")
	return s
}

// status returns the status the CLI lists for email, "" if none.
func (c *cli) status(email string) string {
	c.t.Helper()
	for _, line := range strings.Split(c.ok("--format", "csv", "subscribers", "list"), "\n") {
		f := strings.Split(line, ",")
		if len(f) >= 3 && f[0] == email {
			return f[2]
		}
	}
	return ""
}

func httpDo(t *testing.T, method, link string, form url.Values, header ...string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, link, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// confirmLink returns the confirmation link in the last message to email,
// waiting a while for it: the mail leaves after the form's answer.
func confirmLink(t *testing.T, sink *smtptest.Server, email string) string {
	t.Helper()
	for i := 0; i < 500 && sink.Count(email) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	var link string
	for _, m := range sink.Messages() {
		if m.To[0] == email {
			text, _, err := mailer.Parts(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			link = regexp.MustCompile(`http://\S+/confirm/\S+`).FindString(text)
		}
	}
	if link == "" {
		t.Fatalf("no confirmation mail to %s", email)
	}
	return link
}

// Finding 1: a removed subscriber's links must not open the page of the
// next subscriber, who may get the same id.
func TestIssue12_RemovedSubscribersLinksOpenNobody(t *testing.T) {
	c := newCLI(t)
	addr := c.servable("")
	c.loadExamples()
	outbox := filepath.Join(c.dir, "outbox")
	c.ok("digest", "--since", "2026-11-01", "--transport", "file://"+outbox)

	db, err := sqlite.Open(context.Background(), filepath.Join(c.dir, "newsletter.db"))
	if err != nil {
		t.Fatal(err)
	}
	subs, err := db.Subscribers(context.Background(), newsletter.SubscriberFilter{Status: "active"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	last := subs[0]
	for _, s := range subs {
		if s.ID > last.ID {
			last = s
		}
	}
	eml, err := os.ReadFile(outboxFile(t, outbox, "1", last.Email))
	if err != nil {
		t.Fatal(err)
	}
	unsub := regexp.MustCompile(`List-Unsubscribe: <(http://[^>]+)>`).FindSubmatch(eml)
	text, _, err := mailer.Parts(eml)
	if err != nil || unsub == nil {
		t.Fatalf("%v\n%s", err, eml)
	}
	prefs := regexp.MustCompile(`http://\S+/preferences/[A-Za-z0-9._~%-]+`).FindString(text)
	if prefs == "" {
		t.Fatalf("no preferences link in\n%s", text)
	}

	c.ok("subscribers", "remove", last.Email)
	c.ok("subscribers", "add", "newcomer@example.org", "--categories", "Parks")
	srv := c.serve(addr)
	for _, link := range []string{string(unsub[1]), prefs} {
		code, b := httpDo(t, "GET", link, nil)
		if code < 400 || code >= 500 || strings.Contains(b, "newcomer") {
			t.Errorf("GET %s: %d\n%s", link, code, b)
		}
	}
	httpDo(t, "POST", string(unsub[1]), url.Values{"List-Unsubscribe": {"One-Click"}})
	httpDo(t, "POST", prefs, url.Values{"category": {"Transport"}})
	if s := c.status("newcomer@example.org"); s != "active" {
		t.Fatalf("the removed reader's link unsubscribed the newcomer: %s", s)
	}
	if out := c.ok("--format", "csv", "subscribers", "list", "--category", "Transport"); strings.Contains(out, "newcomer") {
		t.Fatalf("the removed reader's link changed the newcomer's categories:\n%s", out)
	}
	srv.stop()
}

// Finding 2: the form is not a relay: a client and everyone together get a
// bounded number of confirmation mails, the typed name is not in them, and
// bounced or complained addresses get none.
func TestIssue12_SignupIsNotARelay(t *testing.T) {
	t.Run("OneClient", func(t *testing.T) {
		sink := smtptest.Start(t)
		c := newCLI(t)
		addr := c.servable("")
		c.ok("subscribers", "import", "../../examples/subscribers.csv")
		srv := c.serve(addr, "--transport", sink.URL())
		for i := 0; i < 300; i++ {
			// A forged proxy header is not believed when none is configured.
			httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {fmt.Sprintf("victim%d@example.net", i)}},
				"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%250), "X-Real-IP", fmt.Sprintf("198.51.100.%d", i%250))
		}
		srv.stop()
		if n := len(sink.Messages()); n != 5 {
			t.Fatalf("one client sent %d confirmation mails, want the default limit of 5", n)
		}
	})
	t.Run("AllClients", func(t *testing.T) {
		sink := smtptest.Start(t)
		c := newCLI(t)
		addr := c.servable("[signup]\nclient_per_hour = 2\ntotal_per_hour = 20\nclient_header = \"X-Forwarded-For\"")
		srv := c.serve(addr, "--transport", sink.URL())
		for i := 0; i < 60; i++ {
			code, _ := httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {fmt.Sprintf("victim%d@example.net", i)}},
				"X-Forwarded-For", fmt.Sprintf("203.0.113.9, 198.51.100.%d", i))
			if code != 200 {
				t.Fatalf("client %d, first request: %d", i, code)
			}
		}
		srv.stop()
		if n := len(sink.Messages()); n != 20 {
			t.Fatalf("%d confirmation mails, want total_per_hour = 20", n)
		}
	})
	t.Run("NoEchoNoBlocked", func(t *testing.T) {
		sink := smtptest.Start(t)
		c := newCLI(t)
		addr := c.servable("")
		c.ok("subscribers", "add", "bounced@example.org", "--status", "bounced")
		c.ok("subscribers", "add", "complained@example.org", "--status", "complained")
		srv := c.serve(addr, "--transport", sink.URL())
		spam := "WIN $1000 NOW at http://spam.example/claim"
		for _, e := range []string{"bounced@example.org", "complained@example.org", "new@example.org"} {
			if code, _ := httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {e}, "name": {spam}}); code != 200 {
				t.Fatalf("%s: %d", e, code)
			}
		}
		srv.stop()
		msgs := sink.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "new@example.org" {
			for _, m := range msgs {
				t.Errorf("mail to %v", m.To)
			}
			t.Fatalf("want one mail, to new@example.org")
		}
		if bytes.Contains(msgs[0].Data, []byte("WIN")) || bytes.Contains(msgs[0].Data, []byte("spam.example")) {
			t.Fatalf("the typed name is in the mail:\n%s", msgs[0].Data)
		}
	})
}

// Finding 3: the form's list is the list joined, whatever other lists the
// address is in, and confirming does not bring back lists one left.
func TestIssue12_SignupJoinsTheFormsList(t *testing.T) {
	sink := smtptest.Start(t)
	c := newCLI(t)
	addr := c.servable("")
	c.ok("subscribers", "add", "member@example.org", "--list", "members")
	c.ok("subscribers", "add", "leaver@example.org", "--list", "members")
	c.ok("subscribers", "unsubscribe", "leaver@example.org")
	srv := c.serve(addr, "--transport", sink.URL(), "--list", "weekly")
	for _, e := range []string{"member@example.org", "leaver@example.org"} {
		httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {e}})
	}
	for _, e := range []string{"member@example.org", "leaver@example.org"} {
		link := confirmLink(t, sink, e)
		if code, b := httpDo(t, "POST", link, url.Values{}); code != 200 {
			t.Fatalf("confirm %s: %d\n%s", e, code, b)
		}
	}
	weekly := c.ok("--format", "csv", "subscribers", "list", "--list", "weekly", "--status", "active")
	if !strings.Contains(weekly, "member@example.org") || !strings.Contains(weekly, "leaver@example.org") {
		t.Fatalf("not in the form's list:\n%s", weekly)
	}
	if members := c.ok("--format", "csv", "subscribers", "list", "--list", "members", "--status", "active"); strings.Contains(members, "leaver@") {
		t.Fatalf("confirming one list made the leaver active in the list they left:\n%s", members)
	}
}

// Finding 4: a failed confirmation mail starts no cooldown, and the answer
// does not tell a new address from a subscribed one.
func TestIssue12_FailedConfirmationStartsNoCooldown(t *testing.T) {
	sink := smtptest.Start(t)
	c := newCLI(t)
	addr := c.servable("")
	c.ok("subscribers", "add", "known@example.org")
	srv := c.serve(addr, "--transport", sink.URL())
	sink.SetFaults(smtptest.Fault{Stage: smtptest.Greet, Code: 421})
	codeNew, bNew := httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {"fresh@example.org"}})
	codeOld, bOld := httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {"known@example.org"}})
	if codeNew != codeOld || strings.ReplaceAll(bNew, "fresh@", "known@") != bOld {
		t.Fatalf("the answer tells who is subscribed: %d vs %d\n%s\n---\n%s", codeNew, codeOld, bNew, bOld)
	}
	sink.SetFaults()
	// The mail goes out after the answer: the first, failed one may still
	// be under way, so ask again until one arrives (a cooldown would keep
	// any from coming).
	for deadline := time.Now().Add(10 * time.Second); sink.Count("fresh@example.org") == 0 && time.Now().Before(deadline); {
		httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {"fresh@example.org"}})
		time.Sleep(100 * time.Millisecond)
	}
	srv.stop()
	if n := sink.Count("fresh@example.org"); n != 1 {
		t.Fatalf("after the relay came back: %d mails, want 1 (a failed send starts no cooldown)", n)
	}
}

// Finding 5: a confirmation link works once, and never undoes a later
// unsubscribe.
func TestIssue12_ConfirmationLinkIsSingleUse(t *testing.T) {
	sink := smtptest.Start(t)
	c := newCLI(t)
	addr := c.servable("")
	srv := c.serve(addr, "--transport", sink.URL())
	httpDo(t, "POST", srv.base+"/subscribe", url.Values{"email": {"once@example.org"}})
	link := confirmLink(t, sink, "once@example.org")
	if code, _ := httpDo(t, "POST", link, url.Values{}); code != 200 {
		t.Fatalf("first confirm: %d", code)
	}
	c.ok("subscribers", "unsubscribe", "once@example.org")
	code, b := httpDo(t, "POST", link, url.Values{})
	if code < 400 || code >= 500 {
		t.Fatalf("the used link answered %d\n%s", code, b)
	}
	if s := c.status("once@example.org"); s != "unsubscribed" {
		t.Fatalf("the old confirmation link made the reader %s again", s)
	}
}

// Finding 6: an unsubscribe survives `subscribers remove`; --forget is the
// erasure that forgets it.
func TestIssue12_RemoveRemembersTheUnsubscribe(t *testing.T) {
	c := newCLI(t)
	csv := filepath.Join(c.dir, "old.csv")
	os.WriteFile(csv, []byte("email,name\nleft@example.org,Left\nerase@example.org,Erase\n"), 0o644)
	c.ok("articles", "add", "../../examples/articles")
	c.ok("subscribers", "import", csv)
	c.ok("digest", "--since", "2026-11-01", "--transport", "file://"+filepath.Join(c.dir, "outbox"))
	for _, e := range []string{"left@example.org", "erase@example.org"} {
		c.ok("subscribers", "unsubscribe", e)
	}
	c.ok("subscribers", "remove", "left@example.org")
	c.ok("subscribers", "remove", "--forget", "erase@example.org")
	if out := c.ok("deliveries", "--format", "csv"); strings.Contains(out, "erase@example.org") || !strings.Contains(out, "left@example.org") {
		t.Fatalf("deliveries after remove and remove --forget:\n%s", out)
	}
	c.ok("subscribers", "import", csv)
	if s := c.status("left@example.org"); s == "active" {
		t.Fatal("re-importing the old CSV made a removed unsubscriber active again")
	}
	if _, errs, code := c.run("subscribers", "add", "left@example.org"); code == 0 || !strings.Contains(errs, "--resubscribe") {
		t.Fatalf("add of a removed unsubscriber: exit %d\n%s", code, errs)
	}
	if s := c.status("erase@example.org"); s != "active" {
		t.Fatalf("after --forget the address is %q; nothing should be remembered", s)
	}
	c.ok("subscribers", "add", "left@example.org", "--resubscribe")
	if s := c.status("left@example.org"); s != "active" {
		t.Fatalf("--resubscribe: %s", s)
	}
}

// Finding 7: exports guard spreadsheet formulas; import does not quietly
// turn a tab-led cell into one.
func TestIssue12_CSVFormulas(t *testing.T) {
	c := newCLI(t)
	names := []string{`=HYPERLINK("http://evil.example","x")`, "+SUM(A1)", "@SUM(1)", "-2+3", "'=already"}
	for i, n := range names {
		c.ok("subscribers", "add", fmt.Sprintf("f%d@example.org", i), "--name="+n)
	}
	export := c.ok("subscribers", "export")
	listing := c.ok("--format", "csv", "subscribers", "list")
	for i, n := range names {
		for what, out := range map[string]string{"export": export, "list --format csv": listing} {
			if !strings.Contains(out, fmt.Sprintf("f%d@example.org,", i)) || strings.Contains(out, ","+n) || strings.Contains(out, `,"`+strings.ReplaceAll(n, `"`, `""`)) {
				t.Errorf("%s writes %q unguarded:\n%s", what, n, out)
			}
		}
	}
	if raw := c.ok("subscribers", "export", "--raw"); !strings.Contains(raw, ",+SUM(A1),") {
		t.Errorf("--raw changed the cells:\n%s", raw)
	}
	// The guarded export imports back to the same names.
	c2 := newCLI(t)
	os.WriteFile(filepath.Join(c2.dir, "export.csv"), []byte(export), 0o644)
	c2.ok("subscribers", "import", filepath.Join(c2.dir, "export.csv"))
	if again := c2.ok("subscribers", "export"); again != export {
		t.Errorf("round trip:\n%s\n---\n%s", export, again)
	}
	// A tab before a formula is not silently stripped into one.
	os.WriteFile(filepath.Join(c.dir, "tab.csv"), []byte("email,name\ntab@example.org,\"\t=1+1\"\n"), 0o644)
	_, errs, _ := c.run("subscribers", "import", filepath.Join(c.dir, "tab.csv"))
	if out := c.ok("--format", "json", "subscribers", "list"); strings.Contains(out, `"=1+1"`) {
		t.Fatalf("import stored =1+1 from a tab-led cell\n%s", errs)
	}
	if !strings.Contains(errs, "line 2") {
		t.Fatalf("the tab-led cell was not reported:\n%s", errs)
	}
}

// Finding 8: one mailbox, written with a Unicode or an ASCII domain, is one
// subscriber and gets one digest.
func TestIssue12_IDNDomainIsOneSubscriber(t *testing.T) {
	c := newCLI(t)
	c.ok("articles", "add", "../../examples/articles")
	c.ok("subscribers", "add", "reader@bücher.example")
	os.WriteFile(filepath.Join(c.dir, "s.csv"), []byte("email\nreader@xn--bcher-kva.example\nREADER@BÜCHER.example\n"), 0o644)
	c.ok("subscribers", "import", filepath.Join(c.dir, "s.csv"))
	if out := c.ok("--format", "csv", "subscribers", "list"); strings.Count(out, "reader@") != 1 {
		t.Fatalf("one mailbox, several subscribers:\n%s", out)
	}
	c.ok("digest", "--since", "2026-11-01", "--transport", "file://"+filepath.Join(c.dir, "outbox"))
	files, _ := filepath.Glob(filepath.Join(c.dir, "outbox", "1", "*.eml"))
	if len(files) != 1 {
		t.Fatalf("one mailbox got %d digests: %v", len(files), files)
	}
}

// Finding 9: any name a person can have makes a valid To header.
func TestIssue12_AnyNameBuildsTheMail(t *testing.T) {
	c := newCLI(t)
	c.ok("articles", "add", "../../examples/articles")
	names := map[string]string{
		"quote@example.org":   `Ann "The Boss"> <evil@example.net>`,
		"formula@example.org": `"=cmd|' /C calc'!A0"`,
		"emoji@example.org":   "Zoë 🌻 O'Brien, PhD; (chair)",
		"back@example.org":    `back\slash "\`,
	}
	for e, n := range names {
		c.ok("subscribers", "add", e, "--name="+n)
	}
	if _, errs, code := c.run("digest", "--since", "2026-11-01", "--transport", "file://"+filepath.Join(c.dir, "outbox")); code != 0 {
		t.Fatalf("digest: exit %d\n%s", code, errs)
	}
	for e, n := range names {
		raw, err := os.ReadFile(outboxFile(t, filepath.Join(c.dir, "outbox"), "1", e))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		to, err := m.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != e || to[0].Name != n {
			t.Errorf("To of %s: %v %v (header %q)", e, to, err, m.Header.Get("To"))
		}
	}
}

// Finding 10: the pages may not be framed.
func TestIssue12_PagesCannotBeFramed(t *testing.T) {
	c := newCLI(t)
	addr := c.servable("")
	srv := c.serve(addr)
	resp, err := http.Get(srv.base + "/subscribe")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	if xfo := resp.Header.Get("X-Frame-Options"); xfo != "DENY" {
		t.Errorf("X-Frame-Options: %q", xfo)
	}
}

// Finding 10, the rest: settings out of range are refused naming them, and
// an article larger than the limit is refused naming the file, with
// nothing stored.
func TestIssue12_RangesAndSizes(t *testing.T) {
	c := newCLI(t)
	c.editConfig("concurrency = 4", "concurrency = 100000")
	if _, errs, code := c.run("digest", "--dry-run"); code != 1 || !strings.Contains(errs, "transport.concurrency = 100000 is out of range") {
		t.Fatalf("concurrency = 100000: exit %d\n%s", code, errs)
	}
	c.editConfig("concurrency = 100000", "concurrency = 4")
	c.editConfig("retries = 5", "retries = -3")
	if _, errs, code := c.run("digest", "--dry-run"); code != 1 || !strings.Contains(errs, "transport.retries = -3 is out of range") {
		t.Fatalf("retries = -3: exit %d\n%s", code, errs)
	}
	c.editConfig("retries = -3", "retries = 5")
	big := filepath.Join(c.dir, "big.md")
	body := strings.Repeat("A paragraph of a very long article. ", 60000) // about 2 MB
	os.WriteFile(big, []byte("---\ntitle: Big\ndate: 2026-11-20\n---\n"+body+"\n"), 0o644)
	_, errs, code := c.run("articles", "add", big)
	if code != 1 || !strings.Contains(errs, "big.md") || !strings.Contains(errs, "larger than 1 MB") {
		t.Fatalf("a 2 MB article: exit %d\n%s", code, errs)
	}
	if out := c.ok("--format", "json", "articles", "list"); strings.TrimSpace(out) != "[]" {
		t.Errorf("something was stored: %s", out)
	}
}
