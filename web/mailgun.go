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
	Signature mailgunSignature `json:"signature"`
	EventData mailgunData      `json:"event-data"`
}

type mailgunSignature struct {
	Timestamp string `json:"timestamp"`
	Token     string `json:"token"`
	Signature string `json:"signature"`
}

type mailgunData struct {
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
}

// mailgunMaxAge is how old a Mailgun signature may be: an older one is a
// replay.
const mailgunMaxAge = 15 * time.Minute

// mailgun verifies a Mailgun webhook and returns the report in it.
// Mailgun signs the timestamp and token, not the body, so a token is good
// for one event: it is remembered for as long as its timestamp is, and
// refused when seen again. release forgets it, for when the report could
// not be recorded and Mailgun is to send it again.
func (wh *Webhooks) mailgun(body []byte) (reps []*bounces.Report, release func(), err error) {
	var ev mailgunEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, nil, fmt.Errorf("not a Mailgun webhook: %v", err)
	}
	if err := wh.verifyMailgun(ev.Signature); err != nil {
		return nil, nil, err
	}
	release = func() { wh.mailgunTokens.forget(ev.Signature.Token) }
	if rep := mailgunReport(&ev.EventData); rep != nil {
		reps = []*bounces.Report{rep}
	}
	return reps, release, nil
}

// verifyMailgun checks a signature, its age, and that its token is new.
func (wh *Webhooks) verifyMailgun(s mailgunSignature) error {
	mac := hmac.New(sha256.New, []byte(wh.MailgunKey))
	mac.Write([]byte(s.Timestamp + s.Token))
	got, err := hex.DecodeString(s.Signature)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return errForged
	}
	ts, err := strconv.ParseInt(s.Timestamp, 10, 64)
	now := wh.now()
	if age := now.Sub(time.Unix(ts, 0)); err != nil || age > mailgunMaxAge || age < -mailgunMaxAge {
		return fmt.Errorf("%w: the timestamp is more than %v away", errForged, mailgunMaxAge)
	}
	return wh.mailgunTokens.use(s.Token, time.Unix(ts, 0).Add(mailgunMaxAge), now)
}

// mailgunReport is the report of an event, or nil when it is not one.
func mailgunReport(d *mailgunData) *bounces.Report {
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
	default:
		// A temporary failure Mailgun will retry, or another event: not
		// a bounce.
		return nil
	}
	rep.Recipients = []bounces.Recipient{rcpt}
	return rep
}

var enhancedStatus = regexp.MustCompile(`\b[45]\.\d{1,3}\.\d{1,3}\b`)

func enhanced(s string) string { return enhancedStatus.FindString(s) }
