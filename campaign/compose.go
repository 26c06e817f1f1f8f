package campaign

import (
	"net/url"
	"strings"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

// messageSpec is what every message of one campaign (or one preview, test
// or dry run) shares.
type messageSpec struct {
	kind, list, campaign string
	articles             []*newsletter.Article // the campaign's; matched per reader
	subjectPrefix        string
}

// links returns a reader's signed unsubscribe and preferences URLs.
func (s *Service) links(subscriberID int64, list string) templates.Links {
	base := strings.TrimRight(s.PublicURL, "/")
	tok := func(purpose string) string {
		return url.PathEscape(s.Signer.Sign(subscribers.Token{Purpose: purpose, Subscriber: subscriberID, List: list}))
	}
	return templates.Links{
		Unsubscribe: base + "/unsubscribe/" + tok(subscribers.PurposeUnsubscribe),
		Preferences: base + "/preferences/" + tok(subscribers.PurposePreferences),
	}
}

// compose renders and builds the message of one reader: the campaign's
// articles in the reader's categories, the reader's links, the headers.
func (s *Service) compose(spec messageSpec, r *newsletter.Recipient) (*mailer.Built, error) {
	arts := newsletter.MatchArticles(spec.articles, r.Categories)
	if len(arts) == 0 {
		return nil, newsletter.Errorf(newsletter.EINVALID, "no article of this campaign is in %s's categories", r.Email)
	}
	content, err := s.Renderer.Content(spec.kind, arts)
	if err != nil {
		return nil, err
	}
	links := s.links(r.SubscriberID, spec.list)
	msg, err := s.Renderer.Render(content, templates.Reader{Name: r.Name, Email: r.Email, Categories: r.Categories}, links)
	if err != nil {
		return nil, err
	}
	built, err := s.Builder.Build(&mailer.Message{
		Campaign:          spec.campaign,
		ToName:            r.Name,
		ToEmail:           r.Email,
		Subject:           spec.subjectPrefix + msg.Subject,
		Text:              msg.Text,
		HTML:              msg.HTML,
		List:              spec.list,
		UnsubscribeURL:    links.Unsubscribe,
		UnsubscribeMailto: s.UnsubscribeMailto,
	})
	if err != nil {
		return nil, err
	}
	built.DeliveryID = r.DeliveryID
	if s.VERP != nil && r.DeliveryID != 0 {
		built.From = s.VERP.Address(r.DeliveryID) // MAIL FROM; Return-Path once delivered
	}
	return built, nil
}
