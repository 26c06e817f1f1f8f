package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/subscribers"
)

// sendFlags are the flags digest and send share.
type sendFlags struct {
	mailFlags
	list          string
	dryRun        bool
	testTo        string
	resendUnknown bool
	force         bool
}

func (f *sendFlags) add(cmd *cobra.Command) {
	f.mailFlags.add(cmd, true)
	cmd.Flags().StringVar(&f.list, "list", newsletter.DefaultList, "the `list` to send to")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "render every message, send none, create no campaign, print counts")
	cmd.Flags().StringVar(&f.testTo, "test-to", "", "send one sample (a reader of every category, subject [TEST]) to `EMAIL`; records nothing")
	cmd.Flags().BoolVar(&f.force, "force", false, "with --test-to: send the test even to an address that unsubscribed, bounced or complained")
	cmd.Flags().BoolVar(&f.resendUnknown, "resend-unknown", false, "when resuming, resend messages whose delivery is unknown (risking a duplicate rather than a miss)")
}

func (a *app) digestCommand() *cobra.Command {
	var f sendFlags
	var since string
	var categories []string
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Send each reader the new articles in their categories",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			sinceT, err := parseDateFlag("since", since)
			if err != nil {
				return err
			}
			if sinceT.IsZero() {
				sinceT = campaign.DefaultSince(a.now())
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
		Args:  cobra.ExactArgs(1),
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

// sendSetup checks the flags of digest and send and builds the service.
func (a *app) sendSetup(cmd *cobra.Command, f *sendFlags) (*campaign.Service, error) {
	if err := a.checkSendFlags(f); err != nil {
		return nil, err
	}
	return a.service(cmd, &f.mailFlags, true)
}

func (a *app) runDigest(cmd *cobra.Command, f *sendFlags, since time.Time, categories []string) error {
	ctx := cmd.Context()
	svc, err := a.sendSetup(cmd, f)
	if err != nil {
		return err
	}
	if f.testTo != "" || f.dryRun {
		p, err := svc.DigestPlan(ctx, f.list, since, categories)
		if err != nil {
			return err
		}
		return a.rehearse(ctx, svc, f, p, since)
	}
	if w := svc.RateWarning(ctx, f.list); w != "" {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	res, err := svc.Digest(ctx, campaign.DigestRequest{List: f.list, Since: since, Categories: categories, ResendUnknown: f.resendUnknown})
	return a.reportSend(res, err, f.list)
}

func (a *app) runSend(cmd *cobra.Command, f *sendFlags, slug string, again bool) error {
	ctx := cmd.Context()
	svc, err := a.sendSetup(cmd, f)
	if err != nil {
		return err
	}
	if f.testTo != "" || f.dryRun {
		p, err := svc.ArticlePlan(ctx, f.list, slug)
		if err != nil {
			return err
		}
		return a.rehearse(ctx, svc, f, p, time.Time{})
	}
	res, err := svc.Article(ctx, campaign.ArticleRequest{List: f.list, Slug: slug, Again: again, ResendUnknown: f.resendUnknown})
	return a.reportSend(res, err, f.list)
}

// reportSend prints the end of a send and chooses its exit code.
func (a *app) reportSend(res *campaign.Result, err error, list string) error {
	if err != nil {
		return err
	}
	if res.NothingNew {
		a.infof("nothing new for list %s", list)
	}
	return a.exitOf(res)
}

// rehearse runs --test-to or --dry-run of a plan.
func (a *app) rehearse(ctx context.Context, svc *campaign.Service, f *sendFlags, p *campaign.Plan, since time.Time) error {
	if f.testTo != "" {
		if len(p.Articles) == 0 {
			a.infof("nothing new for list %s since %s; no test sent", f.list, since.Format(newsletter.DateLayout))
			return nil
		}
		if err := svc.TestSend(ctx, p, f.testTo, f.force); err != nil {
			return err
		}
		a.infof("sent a test of %d article(s) to %s via %s", len(p.Articles), f.testTo, svc.Transport)
		return nil
	}
	res, err := svc.DryRun(ctx, p)
	if err != nil {
		return err
	}
	if c := res.Unfinished; c != nil {
		a.infof("campaign %d of list %s is unfinished: a run would resume it first (%d pending, %d sending)", c.ID, f.list, c.Pending, c.Sending)
	}
	if len(p.Articles) == 0 {
		a.infof("nothing new for list %s", f.list)
		return nil
	}
	a.infof("dry run: %d article(s), %d recipients, %d messages rendered (%d bytes on average); nothing sent, no campaign created",
		len(p.Articles), res.Recipients, res.Recipients, res.AverageBytes)
	return nil
}
