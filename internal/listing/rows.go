package listing

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/example/newsletter"
)

// Row is one object of a listing: its cells in a table or CSV, and its
// shape in JSON (the field names are part of the command-line contract).
type Row struct {
	Cells []string
	JSON  any
}

// Add writes r.
func (l *Writer) Add(r Row) error { return l.Row(r.Cells, r.JSON) }

// Headers of the listings.
var (
	CampaignHeader = []string{"id", "kind", "list", "status", "articles", "recipients", "sent", "deferred", "failed", "unknown", "pending", "created_at",
		"bounced", "complained", "bounce_rate", "complaint_rate"}
	DeliveryHeader   = []string{"campaign", "email", "status", "attempts", "code", "error", "message_id", "updated_at"}
	BounceHeader     = []string{"campaign", "email", "kind", "source", "status", "diagnostic", "delivery_status", "subscriber_status", "at"}
	SubscriberHeader = []string{"email", "name", "status", "categories", "lists"}
	ArticleHeader    = []string{"date", "slug", "title", "categories", "url"}
	CategoryHeader   = []string{"name", "articles", "subscribers"}
	ListHeader       = []string{"name", "members", "active"}
)

type campaignJSON struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	List       string `json:"list"`
	Status     string `json:"status"`
	Subject    string `json:"subject"`
	Articles   int    `json:"articles"`
	Recipients int    `json:"recipients"`
	Pending    int    `json:"pending"`
	Sending    int    `json:"sending"`
	Sent       int    `json:"sent"`
	Failed     int    `json:"failed"`
	Unknown    int    `json:"unknown"`
	Deferred   int    `json:"deferred"`
	CreatedAt  string `json:"created_at"`
	FinishedAt string `json:"finished_at"`
	// After the relay: bounces and complaints that came back.
	Bounced       int     `json:"bounced"`
	Complained    int     `json:"complained"`
	BounceRate    float64 `json:"bounce_rate"`
	ComplaintRate float64 `json:"complaint_rate"`
}

// Campaign is a campaign's row, with the bounces and complaints reported
// about it.
func Campaign(c *newsletter.Campaign, b newsletter.CampaignBounces) Row {
	return Row{
		Cells: []string{fmt.Sprint(c.ID), c.Kind, c.List, c.Status, strconv.Itoa(c.Articles), strconv.Itoa(c.Recipients),
			strconv.Itoa(c.Sent), strconv.Itoa(c.Deferred), strconv.Itoa(c.Failed), strconv.Itoa(c.Unknown), strconv.Itoa(c.Pending + c.Sending), Time(c.CreatedAt),
			strconv.Itoa(b.Bounced), strconv.Itoa(b.Complained), Percent(b.BounceRate()), Percent(b.ComplaintRate())},
		JSON: campaignJSON{c.ID, c.Kind, c.List, c.Status, c.Subject, c.Articles, c.Recipients, c.Pending, c.Sending,
			c.Sent, c.Failed, c.Unknown, c.Deferred, Time(c.CreatedAt), Time(c.FinishedAt),
			b.Bounced, b.Complained, b.BounceRate(), b.ComplaintRate()},
	}
}

// Percent writes a rate such as 0.0012 as "0.12%".
func Percent(r float64) string { return fmt.Sprintf("%.2f%%", 100*r) }

type deliveryJSON struct {
	Campaign  int64  `json:"campaign"`
	Email     string `json:"email"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	Code      int    `json:"code"`
	Error     string `json:"error"`
	MessageID string `json:"message_id"`
	UpdatedAt string `json:"updated_at"`
}

// Delivery is a row of the delivery log.
func Delivery(d *newsletter.Delivery) Row {
	return Row{
		Cells: []string{strconv.FormatInt(d.CampaignID, 10), d.Email, d.Status, strconv.Itoa(d.Attempts), strconv.Itoa(d.Code), d.Error, d.MessageID, Time(d.UpdatedAt)},
		JSON:  deliveryJSON{d.CampaignID, d.Email, d.Status, d.Attempts, d.Code, d.Error, d.MessageID, Time(d.UpdatedAt)},
	}
}

type bounceJSON struct {
	Campaign         int64  `json:"campaign"`
	Email            string `json:"email"`
	Kind             string `json:"kind"`
	Source           string `json:"source"`
	Status           string `json:"status"`
	Diagnostic       string `json:"diagnostic"`
	Recipient        string `json:"recipient"`
	DeliveryStatus   string `json:"delivery_status"`
	SubscriberStatus string `json:"subscriber_status"`
	At               string `json:"at"`
}

// Bounce is a recorded bounce or complaint and what it changed.
func Bounce(r *newsletter.BounceRecord) Row {
	return Row{
		Cells: []string{strconv.FormatInt(r.CampaignID, 10), r.Email, r.Kind, r.Source, r.Status, r.Diagnostic,
			r.Effect.DeliveryStatus, r.Effect.SubscriberStatus, Time(r.At)},
		JSON: bounceJSON{r.CampaignID, r.Email, r.Kind, r.Source, r.Status, r.Diagnostic, r.Recipient,
			r.Effect.DeliveryStatus, r.Effect.SubscriberStatus, Time(r.At)},
	}
}

type subscriberJSON struct {
	Email           string   `json:"email"`
	Name            string   `json:"name"`
	Status          string   `json:"status"`
	Categories      []string `json:"categories"`
	Lists           []string `json:"lists"`
	StatusChangedAt string   `json:"status_changed_at"`
}

// Subscriber is a subscriber's row; no categories reads "(all)".
func Subscriber(s *newsletter.Subscriber) Row {
	cats := strings.Join(s.Categories, ", ")
	if cats == "" {
		cats = "(all)"
	}
	return Row{
		Cells: []string{s.Email, s.Name, s.Status, cats, strings.Join(s.Lists, ", ")},
		JSON:  subscriberJSON{s.Email, s.Name, s.Status, NonNil(s.Categories), NonNil(s.Lists), Time(s.StatusChangedAt)},
	}
}

type articleJSON struct {
	Slug       string   `json:"slug"`
	Title      string   `json:"title"`
	Date       string   `json:"date"`
	Categories []string `json:"categories"`
	URL        string   `json:"url"`
	Summary    string   `json:"summary"`
	Author     string   `json:"author,omitempty"`
	Body       string   `json:"body,omitempty"`
}

// Article is an article's row; its JSON holds the body only withBody.
func Article(ar *newsletter.Article, withBody bool) Row {
	j := articleJSON{Slug: ar.Slug, Title: ar.Title, Date: ar.Date.Format(newsletter.DateLayout),
		Categories: NonNil(ar.Categories), URL: ar.URL, Summary: ar.Summary, Author: ar.Author}
	if withBody {
		j.Body = ar.Body
	}
	return Row{
		Cells: []string{ar.Date.Format(newsletter.DateLayout), ar.Slug, ar.Title, strings.Join(ar.Categories, ", "), ar.URL},
		JSON:  j,
	}
}

type categoryJSON struct {
	Name        string `json:"name"`
	Articles    int    `json:"articles"`
	Subscribers int    `json:"subscribers"`
}

// Category is a category with its counts.
func Category(c newsletter.Category) Row {
	return Row{Cells: []string{c.Name, strconv.Itoa(c.Articles), strconv.Itoa(c.Subscribers)}, JSON: categoryJSON{c.Name, c.Articles, c.Subscribers}}
}

type listJSON struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
	Active  int    `json:"active"`
}

// List is a list with its member counts.
func List(l newsletter.List) Row {
	return Row{Cells: []string{l.Name, fmt.Sprint(l.Members), fmt.Sprint(l.Active)}, JSON: listJSON{l.Name, l.Members, l.Active}}
}
