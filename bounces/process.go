package bounces

import (
	"context"
	"errors"
	"log/slog"
	"slices"
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
// records an event for it, from the report's entry for the delivery's
// address. A report to an address of the VERP form whose token does not
// verify is forged or not ours, and changes nothing.
func (p *Processor) Process(ctx context.Context, source string, rep *Report) (Outcome, error) {
	o := Outcome{Reports: 1}
	if !reportsFailure(rep) {
		o.Delayed++
		return o, nil
	}
	targets, forged, err := p.deliveries(ctx, rep)
	if err != nil {
		return o, err
	}
	if len(targets) == 0 {
		if forged {
			o.Forged++
			p.log().Warn("a report's VERP token does not verify; ignored", "source", source, "report", rep.ID)
		} else {
			o.Unmatched++
			p.log().Debug("a report names no delivery of ours", "source", source, "report", rep.ID)
		}
		return o, nil
	}
	for _, d := range targets {
		r, ok := entry(rep, d.Email)
		if !ok {
			o.Unmatched++
			p.log().Debug("a report names several recipients, none the delivery's", "source", source, "report", rep.ID)
			continue
		}
		ev := p.event(rep, r)
		if ev == nil {
			o.Delayed++
			continue
		}
		ev.Source, ev.DeliveryID = source, d.ID
		if err := p.record(ctx, ev, &o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// record records ev and counts what it did in o.
func (p *Processor) record(ctx context.Context, ev *newsletter.BounceEvent, o *Outcome) error {
	eff, isNew, err := p.Store.RecordBounce(ctx, ev, func(st newsletter.BounceState) newsletter.BounceEffect {
		return newsletter.DecideBounce(ev, st, p.SoftLimit)
	})
	if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
		o.Unmatched++
		return nil
	} else if err != nil {
		return err
	}
	if !isNew {
		o.Duplicates++
		return nil
	}
	o.Recorded++
	switch eff.SubscriberStatus {
	case newsletter.StatusBounced:
		o.Bounced++
	case newsletter.StatusComplained:
		o.Complained++
	}
	return nil
}

// failed reports whether a DSN entry says the message was not delivered.
func (r *Recipient) failed() bool {
	return r.Action == ActionFailed || (r.Action == "" && strings.HasPrefix(r.Status, "5."))
}

// reportsFailure reports whether rep is a complaint or has a failed entry.
func reportsFailure(rep *Report) bool {
	if rep.Type == TypeFeedback {
		return true
	}
	for i := range rep.Recipients {
		if rep.Recipients[i].failed() {
			return true
		}
	}
	return false
}

// entry returns the report's entry about email: the one whose
// Final-Recipient or Original-Recipient is email, else the only one (the
// address was forwarded). With several entries and none about email, the
// report is ambiguous: ok is false. A report without entries has the
// zero entry.
func entry(rep *Report, email string) (r *Recipient, ok bool) {
	for i := range rep.Recipients {
		if rep.Recipients[i].names(email) {
			return &rep.Recipients[i], true
		}
	}
	switch len(rep.Recipients) {
	case 0:
		return &Recipient{}, true
	case 1:
		return &rep.Recipients[0], true
	}
	return nil, false
}

// names reports whether the entry's Final-Recipient or Original-Recipient
// is email.
func (r *Recipient) names(email string) bool {
	return email != "" && (strings.EqualFold(r.Address, email) || strings.EqualFold(r.Original, email))
}

// event turns a report's entry into the event it records, or nil when the
// entry is not a bounce (a delay, a delivery).
func (p *Processor) event(rep *Report, r *Recipient) *newsletter.BounceEvent {
	ev := &newsletter.BounceEvent{ReportID: rep.ID, Recipient: r.Address}
	if p.Now != nil {
		ev.At = p.Now()
	}
	if rep.Type == TypeFeedback {
		ev.Kind = newsletter.BounceComplaint
		ev.Diagnostic = rep.FeedbackType
		return ev
	}
	if !r.failed() {
		return nil
	}
	ev.Kind = r.Kind
	if ev.Kind == "" {
		ev.Kind = Classify(r.Status, r.Diagnostic)
	}
	ev.Status, ev.Diagnostic = r.Status, r.Diagnostic
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

// deliveries returns the deliveries a report is about, and whether it is
// forged: with VERP, a report that carries tokens or names an address of
// the VERP form, and no token that verifies, is forged and is not matched
// by Message-ID.
func (p *Processor) deliveries(ctx context.Context, rep *Report) (ds []*newsletter.Delivery, forged bool, err error) {
	if p.VERP != nil {
		for _, t := range rep.Tokens {
			id, ok := p.VERP.Verify(t)
			if !ok {
				continue
			}
			d, err := p.Store.DeliveryByID(ctx, id)
			if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
				return nil, false, nil
			} else if err != nil {
				return nil, false, err
			}
			return []*newsletter.Delivery{d}, false, nil
		}
		if len(rep.Tokens) > 0 || slices.ContainsFunc(rep.ReturnPaths, p.VERP.Claims) {
			return nil, true, nil
		}
	}
	for _, mid := range rep.MessageIDs {
		d, err := p.Store.DeliveryByMessageID(ctx, mid)
		if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, false, err
		}
		if namesRecipient(rep, d.Email) {
			return []*newsletter.Delivery{d}, false, nil
		}
	}
	return nil, false, nil
}

// namesRecipient reports whether a report without a token is about email:
// it must name it, unless it names no recipient at all.
func namesRecipient(rep *Report, email string) bool {
	named := false
	for _, r := range rep.Recipients {
		if r.Address == "" && r.Original == "" {
			continue
		}
		named = true
		if r.names(email) {
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
