package web_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"iter"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
	"github.com/example/newsletter/web"
)

// sentDB is a database where each reader was sent one digest with VERP.
func sentDB(t *testing.T, readers ...string) (*sqlite.DB, *bounces.VERP) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "newsletter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		for _, r := range readers {
			if !yield(&newsletter.SubscriberInput{Email: r}, nil) {
				return
			}
		}
	}
	if _, err := db.ImportSubscribers(ctx, iter.Seq2[*newsletter.SubscriberInput, error](rows), newsletter.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	a := &newsletter.Article{Slug: "one", Title: "One", Date: time.Now().UTC().Truncate(24 * time.Hour), Body: "Body."}
	a.ComputeHash()
	if _, err := db.UpsertArticles(ctx, []*newsletter.Article{a}); err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(strings.Repeat("cd", 32))
	verp, err := bounces.NewVERP("bounces@example.org", signer)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := templates.New(templates.Site{Name: "News", URL: "https://example.org"})
	b, _ := mailer.NewBuilder("News <news@example.org>", "News")
	srv := smtptest.Start(t)
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	s := &campaign.Service{DB: db, Renderer: r, Builder: b, Signer: signer, Transport: tr, Options: campaign.Options{PublicURL: "https://news.example.org", VERP: verp}}
	if _, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: time.Now().AddDate(0, 0, -7)}); err != nil {
		t.Fatal(err)
	}
	return db, verp
}

func state(t *testing.T, db *sqlite.DB, email string) string {
	t.Helper()
	ds, err := db.Deliveries(context.Background(), newsletter.DeliveryFilter{Email: email})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries of %s: %v %v", email, ds, err)
	}
	s, err := db.SubscriberByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return ds[0].Status + "/" + s.Status
}

// testSigner is an SNS signing key with its self-signed certificate.
type testSigner struct {
	key     *rsa.PrivateKey
	certPEM []byte
}

func newTestSigner(t *testing.T) *testSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

const (
	topic   = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
	certURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
)

// snsBody is an SNS Notification carrying message, signed (version 2)
// by s.
func (s *testSigner) snsBody(t *testing.T, message, cert string) map[string]string {
	t.Helper()
	m := map[string]string{
		"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", "TopicArn": topic,
		"Message": message, "Timestamp": "2026-11-30T09:10:00.000Z", "SignatureVersion": "2", "SigningCertURL": cert,
	}
	toSign := "Message\n" + m["Message"] + "\nMessageId\n" + m["MessageId"] + "\nTimestamp\n" + m["Timestamp"] +
		"\nTopicArn\n" + m["TopicArn"] + "\nType\n" + m["Type"] + "\n"
	d := sha256.Sum256([]byte(toSign))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	return m
}

func post(t *testing.T, h http.Handler, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, _ := json.Marshal(body)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(b))))
	return w
}

func TestWebhookSES(t *testing.T) {
	db, verp := sentDB(t, "gone@example.com", "angry@example.com")
	ds, _ := db.Deliveries(context.Background(), newsletter.DeliveryFilter{})
	ids := map[string]int64{}
	for _, d := range ds {
		ids[d.Email] = d.ID
	}
	signer := newTestSigner(t)
	var fetched []string
	wh := &web.Webhooks{
		Processor: &bounces.Processor{Store: db, VERP: verp},
		SNSTopics: []string{topic},
		Fetch: func(_ context.Context, u *url.URL) ([]byte, error) {
			fetched = append(fetched, u.String())
			return signer.certPEM, nil
		},
	}
	bounce := fmt.Sprintf(`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","feedbackId":"fb-1",
		"bouncedRecipients":[{"emailAddress":"gone@example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},
		"mail":{"messageId":"ses-1","source":"%s","destination":["gone@example.com"]}}`, verp.Address(ids["gone@example.com"]))
	complaint := fmt.Sprintf(`{"notificationType":"Complaint","complaint":{"feedbackId":"fb-2","complaintFeedbackType":"abuse",
		"complainedRecipients":[{"emailAddress":"angry@example.com"}]},"mail":{"messageId":"ses-2","source":"%s"}}`, verp.Address(ids["angry@example.com"]))

	// A bad signature: the same body with the signature of another
	// message. Refused with 403; nothing changes.
	good := signer.snsBody(t, bounce, certURL)
	bad := signer.snsBody(t, complaint, certURL)
	bad["Message"] = bounce
	if w := post(t, wh, "/webhooks/ses", bad); w.Code != http.StatusForbidden {
		t.Errorf("bad signature: %d %s", w.Code, w.Body)
	}
	flipped := map[string]string{}
	for k, v := range good {
		flipped[k] = v
	}
	sig, _ := base64.StdEncoding.DecodeString(good["Signature"])
	sig[10] ^= 1
	flipped["Signature"] = base64.StdEncoding.EncodeToString(sig)
	if w := post(t, wh, "/webhooks/ses", flipped); w.Code != http.StatusForbidden {
		t.Errorf("a flipped bit in the signature: %d %s", w.Code, w.Body)
	}
	// A certificate anywhere but an SNS host is not even fetched.
	n := len(fetched)
	for _, u := range []string{"http://sns.eu-west-1.amazonaws.com/x.pem", "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem", "https://evil.example/x.pem"} {
		if w := post(t, wh, "/webhooks/ses", signer.snsBody(t, bounce, u)); w.Code != http.StatusForbidden {
			t.Errorf("certificate at %s: %d", u, w.Code)
		}
	}
	if len(fetched) != n {
		t.Errorf("fetched %v", fetched[n:])
	}
	// Another topic is refused.
	other := signer.snsBody(t, bounce, certURL)
	other["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:other"
	if w := post(t, wh, "/webhooks/ses", other); w.Code != http.StatusForbidden {
		t.Errorf("another topic: %d", w.Code)
	}
	if got := state(t, db, "gone@example.com"); got != "sent/active" {
		t.Fatalf("after refused notifications: %s", got)
	}

	// Signed properly: accepted, twice, recorded once.
	for range 2 {
		if w := post(t, wh, "/webhooks/ses", good); w.Code != http.StatusNoContent {
			t.Fatalf("signed bounce: %d %s", w.Code, w.Body)
		}
	}
	if got := state(t, db, "gone@example.com"); got != "bounced/bounced" {
		t.Errorf("gone: %s", got)
	}
	if w := post(t, wh, "/webhooks/ses", signer.snsBody(t, complaint, certURL)); w.Code != http.StatusNoContent {
		t.Fatalf("signed complaint: %d %s", w.Code, w.Body)
	}
	if got := state(t, db, "angry@example.com"); got != "complained/complained" {
		t.Errorf("angry: %s", got)
	}
	recs, _ := db.BounceRecords(context.Background(), newsletter.BounceFilter{})
	if len(recs) != 2 || recs[0].Source != "ses" || recs[0].Status != "5.1.1" {
		t.Errorf("events: %+v", recs)
	}
	if len(fetched) != 1 {
		t.Errorf("the certificate was fetched %d times, want once", len(fetched))
	}
}

func TestWebhookMailgun(t *testing.T) {
	db, verp := sentDB(t, "gone@example.com")
	ds, _ := db.Deliveries(context.Background(), newsletter.DeliveryFilter{})
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	wh := &web.Webhooks{Processor: &bounces.Processor{Store: db, VERP: verp}, MailgunKey: "key-test", Now: func() time.Time { return now }}
	event := func(key string, at time.Time) map[string]any {
		ts := fmt.Sprint(at.Unix())
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(ts + "tok123"))
		return map[string]any{
			"signature": map[string]string{"timestamp": ts, "token": "tok123", "signature": hex.EncodeToString(mac.Sum(nil))},
			"event-data": map[string]any{"event": "failed", "severity": "permanent", "id": "ev-1", "recipient": "gone@example.com",
				"delivery-status": map[string]any{"code": 550, "message": "5.1.1 The email account does not exist"},
				"envelope":        map[string]string{"sender": verp.Address(ds[0].ID)}},
		}
	}
	if w := post(t, wh, "/webhooks/mailgun", event("wrong-key", now)); w.Code != http.StatusForbidden {
		t.Errorf("wrong key: %d", w.Code)
	}
	if w := post(t, wh, "/webhooks/mailgun", event("key-test", now.Add(-time.Hour))); w.Code != http.StatusForbidden {
		t.Errorf("an old signature: %d", w.Code)
	}
	if got := state(t, db, "gone@example.com"); got != "sent/active" {
		t.Fatalf("after refused events: %s", got)
	}
	if w := post(t, wh, "/webhooks/mailgun", event("key-test", now)); w.Code != http.StatusNoContent {
		t.Fatalf("signed: %d %s", w.Code, w.Body)
	}
	if got := state(t, db, "gone@example.com"); got != "bounced/bounced" {
		t.Errorf("gone: %s", got)
	}
	// Off without settings.
	if w := post(t, &web.Webhooks{}, "/webhooks/mailgun", event("key-test", now)); w.Code != http.StatusNotFound {
		t.Errorf("unconfigured: %d", w.Code)
	}
}

// failOnce is a processor whose first report cannot be recorded.
type failOnce struct{ calls int }

func (f *failOnce) Process(context.Context, string, *bounces.Report) (bounces.Outcome, error) {
	f.calls++
	if f.calls == 1 {
		return bounces.Outcome{}, fmt.Errorf("database is locked")
	}
	return bounces.Outcome{Recorded: 1}, nil
}

// TestWebhookMailgunTokenOnce: a token is good for one event; an event
// that could not be recorded may come again with its token (Mailgun
// retries).
func TestWebhookMailgunTokenOnce(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	proc := &failOnce{}
	wh := &web.Webhooks{Processor: proc, MailgunKey: "key-test", Now: func() time.Time { return now }}
	ts := fmt.Sprint(now.Unix())
	mac := hmac.New(sha256.New, []byte("key-test"))
	mac.Write([]byte(ts + "tok-once"))
	ev := map[string]any{
		"signature":  map[string]string{"timestamp": ts, "token": "tok-once", "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": map[string]any{"event": "complained", "id": "ev-9", "recipient": "a@example.com"},
	}
	if w := post(t, wh, "/webhooks/mailgun", ev); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("store failing: %d", w.Code)
	}
	if w := post(t, wh, "/webhooks/mailgun", ev); w.Code != http.StatusNoContent {
		t.Fatalf("Mailgun's retry: %d %s", w.Code, w.Body)
	}
	if w := post(t, wh, "/webhooks/mailgun", ev); w.Code != http.StatusForbidden {
		t.Errorf("the token a third time: %d", w.Code)
	}
	if proc.calls != 2 {
		t.Errorf("%d reports processed, want 2", proc.calls)
	}
}
