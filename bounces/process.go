package bounces

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
)

// Processor applies reports to the delivery log. Every source ends here.
type Processor struct {
	Store newsletter.BounceStore
	VERP  *VERP // nil: reports are matched by Message-ID only
	// SoftLimit is the number of campaigns with a soft bounce that mark an
	// address bounced; 0 means newsletter.SoftBounceLimit.
	SoftLimit int
	Now       func() time.Time
	Logger    *slog.Logger
}

// Outcome is what processing one or more reports did.
type Outcome struct {
	Messages   int // messages read
	Reports    int // bounces and complaints among them
	Recorded   int // events recorded for the first time
	Duplicates int // events recorded before: nothing changed
	Bounced    int // addresses marked bounced
	Complained int // addresses marked complained
	Delayed    int // reports that only say a message is delayed
	NotReports int // messages that are neither a bounce nor a complaint
	Forged     int // reports whose VERP token does not verify
	Unmatched  int // reports that name no delivery of ours
}

// Add adds o2 to o.
func (o *Outcome) Add(o2 Outcome) {
	o.Messages += o2.Messages
	o.Reports += o2.Reports
	o.Recorded += o2.Recorded
	o.Duplicates += o2.Duplicates
	o.Bounced += o2.Bounced
	o.Complained += o2.Complained
	o.Delayed += o2.Delayed
	o.NotReports += o2.NotReports
	o.Forged += o2.Forged
	o.Unmatched += o2.Unmatched
}

// ProcessMessage parses one message and processes the report in it.
func (p *Processor) ProcessMessage(ctx context.Context, source string, raw []byte) (Outcome, error) {
	rep, err := Parse(raw)
	if errors.Is(err, ErrNotReport) {
		return Outcome{Messages: 1, NotReports: 1}, nil
	} else if err != nil {
		return Outcome{Messages: 1}, err
	}
	o, err := p.Process(ctx, source, rep)
	o.Messages++
	return o, err
}

// Process finds the delivery a report is about — by a VERP token that
// verifies, else by the original Message-ID when the recipients agree — and
// records an event for it. A report with tokens none of which verify is
// forged or not ours, and changes nothing.
func (p *Processor) Process(ctx context.Context, source string, rep *Report) (Outcome, error) {
	o := Outcome{Reports: 1}
	ev := p.event(rep)
	if ev == nil {
		o.Delayed++
		return o, nil
	}
	ev.Source = source
	ids, forged, err := p.deliveries(ctx, rep)
	if err != nil {
		return o, err
	}
	if len(ids) == 0 {
		if forged {
			o.Forged++
			p.log().Warn("a report's VERP token does not verify; ignored", "source", source, "report", rep.ID)
		} else {
			o.Unmatched++
			p.log().Debug("a report names no delivery of ours", "source", source, "report", rep.ID)
		}
		return o, nil
	}
	for _, id := range ids {
		ev.DeliveryID = id
		eff, isNew, err := p.Store.RecordBounce(ctx, ev, func(st newsletter.BounceState) newsletter.BounceEffect {
			return newsletter.DecideBounce(ev, st, p.SoftLimit)
		})
		if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
			o.Unmatched++
			continue
		} else if err != nil {
			return o, err
		}
		if !isNew {
			o.Duplicates++
			continue
		}
		o.Recorded++
		switch eff.SubscriberStatus {
		case newsletter.StatusBounced:
			o.Bounced++
		case newsletter.StatusComplained:
			o.Complained++
		}
	}
	return o, nil
}

// event turns a report into the event it records, or nil when it is not a
// bounce (only delays, or deliveries).
func (p *Processor) event(rep *Report) *newsletter.BounceEvent {
	ev := &newsletter.BounceEvent{ReportID: rep.ID}
	if p.Now != nil {
		ev.At = p.Now()
	}
	if rep.Type == TypeFeedback {
		ev.Kind = newsletter.BounceComplaint
		ev.Diagnostic = rep.FeedbackType
		if len(rep.Recipients) > 0 {
			ev.Recipient = rep.Recipients[0].Address
		}
		return ev
	}
	var failed *Recipient
	for i := range rep.Recipients {
		r := &rep.Recipients[i]
		if r.Action == ActionFailed || (r.Action == "" && strings.HasPrefix(r.Status, "5.")) {
			failed = r
			break
		}
	}
	if failed == nil {
		return nil
	}
	ev.Kind = failed.Kind
	if ev.Kind == "" {
		ev.Kind = Classify(failed.Status, failed.Diagnostic)
	}
	ev.Status, ev.Diagnostic, ev.Recipient = failed.Status, failed.Diagnostic, failed.Address
	return ev
}

// Classify says what kind of bounce a failed recipient's status and
// diagnostic are: a recipient-specific permanent code (5.1.1 …) is hard, a
// sender or policy code (5.7.x, 5.1.8 …) is a policy bounce, anything else
// (4.x.x after the relay gave up, a full mailbox, no code) is soft.
func Classify(status, diagnostic string) string {
	code, inDiag := diagnosticStatus(diagnostic)
	enhanced := status
	if (strings.HasSuffix(enhanced, ".0.0") || enhanced == "") && inDiag != "" && inDiag[0] != '2' {
		enhanced = inDiag
	}
	if code == 0 && enhanced != "" {
		code = int(enhanced[0]-'0') * 100
	}
	if code < 500 || enhanced == "" || enhanced[0] != '5' {
		return newsletter.BounceSoft
	}
	se := &mailer.SendError{Code: code, Enhanced: enhanced, Reason: mailer.ClassifyReply(code, enhanced, "rcpt")}
	switch {
	case se.DeadAddress():
		return newsletter.BounceHard
	case se.Reason == mailer.ReasonRecipient:
		return newsletter.BounceSoft
	default:
		return newsletter.BouncePolicy
	}
}

// deliveries returns the deliveries a report is about, and whether it
// carried tokens that did not verify.
func (p *Processor) deliveries(ctx context.Context, rep *Report) (ids []int64, forged bool, err error) {
	if p.VERP != nil && len(rep.Tokens) > 0 {
		for _, t := range rep.Tokens {
			if id, ok := p.VERP.Verify(t); ok {
				return []int64{id}, false, nil
			}
		}
		forged = true
		return nil, true, nil
	}
	for _, mid := range rep.MessageIDs {
		d, err := p.Store.DeliveryByMessageID(ctx, mid)
		if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, false, err
		}
		if namesRecipient(rep, d.Email) {
			return []int64{d.ID}, false, nil
		}
	}
	return nil, false, nil
}

// namesRecipient reports whether a report without a token is about email:
// it must name it, unless it names no recipient at all.
func namesRecipient(rep *Report, email string) bool {
	named := false
	for _, r := range rep.Recipients {
		if r.Address == "" {
			continue
		}
		named = true
		if strings.EqualFold(r.Address, email) {
			return true
		}
	}
	return !named
}

func (p *Processor) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}
