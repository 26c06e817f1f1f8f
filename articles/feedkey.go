package articles

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// FeedScope is the form of a feed's scope (its channel link, else its URL)
// that goes into its items' keys: the host in lower case without "www." and
// without the scheme's default port, then the path without a trailing slash
// and the query; no scheme, user or fragment. A site that moves to https,
// adds a trailing slash or a "www." keeps its items' keys. A scope that is
// not an absolute URL (a file name) is only trimmed of spaces and a trailing
// slash.
func FeedScope(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return strings.TrimRight(s, "/")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	host = strings.TrimPrefix(host, "www.")
	if port != "" && !(port == "80" && u.Scheme == "http") && !(port == "443" && u.Scheme == "https") {
		host += ":" + port
	}
	out := host + strings.TrimRight(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out
}

// itemKey identifies a feed item across fetches: its guid, else its link,
// else a hash of its title and day followed by a hash of its title and full
// timestamp, within the feed's scope (see FeedScope). The day's hash alone
// was the key before, so a key stored then is still found (LegacyItemKey).
func itemKey(scope, guid, link, title string, date time.Time) string {
	switch {
	case guid != "":
		return "feed:" + scope + "#guid:" + guid
	case link != "":
		return "feed:" + scope + "#link:" + link
	}
	day := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC)
	old := sha256.Sum256([]byte(title + "\x00" + day.Format(newsletter.DateLayout)))
	full := sha256.Sum256([]byte(title + "\x00" + date.UTC().Format(time.RFC3339Nano)))
	return "feed:" + scope + "#item:" + hex.EncodeToString(old[:8]) + "-" + hex.EncodeToString(full[:8])
}

// LegacyItemKey returns the key that a feed item without guid or link had
// before keys held its full timestamp (the title and day's hash only), or ""
// when key is not such an item's key.
func LegacyItemKey(key string) string {
	i := strings.LastIndex(key, "#item:")
	if !strings.HasPrefix(key, "feed:") || i < 0 {
		return ""
	}
	old, _, ok := strings.Cut(key[i+len("#item:"):], "-")
	if !ok {
		return ""
	}
	return key[:i] + "#item:" + old
}
