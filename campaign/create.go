package campaign

import (
	"context"
	"errors"
	"time"

	"github.com/example/newsletter"
)

// DigestRequest asks for a digest of a list.
type DigestRequest struct {
	List       string
	Since      time.Time // articles published on or after
	Categories []string  // only articles in these; none: every article
	// ResendUnknown resends, when resuming, the deliveries whose outcome is
	// unknown (risking a duplicate rather than a miss).
	ResendUnknown bool
}

// ArticleRequest asks for one article to be sent to a list.
type ArticleRequest struct {
	List          string
	Slug          string
	Again         bool // send it although the list already received it
	ResendUnknown bool
}

// Digest resumes the list's unfinished campaign, then creates and sends a
// digest of the articles new since req.Since. With nothing new, the result
// says so and no campaign is made.
func (s *Service) Digest(ctx context.Context, req DigestRequest) (*Result, error) {
	return s.sendNew(ctx, req.List, req.ResendUnknown, func(ctx context.Context) (*newsletter.Campaign, error) {
		return s.create(ctx, s.digestSpec(req.List, req.Since, req.Categories, "digest:"+req.List+":"+uniqueSuffix(s.now())))
	})
}

// Article resumes the list's unfinished campaign, then sends one article
// to the readers of its categories. An article goes to a list once unless
// req.Again.
func (s *Service) Article(ctx context.Context, req ArticleRequest) (*Result, error) {
	art, err := s.DB.ArticleBySlug(ctx, req.Slug)
	if err != nil {
		return nil, err
	}
	return s.sendNew(ctx, req.List, req.ResendUnknown, func(ctx context.Context) (*newsletter.Campaign, error) {
		key := "article:" + req.List + ":" + art.Slug
		if req.Again {
			key += ":" + uniqueSuffix(s.now())
		}
		c, err := s.create(ctx, newsletter.CampaignSpec{Kind: newsletter.KindArticle, List: req.List, Key: key, ArticleIDs: []int64{art.ID}}, art)
		if errors.Is(err, newsletter.ErrAlreadySent) {
			return nil, newsletter.Errorf(newsletter.ECONFLICT, "%s was already sent to list %s; use --again to send it once more", art.Slug, req.List)
		}
		return c, err
	})
}

// digestSpec is the one description of a digest campaign, by hand or by a
// schedule.
func (s *Service) digestSpec(list string, since time.Time, categories []string, key string) newsletter.CampaignSpec {
	return newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: list, Key: key, Since: since, Categories: categories}
}

// sendNew holds the sender lease, resumes the list's unfinished campaign,
// then sends the campaign create makes (nil: nothing new).
func (s *Service) sendNew(ctx context.Context, list string, resendUnknown bool, create func(ctx context.Context) (*newsletter.Campaign, error)) (*Result, error) {
	res := &Result{}
	err := s.withLease(ctx, func(ctx context.Context) error {
		ok, err := s.resume(ctx, list, resendUnknown, res)
		if err != nil || !ok {
			return err
		}
		c, err := create(ctx)
		if errors.Is(err, newsletter.ErrNothingNew) {
			res.NothingNew = true
			return nil
		} else if err != nil {
			return err
		}
		run, err := s.send(ctx, c, false)
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, run)
		return nil
	})
	return res, err
}

// create makes a campaign: the one creation path of digests, articles and
// scheduled digests. The subject is rendered from the articles the
// campaign will hold: a digest's candidates, or arts.
func (s *Service) create(ctx context.Context, spec newsletter.CampaignSpec, arts ...*newsletter.Article) (*newsletter.Campaign, error) {
	if spec.Kind == newsletter.KindDigest {
		var err error
		if arts, err = s.DB.DigestCandidates(ctx, spec.List, spec.Since, spec.Categories); err != nil {
			return nil, err
		}
	}
	if len(arts) > 0 {
		content, err := s.Renderer.Content(spec.Kind, s.withPages(arts))
		if err != nil {
			return nil, err
		}
		spec.Subject = content.Subject
	}
	return s.DB.CreateCampaign(ctx, spec)
}
