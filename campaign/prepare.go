package campaign

import (
	"context"

	"github.com/example/newsletter"
	"github.com/example/newsletter/feeds"
	"github.com/example/newsletter/schedule"
)

// beforeScheduled fetches what a scheduled digest should hold and whom it
// should skip: the new items of the feeds of its list, then, when
// bounces.imap is set, the bounces and complaints that came back since the
// last send. A failure is logged; the digest goes on with what is stored.
func (s *Service) beforeScheduled(ctx context.Context, sc *schedule.Schedule) {
	if s.cfg == nil {
		return
	}
	log := s.logger()
	if fs := feeds.ForList(s.cfg.FeedList(), sc.List); len(fs) > 0 {
		res, err := s.cfg.Fetcher().FetchAll(ctx, s.DB, fs)
		for _, r := range res.Feeds {
			for _, e := range r.Skipped {
				log.Warn("feed item skipped", "schedule", sc.Name, "feed", r.Name, "err", e.Error())
			}
			if r.Err == nil {
				log.Info("feed", "schedule", sc.Name, "feed", r.Name, "not_modified", r.NotModified, "added", r.Added, "updated", r.Updated)
			}
		}
		if err != nil {
			log.Error("feed", "schedule", sc.Name, "err", newsletter.ErrorMessage(err))
		}
	}
	if s.cfg.Bounces.IMAP != "" {
		o, err := s.FetchBounces(ctx, s.Bounces())
		log.Info("bounces fetch", "messages", o.Messages, "recorded", o.Recorded, "bounced", o.Bounced, "complained", o.Complained)
		if err != nil {
			log.Error("bounces fetch", "err", newsletter.ErrorMessage(err))
		}
	}
}
