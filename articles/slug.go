package articles

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxSlug is the longest slug Slugify makes.
const maxSlug = 80

// Slugify makes a stable ASCII slug from a title: accents dropped, lower
// case, runs of anything else turned into one hyphen. A title with no ASCII
// letters or digits gets "article-" and a hash of the title.
func Slugify(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFKD.String(title) {
		switch {
		case unicode.Is(unicode.Mn, r), r == '\'', r == '’', r == '‘':
			// accents and apostrophes vanish: "Calderón’s" → "calderons"
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(unicode.ToLower(r))
		default:
			hyphen = true
		}
	}
	s := b.String()
	if len(s) > maxSlug {
		s = s[:maxSlug]
		if i := strings.LastIndexByte(s, '-'); i > maxSlug/2 {
			s = s[:i]
		}
		s = strings.Trim(s, "-")
	}
	if s == "" {
		sum := sha256.Sum256([]byte(title))
		s = "article-" + hex.EncodeToString(sum[:4])
	}
	return s
}

// ValidSlug reports whether s is a slug as Slugify makes them: lower-case
// ASCII letters and digits in hyphen-separated runs.
func ValidSlug(s string) bool {
	if s == "" || len(s) > 200 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// SummaryLength is the length a summary is cut near.
const SummaryLength = 300

// Summarize returns text cut at a word boundary at or before n characters,
// with an ellipsis when it was cut.
func Summarize(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.-–—") + "…"
}

// JoinURL joins a slug to the site URL; it returns "" when there is no site
// URL.
func JoinURL(siteURL, slug string) string {
	if siteURL == "" {
		return ""
	}
	u, err := url.Parse(siteURL)
	if err != nil {
		return ""
	}
	return u.JoinPath(slug).String()
}
