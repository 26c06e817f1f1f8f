package newsletter

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Article is one piece of the organisation's news, as parsed from a source
// file or feed and as stored.
type Article struct {
	ID         int64
	Key        string    // identity per source (feed guid, file, post date and title); the same key again updates
	Slug       string    // unique ASCII identifier, made from the title; suffixed when taken
	Title      string    // as written, typographic characters intact
	Date       time.Time // publication date (midnight UTC)
	Categories []string  // display names, cleaned and de-duplicated
	Added      []string  // of Categories, those the source adds (a [[feed]]'s categories): another source's are kept; not stored
	Body       string    // Markdown
	Summary    string    // plain text, about 300 characters at most
	URL        string    // absolute link to the article on the site, may be empty
	SlugURL    bool      // URL was made from the site URL and Slug, so it follows a changed slug; not stored
	Image      string    // absolute URL of a lead image, may be empty
	ImageAlt   string    // the lead image's alt text, may be empty
	Author     string
	Source     string // where the article was read from (file name or URL)
	Hash       string // content hash; an unchanged hash means nothing to update
}

// DateLayout is the layout of article dates in the store, in JSON and on the
// command line.
const DateLayout = "2006-01-02"

// ComputeHash sets a.Hash from the article's content. Source and ID are not
// part of the content.
func (a *Article) ComputeHash() {
	h := sha256.New()
	for _, s := range []string{a.Slug, a.Title, a.Date.Format(DateLayout), strings.Join(a.Categories, "\x1f"), a.Body, a.Summary, a.URL, a.Author} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if a.Image != "" || a.ImageAlt != "" { // so that articles without one keep their hash
		h.Write([]byte(a.Image + "\x00" + a.ImageAlt + "\x00"))
	}
	a.Hash = hex.EncodeToString(h.Sum(nil))
}

// ArticleFilter selects articles in a listing. Zero fields do not filter.
type ArticleFilter struct {
	Category string    // matched without regard to case
	Since    time.Time // published on or after
	// Limit, when above 0, returns at most Limit articles after the first
	// Offset.
	Limit, Offset int
}

// UpsertResult says what storing one article did.
type UpsertResult string

// Outcomes of storing an article.
const (
	Added     UpsertResult = "added"
	Updated   UpsertResult = "updated"
	Unchanged UpsertResult = "unchanged"
)
