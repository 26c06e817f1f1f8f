// Package progress reports a send as it goes: a bar with rate and ETA on
// a terminal, a log line every few seconds otherwise, nothing when quiet.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/example/newsletter"
)

// Reporter counts the deliveries of one campaign's run as they reach a
// status and shows how far it is.
type Reporter struct {
	mu                  sync.Mutex
	bar                 *progressbar.ProgressBar
	out                 io.Writer
	label               string
	total, sent, failed int
	deferred            int
	start, lastLog      time.Time
	// Every is how often a log line is printed off a terminal.
	Every time.Duration
	quiet bool
}

// New starts a report of total deliveries on out: a bar when out is a
// terminal, log lines otherwise, nothing when quiet.
func New(out io.Writer, quiet bool, total int, label string) *Reporter {
	p := &Reporter{out: out, label: label, total: total, start: time.Now(), lastLog: time.Now(), Every: 5 * time.Second, quiet: quiet}
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !quiet {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(out),
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

// Terminal reports whether the report is a bar.
func (p *Reporter) Terminal() bool { return p.bar != nil }

// Add counts a delivery that reached status; a requeued (pending) one is
// not done.
func (p *Reporter) Add(status string) {
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
	if !p.quiet && time.Since(p.lastLog) >= p.Every {
		p.lastLog = time.Now()
		rate := float64(p.sent) / time.Since(p.start).Seconds()
		fmt.Fprintf(p.out, "%s: %d/%d done, %d failed, %d deferred, %.0f msg/s\n", p.label, p.sent+p.failed+p.deferred, p.total, p.failed, p.deferred, rate)
	}
}

// Done ends the report.
func (p *Reporter) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}
