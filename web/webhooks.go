package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/example/newsletter/bounces"
)

// ReportProcessor is what the webhooks hand each report to: the one
// function every bounce source goes through (bounces.Processor.Process).
type ReportProcessor interface {
	Process(ctx context.Context, source string, rep *bounces.Report) (bounces.Outcome, error)
}

// Webhooks answers provider notifications under /webhooks/:
//
//	POST /webhooks/ses      Amazon SES bounce and complaint notifications
//	                        through SNS, the SNS signature verified
//	POST /webhooks/mailgun  Mailgun "failed" and "complained" events, the
//	                        webhook signature verified
//
// A notification that does not verify is refused with 403 and changes
// nothing. An endpoint whose settings are empty answers 404.
type Webhooks struct {
	Processor ReportProcessor
	// SNSTopics are the topic ARNs accepted; none turns /webhooks/ses off.
	SNSTopics []string
	// MailgunKey is the Mailgun webhook signing key; empty turns
	// /webhooks/mailgun off.
	MailgunKey string
	// Fetch gets a URL on an SNS host (the signing certificate, the
	// subscription confirmation); nil uses HTTPS with a 10 s timeout.
	Fetch func(ctx context.Context, u *url.URL) ([]byte, error)
	// Now is the clock for Mailgun's timestamps; nil is time.Now.
	Now func() time.Time
	Log *slog.Logger

	certs         sync.Map   // signing certificate URL → *x509.Certificate
	mailgunTokens seenTokens // Mailgun signature tokens used lately
}

// maxWebhookBody bounds a notification's size.
const maxWebhookBody = 1 << 20

// ServeHTTP implements http.Handler.
func (wh *Webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(body) > maxWebhookBody {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	var reps []*bounces.Report
	var source string
	var release func() // undoes what verifying remembered, when nothing is recorded
	switch strings.TrimPrefix(r.URL.Path, "/webhooks/") {
	case "ses":
		if len(wh.SNSTopics) == 0 {
			http.NotFound(w, r)
			return
		}
		source = "ses"
		reps, err = wh.ses(r.Context(), body)
	case "mailgun":
		if wh.MailgunKey == "" {
			http.NotFound(w, r)
			return
		}
		source = "mailgun"
		reps, release, err = wh.mailgun(body)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		wh.log().Warn("webhook refused", "source", source, "err", err)
		code := http.StatusBadRequest
		switch {
		case errors.Is(err, errForged):
			code = http.StatusForbidden
		case errors.Is(err, errBusy):
			code = http.StatusServiceUnavailable
		}
		http.Error(w, err.Error(), code)
		return
	}
	for _, rep := range reps {
		if _, err := wh.Processor.Process(r.Context(), source, rep); err != nil {
			wh.log().Error("webhook", "source", source, "err", err)
			if release != nil {
				release()
			}
			http.Error(w, "could not record the report; send it again", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (wh *Webhooks) log() *slog.Logger {
	if wh.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return wh.Log
}

// errForged: a notification whose signature does not verify.
var errForged = errors.New("the signature does not verify")

func (wh *Webhooks) now() time.Time {
	if wh.Now != nil {
		return wh.Now()
	}
	return time.Now()
}

func accepted(list []string, s string) bool {
	for _, v := range list {
		if v == s && s != "" {
			return true
		}
	}
	return false
}
