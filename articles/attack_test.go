package articles_test

// Attack tests (branch attack13): titles and dates from hostile feeds.

import (
	"testing"

	"github.com/example/newsletter/articles"
)

func oneItem(t *testing.T, title, date string) (string, string, error) {
	t.Helper()
	src := rssItems(`<item><title>` + title + `</title><guid>g</guid><pubDate>` + date + `</pubDate></item>`)
	arts, errs := articles.ParseFeed("f.rss", src, "")
	if len(arts) == 0 {
		return "", "", errs[0]
	}
	return arts[0].Title, arts[0].Date.Format("2006-01-02"), nil
}

// FAILS: a title holding '&' or '<' goes through HTML→Markdown
// (htmlText in articles/feed.go), and Markdown punctuation written as text
// is lost: backslashes, asterisks, underscores, backticks. The same title
// without the '&' keeps them.
func TestAttack_TitlePunctuationSurvives(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`Q&amp;A: *why* it matters`, `Q&A: *why* it matters`},
		{`C:\Users &amp; C:\Temp`, `C:\Users & C:\Temp`},
		{"Use `go vet` &amp; `staticcheck`", "Use `go vet` & `staticcheck`"},
		{`snake_case_names &amp; you`, `snake_case_names & you`},
	} {
		got, _, err := oneItem(t, c.in, "Mon, 30 Nov 2026 08:00:00 +0000")
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("title %q stored as %q, want %q", c.in, got, c.want)
		}
	}
	// Control: no '&', punctuation kept.
	if got, _, _ := oneItem(t, `Why *this* matters`, "Mon, 30 Nov 2026 08:00:00 +0000"); got != `Why *this* matters` {
		t.Errorf("control: %q", got)
	}
}

// FAILS: the year bounds (1000..9999) apply only to dates the feed library
// could not read; "0002-01-01T00:00:00Z" is taken as the year 2 while
// "0001-01-01T00:00:00Z" is refused.
func TestAttack_AncientDateRefused(t *testing.T) {
	if _, d, err := oneItem(t, "Old", "0002-01-01T00:00:00Z"); err == nil {
		t.Errorf("year-2 date accepted as %s (year 1 is refused)", d)
	}
}

// Recorded: a title with a right-to-left override and zero-width space is
// stored as is (it becomes a mail subject line); the slug is ASCII.
func TestAttack_BidiTitle(t *testing.T) {
	got, _, err := oneItem(t, "Invoice \u202egpj.exe\u202c \u200b&amp; more", "Mon, 30 Nov 2026 08:00:00 +0000")
	t.Logf("title %q err %v; slug %q", got, err, articles.Slugify(got))
}
