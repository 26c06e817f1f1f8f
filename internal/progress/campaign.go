package progress

import (
	"fmt"
	"io"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
)

// Campaign prints what a campaign run does as it happens: the resume, a
// Reporter while it sends, and the summary line. It implements
// campaign.Progress.
type Campaign struct {
	Out   io.Writer
	Quiet bool
	rep   *Reporter
}

func (p *Campaign) printf(format string, args ...any) {
	if !p.Quiet {
		fmt.Fprintf(p.Out, format+"\n", args...)
	}
}

// Resuming implements campaign.Progress.
func (p *Campaign) Resuming(c *newsletter.Campaign, unknown int) {
	p.printf("resuming campaign %d of list %s", c.ID, c.List)
	if unknown > 0 {
		p.printf("%d deliveries of campaign %d are unknown: a run stopped while sending them, so they may or may not have arrived; they are not resent (see: newsletter deliveries --campaign %d --status unknown; --resend-unknown resends them)", unknown, c.ID, c.ID)
	}
}

// Sending implements campaign.Progress.
func (p *Campaign) Sending(c *newsletter.Campaign, pending int) func(string) {
	p.rep = New(p.Out, p.Quiet, pending, fmt.Sprintf("campaign %d", c.ID))
	return p.rep.Add
}

// Finished implements campaign.Progress: the summary line, and what to do
// about deferred deliveries.
func (p *Campaign) Finished(r *campaign.Run) {
	if p.rep != nil {
		p.rep.Done()
	}
	c, st := r.Campaign, r.Stats
	rate := 0.0
	if secs := st.Elapsed.Seconds(); secs > 0 {
		rate = float64(st.Sent) / secs
	}
	// Rows still sending after a run are unknown: the next run says so.
	p.printf("campaign %d (%s, list %s): %d recipients, %d sent, %d failed, %d unknown, %d pending, %d deferred; %.1fs, %.0f msg/s",
		c.ID, c.Kind, c.List, c.Recipients, c.Sent, c.Failed, c.Unknown+c.Sending, c.Pending, c.Deferred, st.Elapsed.Seconds(), rate)
	if c.Deferred > 0 {
		p.printf("%d deferred; run again later (see: newsletter deliveries --campaign %d --status deferred)", c.Deferred, c.ID)
	}
}
