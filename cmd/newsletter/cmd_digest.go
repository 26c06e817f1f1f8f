package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
)

// defaultLookback is how far back a digest looks without --since.
const defaultLookback = 7 * 24 * time.Hour

// sendFlags are the flags digest and send share.
type sendFlags struct {
	mailFlags
	list          string
	dryRun        bool
	testTo        string
	resendUnknown bool
}

func (f *sendFlags) add(cmd *cobra.Command) {
	f.mailFlags.add(cmd, true)
	cmd.Flags().StringVar(&f.list, "list", newsletter.DefaultList, "the `list` to send to")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "render every message, send none, create no campaign, print counts")
	cmd.Flags().StringVar(&f.testTo, "test-to", "", "send one sample (a reader of every category, subject [TEST]) to `EMAIL`; records nothing")
	cmd.Flags().BoolVar(&f.resendUnknown, "resend-unknown", false, "when resuming, resend messages whose delivery is unknown (risking a duplicate rather than a miss)")
}

func (a *app) digestCommand() *cobra.Command {
	var f sendFlags
	var since string
	var categories []string
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Send each reader the new articles in their categories",
		Long: `digest sends one message per active member of the list, holding the articles
published since --since (default: 7 days ago) that no earlier digest of the
list held, restricted to the reader's categories (a reader with none takes
all). With nothing new it says so and sends nothing.

Every delivery is logged. A list with an unfinished campaign (interrupted,
or stopped because the server was down) resumes it first: pending messages
are sent; messages that were being sent when a run died are reported as
unknown and not resent unless --resend-unknown.

Only one sender runs per database at a time.

Exit codes: 0 all sent, 1 error (the campaign stays resumable), 3 finished
with failed deliveries, 130 interrupted (run it again to resume).`,
		Example: `  newsletter digest --dry-run
  newsletter digest --test-to me@example.org
  newsletter digest --since 2026-11-01 --transport smtp://mail.example.org:587`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sinceT, err := parseDateFlag("since", since)
			if err != nil {
				return err
			}
			if sinceT.IsZero() {
				sinceT = a.now().Add(-defaultLookback).UTC().Truncate(24 * time.Hour)
			}
			return a.runDigest(cmd, &f, sinceT, categories)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&since, "since", "", "articles published on or after `DATE` (YYYY-MM-DD; default 7 days ago)")
	cmd.Flags().StringArrayVar(&categories, "category", nil, "only articles in this `category` (repeatable)")
	return cmd
}

func (a *app) sendCommand() *cobra.Command {
	var f sendFlags
	var again bool
	cmd := &cobra.Command{
		Use:   "send SLUG",
		Short: "Send one article to the readers of its categories",
		Long: `send sends one article to every active member of the list whose categories
meet the article's (readers with no categories take all). An article goes to
a list once; --again sends it another time.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runSend(cmd, &f, args[0], again)
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&again, "again", false, "send an article the list already received")
	return cmd
}

func (a *app) checkSendFlags(f *sendFlags) error {
	if f.rate < 0 || f.retries < 0 || f.concurrency < 0 {
		return usagef("--rate, --retries and --concurrency take 0 or more")
	}
	if err := subscribers.ValidListName(f.list); err != nil {
		return usagef("--list: %s", newsletter.ErrorMessage(err))
	}
	if f.testTo != "" {
		email, err := subscribers.NormalizeEmail(f.testTo)
		if err != nil {
			return usagef("--test-to: %s", newsletter.ErrorMessage(err))
		}
		f.testTo = email
	}
	if f.dryRun && f.testTo != "" {
		return usagef("--dry-run and --test-to do not go together")
	}
	return nil
}

// sendSetup checks the flags of digest and send and prepares rendering; a
// wrong transport is reported before anything else happens.
func (a *app) sendSetup(cmd *cobra.Command, f *sendFlags) (*mailSetup, error) {
	if err := a.checkSendFlags(f); err != nil {
		return nil, err
	}
	ms, err := a.mailSetup(cmd, &f.mailFlags)
	if err != nil {
		return nil, err
	}
	if _, err := ms.transport(&f.mailFlags); err != nil {
		return nil, err
	}
	return ms, nil
}

// sendNew holds the sender lease, resumes the list's unfinished campaign,
// then sends the campaign create makes (nil: nothing to send).
func (a *app) sendNew(ctx context.Context, ms *mailSetup, f *sendFlags, create func(ctx context.Context) (*newsletter.Campaign, error)) error {
	return a.withLease(ctx, ms.db, func(ctx context.Context) error {
		code, err := a.resume(ctx, ms, f)
		if err != nil || code != exitOK {
			return exitWith(code, err)
		}
		c, err := create(ctx)
		if err != nil || c == nil {
			return err
		}
		return exitWith(a.sendCampaign(ctx, ms, f, c))
	})
}

func (a *app) runDigest(cmd *cobra.Command, f *sendFlags, since time.Time, categories []string) error {
	ctx := cmd.Context()
	ms, err := a.sendSetup(cmd, f)
	if err != nil {
		return err
	}
	cands, err := ms.db.DigestCandidates(ctx, f.list, since, categories)
	if err != nil {
		return err
	}
	switch {
	case f.testTo != "":
		if len(cands) == 0 {
			a.infof("nothing new for list %s since %s; no test sent", f.list, since.Format(newsletter.DateLayout))
			return nil
		}
		return a.testSend(ctx, ms, f, messageSpec{kind: newsletter.KindDigest, list: f.list, campaign: "test", articles: cands, subjectPrefix: "[TEST] "})
	case f.dryRun:
		if c, err := ms.db.UnfinishedCampaign(ctx, f.list); err != nil {
			return err
		} else if c != nil {
			a.infof("campaign %d of list %s is unfinished: a run would resume it first (%d pending, %d sending)", c.ID, f.list, c.Pending, c.Sending)
		}
		if len(cands) == 0 {
			a.infof("nothing new for list %s", f.list)
			return nil
		}
		return a.dryRun(ctx, ms, messageSpec{kind: newsletter.KindDigest, list: f.list, campaign: "dry-run", articles: cands})
	}
	return a.sendNew(ctx, ms, f, func(ctx context.Context) (*newsletter.Campaign, error) {
		c, err := ms.db.CreateCampaign(ctx, newsletter.CampaignSpec{
			Kind: newsletter.KindDigest, List: f.list, Key: fmt.Sprintf("digest:%s:%s", f.list, uniqueSuffix(a.now())),
			Since: since, Categories: categories, Subject: subjectOf(ms, newsletter.KindDigest, cands),
		})
		if errors.Is(err, sqlite.ErrNothingNew) {
			a.infof("nothing new for list %s", f.list)
			return nil, nil
		}
		return c, err
	})
}

func (a *app) runSend(cmd *cobra.Command, f *sendFlags, slug string, again bool) error {
	ctx := cmd.Context()
	ms, err := a.sendSetup(cmd, f)
	if err != nil {
		return err
	}
	art, err := ms.db.ArticleBySlug(ctx, slug)
	if err != nil {
		return err
	}
	spec := messageSpec{kind: newsletter.KindArticle, list: f.list, articles: []*newsletter.Article{art}}
	switch {
	case f.testTo != "":
		spec.campaign, spec.subjectPrefix = "test", "[TEST] "
		return a.testSend(ctx, ms, f, spec)
	case f.dryRun:
		spec.campaign = "dry-run"
		return a.dryRun(ctx, ms, spec)
	}
	return a.sendNew(ctx, ms, f, func(ctx context.Context) (*newsletter.Campaign, error) {
		key := "article:" + f.list + ":" + art.Slug
		if again {
			key += ":" + uniqueSuffix(a.now())
		}
		c, err := ms.db.CreateCampaign(ctx, newsletter.CampaignSpec{
			Kind: newsletter.KindArticle, List: f.list, Key: key, ArticleIDs: []int64{art.ID},
			Subject: subjectOf(ms, newsletter.KindArticle, spec.articles),
		})
		if newsletter.ErrorCode(err) == newsletter.ECONFLICT && strings.Contains(newsletter.ErrorMessage(err), "already sent") {
			return nil, newsletter.Errorf(newsletter.ECONFLICT, "%s was already sent to list %s; use --again to send it once more", art.Slug, f.list)
		}
		return c, err
	})
}

func uniqueSuffix(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func subjectOf(ms *mailSetup, kind string, arts []*newsletter.Article) string {
	c, err := ms.renderer.Content(kind, arts)
	if err != nil {
		return ""
	}
	return c.Subject
}

// exitWith turns a code into the error run maps to it.
func exitWith(code int, err error) error {
	if code == exitOK && err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// resume finishes the list's unfinished campaign, if any.
func (a *app) resume(ctx context.Context, ms *mailSetup, f *sendFlags) (int, error) {
	c, err := ms.db.UnfinishedCampaign(ctx, f.list)
	if err != nil || c == nil {
		return exitOK, err
	}
	unknown, err := ms.db.PrepareResume(ctx, c.ID, f.resendUnknown)
	if err != nil {
		return exitFailure, err
	}
	a.infof("resuming campaign %d of list %s", c.ID, f.list)
	if unknown > 0 {
		a.infof("%d deliveries of campaign %d are unknown: a run stopped while sending them, so they may or may not have arrived; they are not resent (see: newsletter deliveries --campaign %d --status unknown; --resend-unknown resends them)", unknown, c.ID, c.ID)
	}
	return a.sendCampaign(ctx, ms, f, c)
}

// sendCampaign sends a campaign's pending deliveries and prints a summary.
func (a *app) sendCampaign(ctx context.Context, ms *mailSetup, f *sendFlags, c *newsletter.Campaign) (int, error) {
	arts, err := ms.db.CampaignArticles(ctx, c.ID)
	if err != nil {
		return exitFailure, err
	}
	tr, err := ms.transport(&f.mailFlags)
	if err != nil {
		return exitFailure, err
	}
	s := &mailer.Sender{
		Log:         ms.db,
		Transport:   tr,
		Compose:     ms.composer(messageSpec{kind: c.Kind, list: c.List, campaign: fmt.Sprint(c.ID), articles: arts}),
		Concurrency: firstPositive(f.concurrency, ms.cfg.Transport.Concurrency, 4),
		Rate:        ms.cfg.Transport.Rate,
		Retries:     ms.cfg.Transport.Retries,
		Logger:      a.log,
	}
	if f.changed("rate") {
		s.Rate = f.rate
	}
	if f.changed("retries") {
		s.Retries = f.retries
	}
	if d := os.Getenv("NEWSLETTER_RETRY_BACKOFF"); d != "" {
		if v, err := time.ParseDuration(d); err == nil {
			s.Backoff = v
		}
	}
	pending := c.Pending + c.Sending
	prog := a.newProgress(pending, fmt.Sprintf("campaign %d", c.ID))
	s.OnResult = prog.add
	a.log.Debug("sending", "campaign", c.ID, "transport", tr.String(), "pending", pending)
	st, runErr := s.Run(ctx, c.ID)
	prog.done()
	done, err := ms.db.FinishCampaign(ctx, c.ID)
	if err != nil && runErr == nil {
		runErr = err
	}
	final, err := ms.db.Campaign(context.WithoutCancel(ctx), c.ID)
	if err != nil {
		return exitFailure, err
	}
	rate := 0.0
	if secs := st.Elapsed.Seconds(); secs > 0 {
		rate = float64(st.Sent) / secs
	}
	a.infof("campaign %d (%s, list %s): %d recipients, %d sent, %d failed, %d unknown, %d pending; %.1fs, %.0f msg/s",
		final.ID, final.Kind, final.List, final.Recipients, final.Sent, final.Failed, final.Unknown, final.Pending+final.Sending,
		st.Elapsed.Seconds(), rate)
	switch {
	case runErr != nil:
		return exitFailure, fmt.Errorf("%s; campaign %d is resumable: run the same command again", newsletter.ErrorMessage(runErr), c.ID)
	case st.Interrupted:
		a.infof("interrupted; campaign %d is resumable: run the same command again", c.ID)
		return exitInterrupted, nil
	case !done:
		return exitFailure, fmt.Errorf("campaign %d is not finished; run the same command again", c.ID)
	case final.Failed > 0:
		a.infof("%d deliveries failed; see: newsletter deliveries --campaign %d --status failed", final.Failed, c.ID)
		return exitSomeFailed, nil
	}
	return exitOK, nil
}

func firstPositive(vs ...int) int {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// testSend sends one sample message to f.testTo and records nothing.
func (a *app) testSend(ctx context.Context, ms *mailSetup, f *sendFlags, spec messageSpec) error {
	tr, err := ms.transport(&f.mailFlags)
	if err != nil {
		return err
	}
	m, err := ms.build(spec, &newsletter.Recipient{Email: f.testTo, Name: "", Status: newsletter.StatusActive})
	if err != nil {
		return err
	}
	conn, err := tr.Open(ctx)
	if err != nil {
		return fmt.Errorf("test send to %s via %s: %v", f.testTo, tr, err)
	}
	defer conn.Close()
	if err := conn.Send(ctx, m); err != nil {
		return fmt.Errorf("test send to %s via %s: %v", f.testTo, tr, err)
	}
	a.infof("sent a test of %d article(s) to %s via %s", len(spec.articles), f.testTo, tr)
	return nil
}

// dryRun renders every message a run would send, sends none and prints
// counts.
func (a *app) dryRun(ctx context.Context, ms *mailSetup, spec messageSpec) error {
	var recipients, bytes int
	err := ms.db.EachSubscriber(ctx, newsletter.SubscriberFilter{List: spec.list, Status: newsletter.StatusActive}, func(s *newsletter.Subscriber) error {
		if len(matchArticles(spec.articles, s.Categories)) == 0 {
			return nil
		}
		m, err := ms.build(spec, &newsletter.Recipient{SubscriberID: s.ID, Email: s.Email, Name: s.Name, Status: s.Status, Categories: s.Categories})
		if err != nil {
			return fmt.Errorf("%s: %w", s.Email, err)
		}
		b, err := m.Bytes()
		if err != nil {
			return err
		}
		recipients++
		bytes += len(b)
		return nil
	})
	if err != nil {
		return err
	}
	avg := 0
	if recipients > 0 {
		avg = bytes / recipients
	}
	a.infof("dry run: %d article(s), %d recipients, %d messages rendered (%d bytes on average); nothing sent, no campaign created",
		len(spec.articles), recipients, recipients, avg)
	return nil
}

// errLeaseLost is the cause of a run's cancellation when another process
// took the sender lease (this one was paused past its expiry).
var errLeaseLost = errors.New("another process took over the sender lease")

// withLease runs fn holding the sender lease, renewed while fn runs. If the
// lease is lost, fn's context is cancelled: the send stops after the
// messages in flight (and the claims in the log keep the two processes from
// sending anything twice meanwhile).
func (a *app) withLease(ctx context.Context, db *sqlite.DB, fn func(ctx context.Context) error) error {
	host, _ := os.Hostname()
	b := make([]byte, 8)
	rand.Read(b)
	l := sqlite.Lease{Holder: hex.EncodeToString(b), PID: os.Getpid(), Host: host}
	ttl := 30 * time.Second
	if v, err := time.ParseDuration(os.Getenv("NEWSLETTER_LEASE_TTL")); err == nil && v > 0 {
		ttl = v // for tests of a lost lease
	}
	isDead := func(cur sqlite.Lease) bool {
		if cur.Host != host {
			return false
		}
		return syscall.Kill(cur.PID, 0) == syscall.ESRCH
	}
	if err := db.AcquireLease(ctx, l, ttl, isDead); err != nil {
		return err
	}
	defer db.ReleaseLease(ctx, l.Holder)
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				err := db.RenewLease(context.WithoutCancel(ctx), l.Holder, ttl)
				if newsletter.ErrorCode(err) == newsletter.ECONFLICT {
					a.log.Error("the sender lease was taken over; stopping after the messages in flight")
					cancel(errLeaseLost)
					return
				} else if err != nil {
					a.log.Error("renewing the sender lease", "err", err)
				}
			}
		}
	}()
	err := fn(runCtx)
	if errors.Is(context.Cause(runCtx), errLeaseLost) {
		return exitWith(exitFailure, fmt.Errorf("%w; this run stopped after the messages in flight (they are logged)", errLeaseLost))
	}
	return err
}
