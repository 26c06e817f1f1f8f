package campaign

import (
	"net/url"
	"strconv"
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
	// issue is the campaign's number in the web archive, 0 for none: its
	// page is the message's "View in browser" link.
	issue int64
}

// links returns a reader's signed unsubscribe and preferences URLs, and the
// archive page of issue. A reader who is no subscriber (ID 0: a sample or
// a test address) gets no unsubscribe or preferences links: any would be
// someone else's, or not valid.
func (s *Service) links(subscriberID int64, list string, issue int64) templates.Links {
	base := strings.TrimRight(s.PublicURL, "/")
	var l templates.Links
	if issue > 0 && !s.NoArchive {
		l.Browser = ArchiveURL(s.PublicURL, issue)
	}
	if subscriberID == 0 {
		return l
	}
	tok := func(purpose string) string {
		return url.PathEscape(s.Signer.Sign(subscribers.Token{Purpose: purpose, Subscriber: subscriberID, List: list}))
	}
	l.Unsubscribe = base + "/unsubscribe/" + tok(subscribers.PurposeUnsubscribe)
	l.Preferences = base + "/preferences/" + tok(subscribers.PurposePreferences)
	return l
}

// ArchiveURL is the page of issue (a campaign's ID) in the web archive
// that `newsletter serve` answers at publicURL.
func ArchiveURL(publicURL string, issue int64) string {
	return strings.TrimRight(publicURL, "/") + "/archive/" + strconv.FormatInt(issue, 10)
}

// compose renders and builds the message of one reader: the campaign's
// articles in the reader's categories, the reader's links, the headers.
func (s *Service) compose(spec messageSpec, r *newsletter.Recipient) (*mailer.Built, error) {
	arts := newsletter.MatchArticles(spec.articles, r.Categories)
	if len(arts) == 0 {
		return nil, newsletter.Errorf(newsletter.EINVALID, "no article of this campaign is in %s's categories", r.Email)
	}
	content, err := s.Renderer.Content(spec.kind, s.withPages(arts))
	if err != nil {
		return nil, err
	}
	links := s.links(r.SubscriberID, spec.list, spec.issue)
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
	if s.VERP != nil && r.DeliveryID != 0 {
		built.From = s.VERP.Address(r.DeliveryID) // MAIL FROM; Return-Path once delivered
	}
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

// withPages gives each article without a URL of its own its page in the web
// archive, /articles/SLUG, so that its title links to its full text. The
// articles are copied; with the archive off, they are returned as they are.
func (s *Service) withPages(arts []*newsletter.Article) []*newsletter.Article {
	if s.NoArchive {
		return arts
	}
	out := make([]*newsletter.Article, len(arts))
	for i, a := range arts {
		out[i] = a
		if a.URL == "" {
			c := *a
			c.URL = strings.TrimRight(s.PublicURL, "/") + "/articles/" + url.PathEscape(a.Slug)
			out[i] = &c
		}
	}
	return out
}
