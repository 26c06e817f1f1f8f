package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/example/newsletter"
)

// progress reports a send: a bar with rate and ETA on a terminal, a log
// line every few seconds otherwise, nothing with --quiet.
type progress struct {
	mu                  sync.Mutex
	bar                 *progressbar.ProgressBar
	a                   *app
	label               string
	total, sent, failed int
	deferred            int
	start, lastLog      time.Time
	every               time.Duration
	terminal, quiet     bool
}

func (a *app) newProgress(total int, label string) *progress {
	p := &progress{a: a, label: label, total: total, start: time.Now(), lastLog: time.Now(), every: 5 * time.Second, quiet: a.quiet}
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !a.quiet {
		p.terminal = true
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) add(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch status {
	case newsletter.DeliverySent:
		p.sent++
	case newsletter.DeliveryPending:
		return
	case newsletter.DeliveryDeferred:
		p.deferred++
	default:
		p.failed++
	}
	if p.bar != nil {
		p.bar.Add(1)
		return
	}
	if !p.quiet && time.Since(p.lastLog) >= p.every {
		p.lastLog = time.Now()
		rate := float64(p.sent) / time.Since(p.start).Seconds()
		fmt.Fprintf(p.a.stderr, "%s: %d/%d done, %d failed, %d deferred, %.0f msg/s\n", p.label, p.sent+p.failed+p.deferred, p.total, p.failed, p.deferred, rate)
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}
