package web_test

// Hostile tests of the SES (SNS) and Mailgun webhooks.

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/web"
)

func ids(t *testing.T, db *sqlite.DB) map[string]int64 {
	t.Helper()
	ds, err := db.Deliveries(context.Background(), newsletter.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, d := range ds {
		out[d.Email] = d.ID
	}
	return out
}

func nEvents(t *testing.T, db *sqlite.DB) int {
	t.Helper()
	recs, err := db.BounceRecords(context.Background(), newsletter.BounceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// sign signs m (an SNS message of any type) with version v.
func (s *testSigner) sign(t *testing.T, m map[string]string, v string) map[string]string {
	t.Helper()
	toSign := "Message\n" + m["Message"] + "\nMessageId\n" + m["MessageId"] + "\n"
	if m["Type"] == "Notification" {
		if m["Subject"] != "" {
			toSign += "Subject\n" + m["Subject"] + "\n"
		}
	} else {
		toSign += "SubscribeURL\n" + m["SubscribeURL"] + "\n"
	}
	toSign += "Timestamp\n" + m["Timestamp"] + "\n"
	if m["Type"] != "Notification" {
		toSign += "Token\n" + m["Token"] + "\n"
	}
	toSign += "TopicArn\n" + m["TopicArn"] + "\nType\n" + m["Type"] + "\n"
	var sig []byte
	var err error
	if v == "1" {
		d := sha1.Sum([]byte(toSign))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256([]byte(toSign))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m["SignatureVersion"] = v
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	return m
}

// TestAttackSNSCertHost: a SigningCertURL must be on the SNS service, not
// on any host that happens to match sns.<label>.amazonaws.com. The host
// sns.s3.amazonaws.com is the S3 bucket named "sns" (virtual-hosted
// style), whose content its owner chooses.
func TestAttackSNSCertHost(t *testing.T) {
	db, verp := sentDB(t, "victim@example.com")
	id := ids(t, db)["victim@example.com"]
	attacker := newTestSigner(t)
	var fetched []string
	wh := &web.Webhooks{Processor: &bounces.Processor{Store: db, VERP: verp}, SNSTopics: []string{topic},
		Fetch: func(_ context.Context, u *url.URL) ([]byte, error) {
			fetched = append(fetched, u.String())
			return attacker.certPEM, nil
		}}
	// The attacker does not know the VERP token: the report is matched by
	// Message-ID and recipient, which a forwarded copy of the newsletter
	// shows.
	ds, _ := db.Deliveries(context.Background(), newsletter.DeliveryFilter{Email: "victim@example.com"})
	msg := fmt.Sprintf(`{"notificationType":"Complaint","complaint":{"feedbackId":"evil-1","complainedRecipients":[{"emailAddress":"victim@example.com"}]},
		"mail":{"source":"bounces@example.org","headers":[{"name":"Message-ID","value":"%s"}]}}`, ds[0].MessageID)
	_ = id
	refused := []string{
		"https://sns.eu-west-1.amazonaws.com.evil.example/c.pem",
		"http://sns.eu-west-1.amazonaws.com/c.pem",
		"https://sns.eu-west-1.amazonaws.com@evil.example/c.pem",
		"https://evil.example/#@sns.eu-west-1.amazonaws.com/c.pem",
		"https://sns.eu-west-1.amazonaws.com:8443/c.pem",
		"https://sns.eu-west-1.amazonaws.com./c.pem",
		"https://evil.example\\@sns.eu-west-1.amazonaws.com/c.pem",
		"https://sns.s3.amazonaws.com/c.pem",
	}
	for _, u := range refused {
		before := len(fetched)
		m := attacker.snsBody(t, msg, u)
		w := post(t, wh, "/webhooks/ses", m)
		if len(fetched) != before || w.Code == http.StatusNoContent {
			t.Errorf("SigningCertURL %s: fetched %v, answer %d", u, fetched[before:], w.Code)
		}
	}
	if got := state(t, db, "victim@example.com"); got != "sent/active" {
		t.Errorf("victim after certificates from look-alike hosts: %s", got)
	}
	if n := nEvents(t, db); n != 0 {
		t.Errorf("%d events", n)
	}
}

// TestAttackSNSReplayAndVersions: version 1 and 2 signatures, a replayed
// message (same MessageId, same feedbackId), a replay a year later, and a
// SubscriptionConfirmation.
func TestAttackSNSReplayAndVersions(t *testing.T) {
	db, verp := sentDB(t, "soft@example.com", "hard@example.com", "many@example.com")
	id := ids(t, db)
	signer := newTestSigner(t)
	var fetched []string
	wh := &web.Webhooks{Processor: &bounces.Processor{Store: db, VERP: verp}, SNSTopics: []string{topic},
		Fetch: func(_ context.Context, u *url.URL) ([]byte, error) {
			fetched = append(fetched, u.String())
			return signer.certPEM, nil
		}}
	note := func(typ, fb, email string, extra string) map[string]string {
		msg := fmt.Sprintf(`{"notificationType":"Bounce","bounce":{"bounceType":"%s","feedbackId":"%s",
			"bouncedRecipients":[{"emailAddress":"%s"%s}]},"mail":{"source":"%s"}}`, typ, fb, email, extra, verp.Address(id[email]))
		return map[string]string{"Type": "Notification", "MessageId": "mid-" + fb, "TopicArn": topic, "Message": msg,
			"Timestamp": "2026-11-30T09:10:00.000Z", "SigningCertURL": certURL}
	}
	// Transient, no status: a soft bounce; the address stays.
	if w := post(t, wh, "/webhooks/ses", signer.sign(t, note("Transient", "fb-t", "soft@example.com", ""), "1")); w.Code != http.StatusNoContent {
		t.Fatalf("v1 transient: %d %s", w.Code, w.Body)
	}
	if got := state(t, db, "soft@example.com"); got != "bounced/active" {
		t.Errorf("transient: %s", got)
	}
	// Permanent, status 5.1.1: hard. Sent twice, and again a year later
	// with another SNS MessageId (SNS redelivery).
	p := signer.sign(t, note("Permanent", "fb-p", "hard@example.com", `,"status":"5.1.1","action":"failed"`), "2")
	for range 2 {
		if w := post(t, wh, "/webhooks/ses", p); w.Code != http.StatusNoContent {
			t.Fatalf("v2 permanent: %d %s", w.Code, w.Body)
		}
	}
	late := note("Permanent", "fb-p", "hard@example.com", `,"status":"5.1.1","action":"failed"`)
	late["MessageId"], late["Timestamp"] = "mid-other", "2027-12-01T00:00:00.000Z"
	if w := post(t, wh, "/webhooks/ses", signer.sign(t, late, "2")); w.Code != http.StatusNoContent {
		t.Logf("a year-old replay: %d", w.Code)
	}
	if got := state(t, db, "hard@example.com"); got != "bounced/bounced" {
		t.Errorf("permanent: %s", got)
	}
	if n := nEvents(t, db); n != 2 {
		t.Errorf("%d events after a transient and a permanent sent three times, want 2", n)
	}
	// A complaint with several recipients: only the token's delivery.
	c := fmt.Sprintf(`{"notificationType":"Complaint","complaint":{"feedbackId":"fb-c","complaintFeedbackType":"abuse",
		"complainedRecipients":[{"emailAddress":"soft@example.com"},{"emailAddress":"many@example.com"}]},"mail":{"source":"%s"}}`, verp.Address(id["many@example.com"]))
	cm := map[string]string{"Type": "Notification", "MessageId": "mid-c", "TopicArn": topic, "Message": c, "Timestamp": "2026-11-30T09:10:00.000Z", "SigningCertURL": certURL}
	if w := post(t, wh, "/webhooks/ses", signer.sign(t, cm, "2")); w.Code != http.StatusNoContent {
		t.Fatalf("complaint: %d", w.Code)
	}
	if got := state(t, db, "many@example.com"); got != "complained/complained" {
		t.Errorf("many: %s", got)
	}
	if got := state(t, db, "soft@example.com"); got != "bounced/active" {
		t.Errorf("soft, named second in a complaint under many@'s token: %s", got)
	}
	// SubscriptionConfirmation: confirmed by fetching SubscribeURL, only on
	// an SNS host.
	sub := map[string]string{"Type": "SubscriptionConfirmation", "MessageId": "mid-s", "TopicArn": topic, "Token": "tok",
		"Message": "You have chosen to subscribe", "Timestamp": "2026-11-30T09:10:00.000Z", "SigningCertURL": certURL,
		"SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=tok"}
	n := len(fetched)
	if w := post(t, wh, "/webhooks/ses", signer.sign(t, sub, "2")); w.Code != http.StatusNoContent || len(fetched) != n+1 {
		t.Errorf("confirmation: %d, fetched %v", w.Code, fetched[n:])
	}
	evil := map[string]string{}
	for k, v := range sub {
		evil[k] = v
	}
	evil["SubscribeURL"] = "https://169.254.169.254/latest/meta-data/"
	n = len(fetched)
	if w := post(t, wh, "/webhooks/ses", signer.sign(t, evil, "2")); w.Code == http.StatusNoContent || len(fetched) != n {
		t.Errorf("a confirmation to a non-SNS URL: %d, fetched %v", w.Code, fetched[n:])
	}
}

func mailgunBody(key, ts, token string, data map[string]any) map[string]any {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + token))
	return map[string]any{"signature": map[string]string{"timestamp": ts, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))}, "event-data": data}
}

// TestAttackMailgunSignatureOnOtherBody: Mailgun signs timestamp+token,
// not the body. A captured signature block put on another body within the
// 15 minutes, or the same token used twice, must be refused (Mailgun's
// advice: remember tokens and refuse a reused one).
func TestAttackMailgunSignatureOnOtherBody(t *testing.T) {
	db, verp := sentDB(t, "first@example.com", "second@example.com")
	id := ids(t, db)
	now := time.Now()
	wh := &web.Webhooks{Processor: &bounces.Processor{Store: db, VERP: verp}, MailgunKey: "key-test", Now: func() time.Time { return now }}
	ts := fmt.Sprint(now.Unix())
	legit := mailgunBody("key-test", ts, "tok-1", map[string]any{"event": "failed", "severity": "permanent", "id": "ev-1",
		"recipient": "first@example.com", "delivery-status": map[string]any{"code": 550, "message": "5.1.1 no such user"},
		"envelope": map[string]string{"sender": verp.Address(id["first@example.com"])}})
	if w := post(t, wh, "/webhooks/mailgun", legit); w.Code != http.StatusNoContent {
		t.Fatalf("legit: %d", w.Code)
	}
	// The same signature block on another event (another id, another
	// delivery's envelope sender, as seen in a log or a proxy).
	other := map[string]any{"signature": legit["signature"], "event-data": map[string]any{"event": "complained", "id": "ev-forged",
		"recipient": "second@example.com", "envelope": map[string]string{"sender": verp.Address(id["second@example.com"])}}}
	w := post(t, wh, "/webhooks/mailgun", other)
	if w.Code == http.StatusNoContent || state(t, db, "second@example.com") != "sent/active" {
		t.Errorf("a used signature on another body: %d, second@ now %s (events %d)", w.Code, state(t, db, "second@example.com"), nEvents(t, db))
	}
}

// TestAttackMailgunTemporary: a temporary failure is not a bounce; a
// permanent failure without an enhanced code is hard; a complaint for an
// address named differently from the token's delivery marks the token's.
func TestAttackMailgunTemporary(t *testing.T) {
	db, verp := sentDB(t, "temp@example.com", "perm@example.com")
	id := ids(t, db)
	now := time.Now()
	wh := &web.Webhooks{Processor: &bounces.Processor{Store: db, VERP: verp}, MailgunKey: "key-test", Now: func() time.Time { return now }}
	ts := fmt.Sprint(now.Unix())
	tmp := mailgunBody("key-test", ts, "t1", map[string]any{"event": "failed", "severity": "temporary", "id": "e1", "recipient": "temp@example.com",
		"delivery-status": map[string]any{"code": 452, "message": "4.2.2 mailbox full"}, "envelope": map[string]string{"sender": verp.Address(id["temp@example.com"])}})
	post(t, wh, "/webhooks/mailgun", tmp)
	if got := state(t, db, "temp@example.com"); got != "sent/active" {
		t.Errorf("temporary: %s", got)
	}
	perm := mailgunBody("key-test", ts, "t2", map[string]any{"event": "failed", "severity": "permanent", "id": "e2", "recipient": "perm@example.com",
		"delivery-status": map[string]any{"code": 550, "message": "Requested action not taken: mailbox unavailable"}, "envelope": map[string]string{"sender": verp.Address(id["perm@example.com"])}})
	post(t, wh, "/webhooks/mailgun", perm)
	if got := state(t, db, "perm@example.com"); got != "bounced/bounced" {
		t.Errorf("permanent without an enhanced code: %s", got)
	}
	// Timestamp from the future beyond 15 min: refused.
	fut := mailgunBody("key-test", fmt.Sprint(now.Add(time.Hour).Unix()), "t3", map[string]any{"event": "complained", "id": "e3", "recipient": "temp@example.com",
		"envelope": map[string]string{"sender": verp.Address(id["temp@example.com"])}})
	if w := post(t, wh, "/webhooks/mailgun", fut); w.Code != http.StatusForbidden {
		t.Errorf("future timestamp: %d", w.Code)
	}
}
