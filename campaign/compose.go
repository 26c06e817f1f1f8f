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
	msg, err := s.Renderer.RenderSpliced(content, templates.Reader{Name: r.Name, Email: r.Email, Categories: r.Categories}, links)
	if err != nil {
		return nil, err
	}
	built, err := s.Builder.Build(&mailer.Message{
		Campaign:          spec.campaign,
		ToName:            r.Name,
		ToEmail:           r.Email,
		Subject:           spec.subjectPrefix + msg.Subject,
		TextPieces:        pieces(msg.Text),
		HTMLPieces:        pieces(msg.HTML),
		List:              spec.list,
		UnsubscribeURL:    links.Unsubscribe,
		UnsubscribeMailto: s.UnsubscribeMailto,
	})
	if err != nil {
		return nil, err
	}
	built.DeliveryID = r.DeliveryID
	return built, nil
}

// pieces turns a reader's spliced part into the builder's pieces: the
// shared block is quoted-printable encoded once per Content, on first use.
func pieces(p templates.SplicedPart) []mailer.Piece {
	ps := make([]mailer.Piece, 0, len(p.Head)+1+len(p.Tail))
	for _, s := range p.Head {
		if s != "" {
			ps = append(ps, mailer.Piece{Text: s})
		}
	}
	if p.Shared != nil {
		ps = append(ps, mailer.Piece{Encoded: p.Shared.Encoded(mailer.EncodeQP)})
	}
	for _, s := range p.Tail {
		if s != "" {
			ps = append(ps, mailer.Piece{Text: s})
		}
	}
	if len(ps) == 0 {
		return nil
	}
	return ps
}
