package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
)

// memLog is a DeliveryLog in memory: the sender's state machine is tested
// on it without SQLite. It keeps the log's rules: a mark to sending claims
// only a pending delivery, and nothing changes a sent one.
type memLog struct {
	mu   sync.Mutex
	rows map[int64]*memRow
}

type memRow struct {
	r       newsletter.Recipient
	status  string
	updates []newsletter.DeliveryUpdate
}

func newMemLog(emails ...string) *memLog {
	l := &memLog{rows: map[int64]*memRow{}}
	for i, e := range emails {
		id := int64(i + 1)
		l.rows[id] = &memRow{r: newsletter.Recipient{DeliveryID: id, SubscriberID: id, Email: e, Status: newsletter.StatusActive}, status: newsletter.DeliveryPending}
	}
	return l
}

func (l *memLog) PendingRecipients(ctx context.Context, campaignID, afterID int64, limit int) ([]*newsletter.Recipient, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []int64
	for id, row := range l.rows {
		if id > afterID && row.status == newsletter.DeliveryPending {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []*newsletter.Recipient
	for _, id := range ids[:min(limit, len(ids))] {
		r := l.rows[id].r
		out = append(out, &r)
	}
	return out, nil
}

func (l *memLog) WriteDeliveries(ctx context.Context, ups []newsletter.DeliveryUpdate) ([]int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lost []int64
	for _, u := range ups {
		row := l.rows[u.DeliveryID]
		switch {
		case u.Status == newsletter.DeliverySending && row.status != newsletter.DeliveryPending:
			lost = append(lost, u.DeliveryID)
			continue
		case u.Unclaimed && row.status != newsletter.DeliveryPending, row.status == newsletter.DeliverySent:
			continue
		}
		row.status = u.Status
		row.r.Attempts = u.Attempts
		row.updates = append(row.updates, u)
	}
	return lost, nil
}

// scripted is a transport whose sends answer from a script, one error (nil
// for success) per attempt, the last repeated; it counts transmissions.
type scripted struct {
	mu     sync.Mutex
	script []error
	tries  int
	opens  []error // Open's answers, in order; then success
}

func (s *scripted) String() string { return "scripted://" }

func (s *scripted) Open(ctx context.Context) (mailer.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.opens) > 0 {
		err := s.opens[0]
		s.opens = s.opens[1:]
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *scripted) Send(ctx context.Context, m *mailer.Built) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.script[min(s.tries, len(s.script)-1)]
	s.tries++
	return err
}

func (s *scripted) Close() error { return nil }

func reply(code int, msg string) error { return &textproto.Error{Code: code, Msg: msg} }

// TestSender_StateMachine walks every branch of a delivery's life on the
// in-memory log: what each answer makes of the delivery, how many times the
// message goes out, and what is said of the address.
func TestSender_StateMachine(t *testing.T) {
	unknown := &mailer.SendError{Reason: mailer.ReasonUnknown, Text: "no reply after the end of data", Broken: true}
	dropped := errors.New("connection reset by peer")
	refused := &mailer.SendError{Reason: mailer.ReasonConnection, Text: "connection refused", Retry: true}
	authFailed := &mailer.SendError{Reason: mailer.ReasonConnection, Code: 535, Text: "5.7.8 bad credentials"}
	for _, tc := range []struct {
		name         string
		script       []error
		opens        []error
		wantStatus   string
		wantAttempts int
		wantBounce   bool
		wantCounted  bool // the failure counts against the address
		wantErr      bool // the run stops with an error
	}{
		{"Sent", []error{nil}, nil, newsletter.DeliverySent, 1, false, false, false},
		{"TemporaryThenSent", []error{reply(451, "4.3.0 busy"), nil}, nil, newsletter.DeliverySent, 2, false, false, false},
		{"DroppedBeforeTheEndThenSent", []error{dropped, nil}, nil, newsletter.DeliverySent, 2, false, false, false},
		{"TemporaryPastRetriesDeferred", []error{reply(450, "4.2.1 try later")}, nil, newsletter.DeliveryDeferred, 3, false, false, false},
		{"UnknownNeverRetried", []error{unknown, nil}, nil, newsletter.DeliveryUnknown, 1, false, false, false},
		{"NoSuchUserBouncesAtOnce", []error{reply(550, "5.1.1 no such user")}, nil, newsletter.DeliveryFailed, 1, true, true, false},
		{"MailboxFullCounts", []error{reply(552, "5.2.2 mailbox full")}, nil, newsletter.DeliveryFailed, 1, false, true, false},
		{"PolicyFailsWithoutCounting", []error{reply(550, "5.7.1 rejected by policy"), nil}, nil, newsletter.DeliveryPending, 1, false, false, true},
		{"UnreachableBackToPending", []error{nil}, []error{refused, refused, refused}, newsletter.DeliveryPending, 0, false, false, true},
		{"AuthFailureStopsAtOnce", []error{nil}, []error{authFailed, nil}, newsletter.DeliveryPending, 0, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := newMemLog("reader@example.org")
			tr := &scripted{script: tc.script, opens: tc.opens}
			b, err := mailer.NewBuilder("News <news@example.org>", "News")
			if err != nil {
				t.Fatal(err)
			}
			s := &mailer.Sender{Log: log, Transport: tr, Concurrency: 1, Retries: 2, Backoff: time.Millisecond, Flush: time.Millisecond,
				Compose: func(ctx context.Context, r *newsletter.Recipient) (*mailer.Built, error) {
					return b.Build(&mailer.Message{ToEmail: r.Email, Subject: "Hi", Text: "Hi", HTML: "<p>Hi</p>", List: "l", UnsubscribeURL: "https://x.example/u"})
				}}
			_, err = s.Run(context.Background(), 1)
			if (err != nil) != tc.wantErr {
				t.Errorf("Run: %v, want error %v", err, tc.wantErr)
			}
			row := log.rows[1]
			var last newsletter.DeliveryUpdate
			if len(row.updates) > 0 {
				last = row.updates[len(row.updates)-1]
			}
			if row.status != tc.wantStatus || tr.tries != tc.wantAttempts {
				t.Errorf("%s after %d transmissions, want %s after %d (updates %+v)", row.status, tr.tries, tc.wantStatus, tc.wantAttempts, row.updates)
			}
			if last.Bounce != tc.wantBounce || last.Permanent != tc.wantCounted {
				t.Errorf("bounce %v counted %v, want %v %v", last.Bounce, last.Permanent, tc.wantBounce, tc.wantCounted)
			}
		})
	}
}

// TestSender_BreakerOnMemLog: the same policy reply for 10 readers in a row
// stops the run; those 10 and the rest are pending, none failed.
func TestSender_BreakerOnMemLog(t *testing.T) {
	var emails []string
	for i := range 40 {
		emails = append(emails, fmt.Sprintf("r%02d@example.org", i))
	}
	log := newMemLog(emails...)
	tr := &scripted{script: []error{reply(550, "5.7.1 sender domain has no SPF")}}
	b, _ := mailer.NewBuilder("News <news@example.org>", "News")
	s := &mailer.Sender{Log: log, Transport: tr, Concurrency: 1, Retries: 2, Backoff: time.Millisecond, Flush: time.Millisecond,
		Compose: func(ctx context.Context, r *newsletter.Recipient) (*mailer.Built, error) {
			return b.Build(&mailer.Message{ToEmail: r.Email, Subject: "Hi", Text: "Hi", HTML: "<p>Hi</p>", List: "l", UnsubscribeURL: "https://x.example/u"})
		}}
	if _, err := s.Run(context.Background(), 1); err == nil {
		t.Fatal("the run went on")
	}
	if tr.tries != 10 {
		t.Errorf("%d transmissions, want 10", tr.tries)
	}
	for id, row := range log.rows {
		if row.status != newsletter.DeliveryPending {
			t.Errorf("delivery %d is %s", id, row.status)
		}
	}
}
