package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
)

// Plan is what a campaign would hold, before one is made: for a dry run, a
// test send or a preview.
type Plan struct {
	Kind     string
	List     string
	Articles []*newsletter.Article
}

// DigestPlan returns the articles a digest of list would hold now.
func (s *Service) DigestPlan(ctx context.Context, list string, since time.Time, categories []string) (*Plan, error) {
	arts, err := s.DB.DigestCandidates(ctx, list, since, categories)
	if err != nil {
		return nil, err
	}
	return &Plan{Kind: newsletter.KindDigest, List: list, Articles: arts}, nil
}

// ArticlePlan returns the plan of sending one article to list.
func (s *Service) ArticlePlan(ctx context.Context, list, slug string) (*Plan, error) {
	art, err := s.DB.ArticleBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	return &Plan{Kind: newsletter.KindArticle, List: list, Articles: []*newsletter.Article{art}}, nil
}

// DryRunResult counts what a run would send.
type DryRunResult struct {
	// Unfinished is the list's unfinished campaign, which a run would
	// resume first; nil when there is none.
	Unfinished *newsletter.Campaign
	Recipients int
	// AverageBytes is the average size of the messages rendered.
	AverageBytes int
}

// DryRun renders every message a run of p would send, sends none, records
// nothing and counts.
func (s *Service) DryRun(ctx context.Context, p *Plan) (*DryRunResult, error) {
	res := &DryRunResult{}
	var err error
	if res.Unfinished, err = s.DB.UnfinishedCampaign(ctx, p.List); err != nil {
		return nil, err
	}
	if len(p.Articles) == 0 {
		return res, nil
	}
	spec := messageSpec{kind: p.Kind, list: p.List, campaign: "dry-run", articles: p.Articles}
	var bytes int
	err = s.DB.EachSubscriber(ctx, newsletter.SubscriberFilter{List: p.List, Status: newsletter.StatusActive}, func(sub *newsletter.Subscriber) error {
		if len(newsletter.MatchArticles(p.Articles, sub.Categories)) == 0 {
			return nil
		}
		m, err := s.compose(spec, recipientOf(sub))
		if err != nil {
			return fmt.Errorf("%s: %w", sub.Email, err)
		}
		b, err := m.Bytes()
		if err != nil {
			return err
		}
		res.Recipients++
		bytes += len(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.Recipients > 0 {
		res.AverageBytes = bytes / res.Recipients
	}
	return res, nil
}

// TestSend sends one sample of p, as a reader of every category would get
// it, to the address to, with "[TEST] " before the subject. When to is a
// subscriber, the footer's links are theirs and work; otherwise the mail has
// none. It records nothing. An address that unsubscribed, bounced or
// complained is refused unless force.
func (s *Service) TestSend(ctx context.Context, p *Plan, to string, force bool) error {
	if status, err := s.DB.Suppressed(ctx, to); err != nil {
		return err
	} else if status != "" && !force {
		return newsletter.Errorf(newsletter.EINVALID, "%s is %s: a test is not sent to it (--force sends it anyway)", to, status)
	}
	r := &newsletter.Recipient{Email: to, Status: newsletter.StatusActive}
	if sub, err := s.DB.SubscriberByEmail(ctx, to); err == nil {
		r.SubscriberID, r.Name = sub.ID, sub.Name
	} else if newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		return err
	}
	m, err := s.compose(messageSpec{kind: p.Kind, list: p.List, campaign: "test", articles: p.Articles, subjectPrefix: "[TEST] "}, r)
	if err != nil {
		return err
	}
	conn, err := s.Transport.Open(ctx)
	if err != nil {
		return fmt.Errorf("test send to %s via %s: %w", to, s.Transport, err)
	}
	defer conn.Close()
	if err := conn.Send(ctx, m); err != nil {
		return fmt.Errorf("test send to %s via %s: %w", to, s.Transport, err)
	}
	return nil
}

// Preview builds the message reader would get of p now. Reader nil is a
// sample reader of every category.
func (s *Service) Preview(p *Plan, reader *newsletter.Subscriber) (*mailer.Built, *newsletter.Recipient, error) {
	r := &newsletter.Recipient{Email: "reader@" + s.Builder.Domain(), Status: newsletter.StatusActive}
	if reader != nil {
		r = recipientOf(reader)
	}
	if len(newsletter.MatchArticles(p.Articles, r.Categories)) == 0 {
		return nil, r, nil
	}
	m, err := s.compose(messageSpec{kind: p.Kind, list: p.List, campaign: "preview", articles: p.Articles}, r)
	return m, r, err
}

func recipientOf(sub *newsletter.Subscriber) *newsletter.Recipient {
	return &newsletter.Recipient{SubscriberID: sub.ID, Email: sub.Email, Name: sub.Name, Status: sub.Status, Categories: sub.Categories}
}

// DefaultLookback is how far back a digest looks when no date is given.
const DefaultLookback = 7 * 24 * time.Hour

// DefaultSince is the first day a digest or preview made at now covers
// when no date is given: DefaultLookback before, from midnight UTC.
func DefaultSince(now time.Time) time.Time {
	return now.Add(-DefaultLookback).UTC().Truncate(24 * time.Hour)
}

// PreviewDigest builds the digest of list since that the subscriber email
// would get now; email "" is a sample reader of every category. The
// message is nil when that reader has nothing new.
func (s *Service) PreviewDigest(ctx context.Context, list string, since time.Time, email string) (*mailer.Built, *newsletter.Recipient, error) {
	var reader *newsletter.Subscriber
	if email != "" {
		var err error
		if reader, err = s.DB.SubscriberByEmail(ctx, email); err != nil {
			return nil, nil, err
		}
	}
	p, err := s.DigestPlan(ctx, list, since, nil)
	if err != nil {
		return nil, nil, err
	}
	return s.Preview(p, reader)
}
