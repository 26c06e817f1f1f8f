package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
)

// mailgunEvent is the part of a Mailgun webhook used.
type mailgunEvent struct {
	Signature struct {
		Timestamp string `json:"timestamp"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	} `json:"signature"`
	EventData struct {
		Event          string `json:"event"`
		ID             string `json:"id"`
		Severity       string `json:"severity"`
		Recipient      string `json:"recipient"`
		DeliveryStatus struct {
			Code        int    `json:"code"`
			Message     string `json:"message"`
			Description string `json:"description"`
		} `json:"delivery-status"`
		Envelope struct {
			Sender string `json:"sender"`
		} `json:"envelope"`
		Message struct {
			Headers struct {
				MessageID string `json:"message-id"`
			} `json:"headers"`
		} `json:"message"`
	} `json:"event-data"`
}

// mailgunMaxAge is how old a Mailgun signature may be: an older one is a
// replay.
const mailgunMaxAge = 15 * time.Minute

// mailgun verifies a Mailgun webhook and returns the report in it.
func (wh *Webhooks) mailgun(body []byte) ([]*bounces.Report, error) {
	var ev mailgunEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("not a Mailgun webhook: %v", err)
	}
	s := ev.Signature
	mac := hmac.New(sha256.New, []byte(wh.MailgunKey))
	mac.Write([]byte(s.Timestamp + s.Token))
	got, err := hex.DecodeString(s.Signature)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return nil, errForged
	}
	ts, err := strconv.ParseInt(s.Timestamp, 10, 64)
	if age := wh.now().Sub(time.Unix(ts, 0)); err != nil || age > mailgunMaxAge || age < -mailgunMaxAge {
		return nil, fmt.Errorf("%w: the timestamp is more than %v away", errForged, mailgunMaxAge)
	}
	d := ev.EventData
	rep := &bounces.Report{ID: "mailgun:" + d.ID, Tokens: bounces.FindTokens(d.Envelope.Sender + "@")}
	if d.Message.Headers.MessageID != "" {
		rep.MessageIDs = []string{d.Message.Headers.MessageID}
	}
	rcpt := bounces.Recipient{Address: strings.ToLower(d.Recipient), Action: bounces.ActionFailed}
	switch {
	case d.Event == "complained":
		rep.Type = bounces.TypeFeedback
		rcpt.Action = ""
	case d.Event == "failed" && d.Severity == "permanent":
		rep.Type = bounces.TypeDSN
		rcpt.Diagnostic = strings.TrimSpace(fmt.Sprintf("%d %s %s", d.DeliveryStatus.Code, d.DeliveryStatus.Message, d.DeliveryStatus.Description))
		rcpt.Status = enhanced(rcpt.Diagnostic)
		if rcpt.Status == "" {
			rcpt.Kind = newsletter.BounceHard // Mailgun gave up on the address
		}
	case d.Event == "failed":
		// A temporary failure Mailgun will retry: not a bounce.
		return nil, nil
	default:
		return nil, nil
	}
	rep.Recipients = []bounces.Recipient{rcpt}
	return []*bounces.Report{rep}, nil
}

var enhancedStatus = regexp.MustCompile(`\b[45]\.\d{1,3}\.\d{1,3}\b`)

func enhanced(s string) string { return enhancedStatus.FindString(s) }
