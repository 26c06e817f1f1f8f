package web

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
)

// snsMessage is an SNS HTTP(S) delivery.
type snsMessage struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          string
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string
}

// snsHost is the only kind of host a signing certificate is fetched from:
// sns.REGION.amazonaws.com (or .com.cn), REGION like us-east-1,
// us-gov-west-1 or cn-north-1. Any other label (sns.s3.amazonaws.com is an
// S3 bucket named "sns") is refused.
var snsHost = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-[0-9]+\.amazonaws\.com(\.cn)?$`)

// snsURL checks that raw is an https URL on an SNS host.
func snsURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || !snsHost.MatchString(u.Hostname()) || u.Port() != "" || u.User != nil {
		return nil, fmt.Errorf("%w: %q is not an https URL on an SNS host", errForged, raw)
	}
	return u, nil
}

// stringToSign is what SNS signs: the named fields, each name and value
// on its own line, in this order, absent optional ones left out.
func (m *snsMessage) stringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == "Notification" {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != "Notification" {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// verifySNS checks the message's signature with the certificate at its
// SigningCertURL, which must be on an SNS host.
func (wh *Webhooks) verifySNS(ctx context.Context, m *snsMessage) error {
	u, err := snsURL(m.SigningCertURL)
	if err != nil {
		return err
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: SignatureVersion %q", errForged, m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: the signature is not base64", errForged)
	}
	cert, err := wh.cert(ctx, u)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: the signing certificate has no RSA key", errForged)
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(m.stringToSign()))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(m.stringToSign()))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return errForged
	}
	return nil
}

// cert returns the signing certificate at u, fetched once.
func (wh *Webhooks) cert(ctx context.Context, u *url.URL) (*x509.Certificate, error) {
	if c, ok := wh.certs.Load(u.String()); ok {
		return c.(*x509.Certificate), nil
	}
	data, err := wh.fetch(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("the signing certificate %s: %v", u, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("the signing certificate %s is not PEM", u)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the signing certificate %s: %v", u, err)
	}
	if now := wh.now(); now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, fmt.Errorf("%w: the signing certificate %s has expired", errForged, u)
	}
	wh.certs.Store(u.String(), c)
	return c, nil
}

func (wh *Webhooks) fetch(ctx context.Context, u *url.URL) ([]byte, error) {
	if wh.Fetch != nil {
		return wh.Fetch(ctx, u)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<10))
}

// sesNotification is the part of an SES notification (or event) used.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		FeedbackID        string `json:"feedbackId"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		FeedbackID            string `json:"feedbackId"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Mail struct {
		MessageID string `json:"messageId"`
		Source    string `json:"source"`
		Headers   []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

// ses verifies an SNS delivery and returns the reports in it. A
// subscription confirmation of an accepted topic is confirmed.
func (wh *Webhooks) ses(ctx context.Context, body []byte) ([]*bounces.Report, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("not an SNS message: %v", err)
	}
	if !accepted(wh.SNSTopics, m.TopicArn) {
		return nil, fmt.Errorf("%w: topic %q is not in bounces.sns_topics", errForged, m.TopicArn)
	}
	if err := wh.verifySNS(ctx, &m); err != nil {
		return nil, err
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		u, err := snsURL(m.SubscribeURL)
		if err != nil {
			return nil, err
		}
		if _, err := wh.fetch(ctx, u); err != nil {
			return nil, fmt.Errorf("confirming the subscription to %s: %v", m.TopicArn, err)
		}
		wh.log().Info("confirmed the SNS subscription", "topic", m.TopicArn)
		return nil, nil
	case "Notification":
	default:
		return nil, nil
	}
	var n sesNotification
	if err := json.Unmarshal([]byte(m.Message), &n); err != nil {
		return nil, fmt.Errorf("the SNS message is not an SES notification: %v", err)
	}
	rep := &bounces.Report{Tokens: bounces.FindTokens(n.Mail.Source + "@")}
	for _, h := range n.Mail.Headers {
		switch strings.ToLower(h.Name) {
		case "message-id":
			rep.MessageIDs = append(rep.MessageIDs, h.Value)
		case "return-path":
			rep.Tokens = append(rep.Tokens, bounces.FindTokens(h.Value+"@")...)
		}
	}
	if n.Mail.CommonHeaders.MessageID != "" {
		rep.MessageIDs = append(rep.MessageIDs, n.Mail.CommonHeaders.MessageID)
	}
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	switch {
	case kind == "Bounce" && n.Bounce != nil:
		rep.Type, rep.ID = bounces.TypeDSN, "ses:"+n.Bounce.FeedbackID
		permanent := n.Bounce.BounceType == "Permanent"
		for _, r := range n.Bounce.BouncedRecipients {
			rc := bounces.Recipient{Address: strings.ToLower(r.EmailAddress), Action: bounces.ActionFailed, Status: r.Status, Diagnostic: r.DiagnosticCode}
			if permanent && (r.Status == "" || strings.HasSuffix(r.Status, ".0.0")) {
				rc.Kind = newsletter.BounceHard // SES says the address is bad
			} else if !permanent && !strings.HasPrefix(r.Status, "4.") {
				rc.Kind = newsletter.BounceSoft
			}
			rep.Recipients = append(rep.Recipients, rc)
		}
	case kind == "Complaint" && n.Complaint != nil:
		rep.Type, rep.ID = bounces.TypeFeedback, "ses:"+n.Complaint.FeedbackID
		rep.FeedbackType = n.Complaint.ComplaintFeedbackType
		for _, r := range n.Complaint.ComplainedRecipients {
			rep.Recipients = append(rep.Recipients, bounces.Recipient{Address: strings.ToLower(r.EmailAddress)})
		}
	default:
		return nil, nil // deliveries and other events: nothing to record
	}
	if rep.ID == "ses:" {
		rep.ID = "ses:" + m.MessageID
	}
	return []*bounces.Report{rep}, nil
}
