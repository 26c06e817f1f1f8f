package campaign

import (
	"context"
	"html/template"

	"github.com/example/newsletter"
)

// The web archive (web.Archive): past issues as a reader of every category
// saw them, with nobody's links.

// ArchiveLimit is how many issues the archive lists.
const ArchiveLimit = 100

// Issues returns the issues that reached readers, newest first.
func (s *Service) Issues(ctx context.Context) ([]*newsletter.Issue, error) {
	return s.DB.Issues(ctx, ArchiveLimit)
}

// IssueHTML returns issue id and its message as a reader of every category
// got it, as an HTML document with no reader's name, address or tokens.
func (s *Service) IssueHTML(ctx context.Context, id int64) (*newsletter.Issue, string, error) {
	is, err := s.DB.Issue(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if len(is.Articles) == 0 {
		return nil, "", newsletter.Errorf(newsletter.ENOTFOUND, "issue %d has no articles left", id)
	}
	m, err := s.Renderer.Archived(is.Kind, s.withPages(is.Articles))
	if err != nil {
		return nil, "", err
	}
	return is, m.HTML, nil
}

// ArticleHTML returns the article with slug and its body as HTML, when it
// was in an issue that reached readers (else ENOTFOUND).
func (s *Service) ArticleHTML(ctx context.Context, slug string) (*newsletter.Article, template.HTML, error) {
	a, err := s.DB.ArticleBySlug(ctx, slug)
	if err != nil {
		return nil, "", err
	}
	// A draft, an embargoed article or one never mailed is not public.
	if ok, err := s.DB.Published(ctx, a.ID); err != nil {
		return nil, "", err
	} else if !ok {
		return nil, "", newsletter.Errorf(newsletter.ENOTFOUND, "no article %q in the archive", slug)
	}
	body, err := s.Renderer.BodyHTML(a)
	return a, body, err
}
