package mailer_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
)

// rawSrv is a hand-written SMTP server on 127.0.0.1 for behaviours go-smtp
// cannot produce. It keeps the Message-ID of every message it received
// whole (final dot included), whatever it answered.
type rawSrv struct {
	ln   net.Listener
	Addr string

	mu    sync.Mutex
	got   []string // Message-IDs received whole, in order
	conns int

	// ext are the EHLO keywords after the domain line.
	ext []string
	// greet, when set, replaces the greeting.
	greet func(c net.Conn) bool
	// reply, when set, answers a command line; it returns false to fall
	// back to the default answer. conn is the 1-based connection number.
	reply func(conn int, line string, w net.Conn) (handled, keepOpen bool)
	// afterDot answers the end of message n (0-based over the server);
	// it returns false to close the connection.
	afterDot func(n int, w net.Conn) bool
}

func startRaw(t *testing.T, s *rawSrv) *rawSrv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	if s.ext == nil {
		s.ext = []string{"PIPELINING", "8BITMIME"}
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			n := s.conns
			s.mu.Unlock()
			go s.serve(n, c)
		}
	}()
	return s
}

func (s *rawSrv) URL() string { return "smtp://" + s.Addr + "?tls=none" }

func (s *rawSrv) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.got {
		if g == id {
			n++
		}
	}
	return n
}

func (s *rawSrv) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func (s *rawSrv) serve(n int, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if s.greet != nil {
		if !s.greet(c) {
			return
		}
	} else {
		fmt.Fprintf(c, "220 raw.example ESMTP\r\n")
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if s.reply != nil {
			if handled, keep := s.reply(n, line, c); handled {
				if !keep {
					return
				}
				continue
			}
		}
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			out := "250-raw.example\r\n"
			for i, e := range s.ext {
				sep := "-"
				if i == len(s.ext)-1 {
					sep = " "
				}
				out += "250" + sep + e + "\r\n"
			}
			if len(s.ext) == 0 {
				out = "250 raw.example\r\n"
			}
			c.Write([]byte(out))
		case strings.HasPrefix(cmd, "HELO"), strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"), strings.HasPrefix(cmd, "NOOP"):
			fmt.Fprintf(c, "250 2.0.0 ok\r\n")
		case cmd == "DATA":
			fmt.Fprintf(c, "354 go ahead\r\n")
			id := ""
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				if strings.HasPrefix(l, "Message-ID: ") {
					id = strings.TrimSpace(strings.TrimPrefix(l, "Message-ID: "))
				}
			}
			s.mu.Lock()
			s.got = append(s.got, id)
			k := len(s.got) - 1
			s.mu.Unlock()
			if s.afterDot != nil {
				if !s.afterDot(k, c) {
					return
				}
			} else {
				fmt.Fprintf(c, "250 2.0.0 queued\r\n")
			}
		case cmd == "QUIT":
			fmt.Fprintf(c, "221 bye\r\n")
			return
		default:
			fmt.Fprintf(c, "500 5.5.1 what\r\n")
		}
	}
}

// checkLog compares the delivery log with what the server received, by
// Message-ID: a delivery logged sent was received exactly once; nothing was
// received twice; a pending/failed/deferred delivery's message was not
// received whole.
func checkLog(t *testing.T, f *fixture, got func(id string) int) map[string]int {
	t.Helper()
	states := map[string]int{}
	for e, d := range f.deliveries(t) {
		states[d.Status]++
		n := 0
		if d.MessageID != "" {
			n = got(d.MessageID)
		}
		switch d.Status {
		case "sent":
			if n != 1 {
				t.Errorf("%s: logged sent, server received %d copies", e, n)
			}
		case "unknown":
			if n > 1 {
				t.Errorf("%s: unknown, server received %d copies", e, n)
			}
		default:
			if n != 0 {
				t.Errorf("%s: logged %s (%s), server received %d copies", e, d.Status, d.Error, n)
			}
		}
	}
	return states
}

func rawSender(t *testing.T, f *fixture, url string, pipelined bool, command, data time.Duration) *mailer.Sender {
	t.Helper()
	opts := []mailer.SMTPOption{mailer.WithTimeouts(2*time.Second, command, data)}
	if !pipelined {
		opts = append(opts, mailer.WithoutPipelining())
	}
	tr, err := mailer.ParseTransport(url, "", opts...)
	if err != nil {
		t.Fatal(err)
	}
	s := f.sender(t, url)
	s.Transport = tr
	return s
}

// TestAttack_NonStandard2xxAfterTheDot: a server that answers the end of a
// message with a 2xx other than 250 (here 252, "accepted, will try") has
// taken it. The sender treats any reply other than 250 below 500 as a
// temporary failure and sends the message again: duplicates, up to
// Retries+1 copies, and the delivery then logged deferred (and retried by
// every later run) although the server took each copy.
func TestAttack_NonStandard2xxAfterTheDot(t *testing.T) {
	for _, pipelined := range []bool{true, false} {
		t.Run(fmt.Sprint("pipelined=", pipelined), func(t *testing.T) {
			f := newFixture(t, 2)
			srv := startRaw(t, &rawSrv{afterDot: func(n int, w net.Conn) bool {
				fmt.Fprintf(w, "252 2.0.0 accepted for delivery\r\n")
				return true
			}})
			s := rawSender(t, f, srv.URL(), pipelined, 2*time.Second, 2*time.Second)
			s.Concurrency = 1
			st, err := s.Run(context.Background(), f.campaign)
			if err != nil {
				t.Fatal(err)
			}
			states := checkLog(t, f, srv.count)
			if srv.total() != 2 {
				t.Errorf("server received %d messages for 2 readers (stats %+v, log %v)", srv.total(), st, states)
			}
		})
	}
}

// TestAttack_250Then421: a server that answers 250 to the dot and then 421
// and closes, every time. Every message must be sent once; none twice.
func TestAttack_250Then421(t *testing.T) {
	for _, pipelined := range []bool{true, false} {
		t.Run(fmt.Sprint("pipelined=", pipelined), func(t *testing.T) {
			f := newFixture(t, 12)
			srv := startRaw(t, &rawSrv{afterDot: func(n int, w net.Conn) bool {
				fmt.Fprintf(w, "250 2.0.0 queued\r\n421 4.3.2 shutting down\r\n")
				return false
			}})
			s := rawSender(t, f, srv.URL(), pipelined, 2*time.Second, 2*time.Second)
			st, err := s.Run(context.Background(), f.campaign)
			if err != nil {
				t.Fatal(err)
			}
			states := checkLog(t, f, srv.count)
			if st.Sent != 12 || srv.total() != 12 {
				t.Errorf("stats %+v, log %v, server got %d", st, states, srv.total())
			}
		})
	}
}

// TestAttack_ExtraReplyAfterDot: a server that answers the dot twice (250,
// then a stray 250) desynchronises the reply stream. The next message must
// not be logged sent on a stale reply, nor sent twice.
func TestAttack_ExtraReplyAfterDot(t *testing.T) {
	for _, pipelined := range []bool{true, false} {
		t.Run(fmt.Sprint("pipelined=", pipelined), func(t *testing.T) {
			f := newFixture(t, 3)
			srv := startRaw(t, &rawSrv{afterDot: func(n int, w net.Conn) bool {
				fmt.Fprintf(w, "250 2.0.0 queued\r\n250 2.0.0 queued again\r\n")
				return true
			}})
			s := rawSender(t, f, srv.URL(), pipelined, time.Second, time.Second)
			s.Concurrency = 1
			st, err := s.Run(context.Background(), f.campaign)
			if err != nil {
				t.Logf("run: %v", err)
			}
			states := checkLog(t, f, srv.count)
			// Holds, but each desync costs a broken connection and a 5s
			// QUIT wait in Close: about 4.4s a message.
			t.Logf("stats %+v, log %v, server got %d", st, states, srv.total())
		})
	}
}

// TestAttack_CloseAfterMailPipelined: the server answers MAIL and closes
// before RCPT's reply, for the first 3 connections.
func TestAttack_CloseAfterMailPipelined(t *testing.T) {
	f := newFixture(t, 3)
	srv := &rawSrv{}
	srv.reply = func(conn int, line string, w net.Conn) (bool, bool) {
		if conn <= 3 && strings.HasPrefix(strings.ToUpper(line), "MAIL") {
			fmt.Fprintf(w, "250 2.1.0 ok\r\n")
			return true, false
		}
		return false, true
	}
	startRaw(t, srv)
	s := rawSender(t, f, srv.URL(), true, time.Second, time.Second)
	s.Concurrency = 1
	st, err := s.Run(context.Background(), f.campaign)
	if err != nil {
		t.Fatal(err)
	}
	states := checkLog(t, f, srv.count)
	if states["sent"] != 3 {
		t.Errorf("stats %+v log %v", st, states)
	}
}

// TestAttack_RepliesThatDoNotParse: replies to RCPT that are not SMTP
// replies (an enhanced code with no basic code; a 2xx carrying a 5.x.x
// enhanced code; a 1500-byte line; a reply split over slow writes) and to
// the dot (a multi-line reply dribbled one line per 300ms, a reply slower
// than the data timeout).
func TestAttack_RepliesThatDoNotParse(t *testing.T) {
	long := "250 2.0.0 " + strings.Repeat("x", 1500) + "\r\n"
	for _, tc := range []struct {
		name     string
		rcpt     string // raw RCPT reply; "" default
		dot      func(w net.Conn)
		want     string // the status of the delivery
		wantRecv int
	}{
		{"EnhancedWithoutBasic", "5.1.1 no such user\r\n", nil, "deferred", 0},
		{"2xxWith5xxEnhanced", "250 5.1.1 no such user, but ok\r\n", nil, "sent", 1},
		{"LongLine", long, nil, "sent", 1},
		{"SplitMultiline", "", func(w net.Conn) {
			w.Write([]byte("250-2.0.0 q"))
			time.Sleep(300 * time.Millisecond)
			w.Write([]byte("ueued\r\n250-2.0.0 more\r\n"))
			time.Sleep(300 * time.Millisecond)
			w.Write([]byte("250 2.0.0 done\r\n"))
		}, "sent", 1},
		{"MixedMultiline", "", func(w net.Conn) { w.Write([]byte("250-2.0.0 ok\r\n550 5.7.1 but no\r\n")) }, "unknown", 1},
		{"SlowDrip", "", func(w net.Conn) {
			for _, b := range []byte("250 2.0.0 queued\r\n") {
				w.Write([]byte{b})
				time.Sleep(400 * time.Millisecond) // "25" before the data timeout
			}
		}, "unknown", 1},
		// A reply cut after its code is taken by its code: "250 2." then
		// the data timeout is sent (bufio.ReadLine drops the timeout when
		// it has part of a line).
		{"SlowDripPastTheCode", "", func(w net.Conn) {
			for _, b := range []byte("250 2.0.0 queued\r\n") {
				w.Write([]byte{b})
				time.Sleep(150 * time.Millisecond)
			}
		}, "sent", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 1)
			srv := &rawSrv{}
			if tc.rcpt != "" {
				srv.reply = func(conn int, line string, w net.Conn) (bool, bool) {
					if strings.HasPrefix(strings.ToUpper(line), "RCPT") {
						w.Write([]byte(tc.rcpt))
						return true, true
					}
					return false, true
				}
			}
			if tc.dot != nil {
				srv.afterDot = func(n int, w net.Conn) bool { tc.dot(w); return true }
			}
			startRaw(t, srv)
			s := rawSender(t, f, srv.URL(), false, time.Second, time.Second)
			s.Concurrency, s.Retries = 1, 1
			st, err := s.Run(context.Background(), f.campaign)
			if err != nil {
				t.Logf("run: %v", err)
			}
			checkLog(t, f, srv.count)
			for _, d := range f.deliveries(t) {
				if d.Status != tc.want || srv.total() != tc.wantRecv {
					t.Errorf("%s (%s) after %d attempts, server got %d; want %s and %d (stats %+v)", d.Status, d.Error, d.Attempts, srv.total(), tc.want, tc.wantRecv, st)
				}
			}
		})
	}
}

// TestAttack_StopDuringStalledConnect: SIGTERM while a worker is opening a
// connection to a server that accepts TCP and then says nothing (or stalls
// the TLS handshake). The README promises that messages in flight get
// stop_grace, then their connections are cut; a connect in progress is not
// cut: Run returns only after connect_timeout.
func TestAttack_StopDuringStalledConnect(t *testing.T) {
	for _, stall := range []string{"greeting", "starttls"} {
		t.Run(stall, func(t *testing.T) {
			f := newFixture(t, 2)
			srv := &rawSrv{ext: []string{"STARTTLS", "PIPELINING"}}
			if stall == "greeting" {
				srv.greet = func(c net.Conn) bool { time.Sleep(20 * time.Second); return false }
			}
			srv.reply = func(conn int, line string, w net.Conn) (bool, bool) {
				if strings.ToUpper(line) == "STARTTLS" {
					fmt.Fprintf(w, "220 2.0.0 go ahead\r\n")
					time.Sleep(20 * time.Second) // no handshake
					return true, false
				}
				return false, true
			}
			startRaw(t, srv)
			url := "smtp://" + srv.Addr + "?tls=insecure"
			tr, err := mailer.ParseTransport(url, "", mailer.WithTimeouts(8*time.Second, time.Second, time.Second))
			if err != nil {
				t.Fatal(err)
			}
			s := f.sender(t, url)
			s.Transport, s.Concurrency, s.Grace = tr, 1, 500*time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			start := time.Now()
			st, err := s.Run(ctx, f.campaign)
			el := time.Since(start)
			t.Logf("run: %v stats %+v after %v", err, st, el)
			if el > 2*time.Second {
				t.Errorf("Run returned %v after SIGTERM with a grace of 500ms (the connect was not cut)", el.Round(100*time.Millisecond))
			}
			for e, d := range f.deliveries(t) {
				if d.Status != "pending" {
					t.Errorf("%s: %s (%s), want pending", e, d.Status, d.Error)
				}
			}
		})
	}
}

var _ = smtptest.Start
var _ = newsletter.DeliverySent

// TestAttack_SIGTERMAtEveryPhase: the run is cancelled while the server
// stalls at one phase. Grace is 1s. A stall shorter than the grace must end
// normally; a longer one is cut: before the dot the delivery is pending,
// after it unknown. The log must match what the server received.
func TestAttack_SIGTERMAtEveryPhase(t *testing.T) {
	for _, tc := range []struct {
		phase string
		stall time.Duration
		want  string
	}{
		{"MAIL", 3 * time.Second, "pending"},
		{"MAIL", 9 * time.Second, "pending"},
		{"RCPT", 3 * time.Second, "pending"},
		{"DATA", 3 * time.Second, "pending"},
		{"DOT", 300 * time.Millisecond, "sent"},
		{"DOT", 3 * time.Second, "unknown"},
	} {
		for _, pipelined := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s-%v-pipelined=%v", tc.phase, tc.stall, pipelined), func(t *testing.T) {
				f := newFixture(t, 1)
				srv := &rawSrv{}
				srv.reply = func(conn int, line string, w net.Conn) (bool, bool) {
					if strings.HasPrefix(strings.ToUpper(line), tc.phase) {
						time.Sleep(tc.stall)
					}
					return false, true
				}
				if tc.phase == "DOT" {
					srv.afterDot = func(n int, w net.Conn) bool {
						time.Sleep(tc.stall)
						fmt.Fprintf(w, "250 2.0.0 queued\r\n")
						return true
					}
				}
				startRaw(t, srv)
				s := rawSender(t, f, srv.URL(), pipelined, 10*time.Second, 10*time.Second)
				s.Concurrency, s.Grace = 1, time.Second
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				// Cancel once the phase is reached (the stall starts).
				time.AfterFunc(150*time.Millisecond, cancel)
				start := time.Now()
				st, err := s.Run(ctx, f.campaign)
				el := time.Since(start)
				checkLog(t, f, srv.count)
				for e, d := range f.deliveries(t) {
					if d.Status != tc.want {
						t.Errorf("%s: %s (%s), want %s; stats %+v err %v", e, d.Status, d.Error, tc.want, st, err)
					}
				}
				if el > 2500*time.Millisecond {
					t.Errorf("run took %v with a grace of 1s", el)
				}
			})
		}
	}
}

// breakerSender is a sender on the in-memory log whose transport answers
// per recipient.
type perRcpt struct {
	mu    sync.Mutex
	n     int
	sent  map[string]int
	reply func(i int, to string) error // i counts transmissions
	delay time.Duration
}

func (p *perRcpt) String() string                                { return "per-rcpt://" }
func (p *perRcpt) Open(ctx context.Context) (mailer.Conn, error) { return p, nil }
func (p *perRcpt) Close() error                                  { return nil }
func (p *perRcpt) Send(ctx context.Context, m *mailer.Built) error {
	p.mu.Lock()
	i := p.n
	p.n++
	p.mu.Unlock()
	if p.delay > 0 {
		time.Sleep(p.delay)
	}
	err := p.reply(i, m.To)
	if err == nil {
		p.mu.Lock()
		if p.sent == nil {
			p.sent = map[string]int{}
		}
		p.sent[m.To]++
		p.mu.Unlock()
	}
	return err
}

func memSender(log *memLog, tr mailer.Transport, conc int) *mailer.Sender {
	b, _ := mailer.NewBuilder("News <news@example.org>", "News")
	return &mailer.Sender{Log: log, Transport: tr, Concurrency: conc, Retries: 1, Backoff: time.Millisecond, Flush: time.Millisecond,
		Compose: func(ctx context.Context, r *newsletter.Recipient) (*mailer.Built, error) {
			return b.Build(&mailer.Message{ToEmail: r.Email, Subject: "Hi", Text: "Hi", HTML: "<p>Hi</p>", List: "l", UnsubscribeURL: "https://x.example/u"})
		}}
}

func readers(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("r%03d@example.org", i))
	}
	return out
}

func statuses(log *memLog) (map[string]int, []string) {
	log.mu.Lock()
	defer log.mu.Unlock()
	m := map[string]int{}
	var failed []string
	for _, row := range log.rows {
		m[row.status]++
		if row.status == newsletter.DeliveryFailed {
			failed = append(failed, row.r.Email)
		}
	}
	return m, failed
}

// TestAttack_BreakerAfter40SuccessesWithAStraySuccess: the relay starts
// refusing the sender (550 5.7.1) after 40 messages; one message already
// past its RCPT (another worker's) still gets its 250 and breaks the
// streak. The failures before that success stay `failed` for good, though
// they are the very same sender-side reply the breaker then trips on and
// requeues: those readers never get this campaign, and the "same command
// after the fix" does not send them.
func TestAttack_BreakerAfter40SuccessesWithAStraySuccess(t *testing.T) {
	log := newMemLog(readers(100)...)
	spf := reply(550, "5.7.1 sender SPF check failed")
	tr := &perRcpt{reply: func(i int, to string) error {
		switch {
		case i < 40, i == 43:
			return nil // 43: the in-flight message that still got through
		}
		return spf
	}}
	_, err := memSender(log, tr, 1).Run(context.Background(), 1)
	if err == nil {
		t.Fatal("the breaker did not trip")
	}
	st, failed := statuses(log)
	if len(failed) > 0 {
		t.Errorf("after the breaker tripped on 5.7.1, %d deliveries with the same 5.7.1 stay failed for good: %v (log %v)", len(failed), failed, st)
	}
}

// TestAttack_BreakerWithDeadAddressesInterleaved: past the first 50 results,
// the relay starts rejecting every message at the end of data for the
// sender's DMARC (550 5.7.26); one reader in 8 is a dead address refused at
// RCPT (550 5.1.1), which the breaker counts as a success. The streak never
// reaches 10, the early window is over: every remaining reader is failed
// for good for the sender's fault.
func TestAttack_BreakerWithDeadAddressesInterleaved(t *testing.T) {
	log := newMemLog(readers(200)...)
	tr := &perRcpt{reply: func(i int, to string) error {
		var n int
		fmt.Sscanf(to, "r%03d@", &n)
		switch {
		case n < 60:
			return nil
		case n%8 == 0:
			return reply(550, "5.1.1 no such user")
		}
		return reply(550, "5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy")
	}}
	_, err := memSender(log, tr, 1).Run(context.Background(), 1)
	st, failed := statuses(log)
	if err == nil {
		t.Errorf("the run went on: log %v; %d readers failed for the sender's DMARC", st, len(failed)-18)
	}
}

// TestAttack_SystemReplyClassedAsRecipient: Gmail's relay answers a sender
// over its daily quota with 550 5.4.5 (RFC 3463 X.4.5: mail system
// congestion). Class 4 is taken as the recipient's: every remaining reader
// fails for good, counts a hard failure against the address, and the
// breaker never trips.
func TestAttack_SystemReplyClassedAsRecipient(t *testing.T) {
	log := newMemLog(readers(60)...)
	tr := &perRcpt{reply: func(i int, to string) error {
		if i < 20 {
			return nil
		}
		return reply(550, "5.4.5 Daily user sending limit exceeded")
	}}
	_, err := memSender(log, tr, 2).Run(context.Background(), 1)
	st, failed := statuses(log)
	counted := 0
	log.mu.Lock()
	for _, row := range log.rows {
		for _, u := range row.updates {
			if u.Permanent {
				counted++
			}
		}
	}
	log.mu.Unlock()
	if err == nil || len(failed) > 0 || counted > 0 {
		t.Errorf("quota reply: run err %v, log %v, %d failed, %d hard failures counted against readers", err, st, len(failed), counted)
	}
}

// TestAttack_BreakerTripsWithMessagesInFlight: 8 workers, every message
// refused for the sender after a delay; when the breaker trips the others
// are in flight. None may stay failed, none may be sent, and the stats must
// add up.
func TestAttack_BreakerTripsWithMessagesInFlight(t *testing.T) {
	log := newMemLog(readers(200)...)
	tr := &perRcpt{delay: 20 * time.Millisecond, reply: func(i int, to string) error {
		return reply(553, "5.1.8 sender domain not found")
	}}
	st, err := memSender(log, tr, 8).Run(context.Background(), 1)
	if err == nil {
		t.Fatal("the breaker did not trip")
	}
	m, failed := statuses(log)
	if len(failed) > 0 || m[newsletter.DeliverySending] > 0 {
		t.Errorf("log %v, failed %v", m, failed)
	}
	if st.Failed != 0 || st.Requeued != tr.n {
		t.Errorf("stats %+v after %d transmissions", st, tr.n)
	}
}

// TestAttack_BreakerOnRealServerConcurrent: the same on go-smtp with the
// sqlite log: readers 040 and up are refused at RCPT (550 5.7.1), 4 workers.
func TestAttack_BreakerOnRealServerConcurrent(t *testing.T) {
	f := newFixture(t, 120)
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: `reader(0[4-9]\d|1\d\d)@`, Code: 550, Enhanced: [3]int{5, 7, 1}, Message: "Relay access denied"},
		smtptest.Fault{Stage: smtptest.Data, Delay: 5 * time.Millisecond})
	st, err := f.sender(t, srv.URL()).Run(context.Background(), f.campaign)
	if err == nil {
		t.Fatalf("the breaker did not trip: %+v", st)
	}
	states := checkLog(t, f, func(id string) int {
		n := 0
		for _, m := range srv.Messages() {
			if messageID(m.Data) == id {
				n++
			}
		}
		return n
	})
	if states["failed"] > 0 || states["sent"] != 40 {
		t.Errorf("log %v, stats %+v", states, st)
	}
}

// TestAttack_BreakerAfter100SuccessesConcurrent: go-smtp and the sqlite log,
// 4 workers; the relay refuses readers 100 and up (550 5.7.1). Successes
// of messages already in flight interleave with the first refusals and
// reset the streak: those refusals stay failed, the rest are requeued.
func TestAttack_BreakerAfter100SuccessesConcurrent(t *testing.T) {
	f := newFixture(t, 140)
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: `reader1\d\d@`, Code: 550, Enhanced: [3]int{5, 7, 1}, Message: "Relay access denied"},
		smtptest.Fault{Stage: smtptest.Data, Delay: 5 * time.Millisecond})
	st, err := f.sender(t, srv.URL()).Run(context.Background(), f.campaign)
	if err == nil {
		t.Fatalf("the breaker did not trip: %+v", st)
	}
	states := checkLog(t, f, func(id string) int {
		n := 0
		for _, m := range srv.Messages() {
			if messageID(m.Data) == id {
				n++
			}
		}
		return n
	})
	if states["failed"] > 0 {
		t.Errorf("log %v, stats %+v: readers failed for good on the reply the breaker tripped on", states, st)
	}
}
