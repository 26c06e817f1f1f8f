package mailer_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/templates"
)

// BenchmarkSender sends a campaign of 500 personalised digests (5 articles,
// rendered with the real templates, built with go-mail) into the in-process
// SMTP sink, logging every delivery in SQLite. One op is one campaign.
func BenchmarkSender(b *testing.B) {
	const perOp = 500
	r, err := templates.New(templates.Site{Name: "Millbrook Trust", URL: "https://example.org"})
	if err != nil {
		b.Fatal(err)
	}
	var arts []*newsletter.Article
	for i := 0; i < 5; i++ {
		a := &newsletter.Article{Slug: fmt.Sprint("a", i), Title: fmt.Sprint("Article ", i), Date: time.Now(), URL: fmt.Sprint("https://example.org/a", i),
			Summary: "Something happened in the town this week, and here is a summary of it for readers."}
		a.ComputeHash()
		arts = append(arts, a)
	}
	for _, conc := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			benchSender(b, conc, perOp, func(rc *newsletter.Recipient) (*mailer.Message, error) {
				c, err := r.Content(newsletter.KindDigest, arts)
				if err != nil {
					return nil, err
				}
				m, err := r.Render(c, templates.Reader{Name: rc.Name, Email: rc.Email}, templates.Links{Unsubscribe: "https://n.example.org/u/x", Preferences: "https://n.example.org/p/x"})
				if err != nil {
					return nil, err
				}
				return &mailer.Message{ToName: rc.Name, ToEmail: rc.Email, Subject: m.Subject, Text: m.Text, HTML: m.HTML, List: "newsletter", UnsubscribeURL: "https://n.example.org/u/x"}, nil
			})
		})
	}
	// The same campaign as the campaign service composes it: the article
	// block rendered and encoded once, spliced into each reader's layout.
	piece := func(p templates.SplicedPart) []mailer.Piece {
		var ps []mailer.Piece
		for _, s := range p.Head {
			ps = append(ps, mailer.Piece{Text: s})
		}
		if p.Shared != nil {
			ps = append(ps, mailer.Piece{Encoded: p.Shared.Encoded(mailer.EncodeQP)})
		}
		for _, s := range p.Tail {
			ps = append(ps, mailer.Piece{Text: s})
		}
		return ps
	}
	b.Run("spliced/concurrency=8", func(b *testing.B) {
		benchSender(b, 8, perOp, func(rc *newsletter.Recipient) (*mailer.Message, error) {
			c, err := r.Content(newsletter.KindDigest, arts)
			if err != nil {
				return nil, err
			}
			m, err := r.RenderSpliced(c, templates.Reader{Name: rc.Name, Email: rc.Email}, templates.Links{Unsubscribe: "https://n.example.org/u/x", Preferences: "https://n.example.org/p/x"})
			if err != nil {
				return nil, err
			}
			return &mailer.Message{ToName: rc.Name, ToEmail: rc.Email, Subject: m.Subject, TextPieces: piece(m.Text), HTMLPieces: piece(m.HTML), List: "newsletter", UnsubscribeURL: "https://n.example.org/u/x"}, nil
		})
	})
}

// benchSender runs BenchmarkSender's campaigns at concurrency conc, each
// reader's message made by msg.
func benchSender(b *testing.B, conc, perOp int, msg func(*newsletter.Recipient) (*mailer.Message, error)) {
	srv := smtptest.Start(b, smtptest.Discard())
	var ms0, ms1 runtime.MemStats
	var sent int
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, perOp)
		s := f.sender(b, srv.URL())
		s.Concurrency = conc
		s.Compose = func(ctx context.Context, rc *newsletter.Recipient) (*mailer.Built, error) {
			m, err := msg(rc)
			if err != nil {
				return nil, err
			}
			return f.builder.Build(m)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		st, err := s.Run(context.Background(), f.campaign)
		b.StopTimer()
		runtime.ReadMemStats(&ms1)
		if err != nil || st.Sent != perOp {
			b.Fatal(st, err)
		}
		sent += st.Sent
		elapsed += st.Elapsed
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(perOp), "allocs/msg")
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(perOp), "B/msg")
		if m, err := msg(&newsletter.Recipient{Name: "Reader 1", Email: "reader1@example.org"}); err == nil {
			if built, err := f.builder.Build(m); err == nil {
				raw, _ := built.Bytes()
				b.ReportMetric(float64(len(raw)), "msg-bytes")
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msg/s")
}

// BenchmarkTransportOnly sends one pre-built message over and over through
// the SMTP transport into the in-process sink, with no rendering and no
// log: the ceiling the sender can approach on this machine. One op is one
// message; compare its msg/s with BenchmarkSender's.
func BenchmarkTransportOnly(b *testing.B) {
	for _, conc := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			srv := smtptest.Start(b, smtptest.Discard())
			builder, _ := mailer.NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust")
			r, _ := templates.New(templates.Site{Name: "Millbrook Trust", URL: "https://example.org"})
			a := &newsletter.Article{Slug: "a", Title: "Article", Date: time.Now(), Summary: "Something happened in the town this week."}
			a.ComputeHash()
			c, _ := r.Content(newsletter.KindDigest, []*newsletter.Article{a, a, a, a, a})
			m, _ := r.Render(c, templates.Reader{Name: "Reader", Email: "reader@example.org"}, templates.Links{Unsubscribe: "https://n.example.org/u/x", Preferences: "https://n.example.org/p/x"})
			tr, _ := mailer.ParseTransport(srv.URL(), "")
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := 0; w < conc; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Each connection has its own copy: a built message is
					// not written from two goroutines at once.
					mine, _ := builder.Build(&mailer.Message{ToEmail: "reader@example.org", Subject: m.Subject, Text: m.Text, HTML: m.HTML, List: "newsletter"})
					conn, err := tr.Open(context.Background())
					if err != nil {
						b.Error(err)
						return
					}
					defer conn.Close()
					for next.Add(1) <= int64(b.N) {
						if err := conn.Send(context.Background(), mine); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
		})
	}
}
