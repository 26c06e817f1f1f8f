package articles

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlSummaryText returns the text of the first block of an HTML fragment
// that is not a heading or a rule, as a reader sees it rendered: no markup,
// no Markdown syntax, white space collapsed. Plain text passes through
// unchanged but for white space.
func htmlSummaryText(src string) string {
	root, err := html.Parse(strings.NewReader(ugc.Sanitize(src)))
	if err != nil {
		return ""
	}
	var blocks []string
	var cur strings.Builder
	end := func() {
		if t := strings.Join(strings.Fields(cur.String()), " "); t != "" {
			blocks = append(blocks, t)
		}
		cur.Reset()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for ch := n.FirstChild; ch != nil && len(blocks) == 0; ch = ch.NextSibling {
			switch {
			case ch.Type == html.TextNode:
				cur.WriteString(ch.Data)
			case ch.Type != html.ElementNode:
			case ch.DataAtom == atom.Head, ch.DataAtom == atom.Script, ch.DataAtom == atom.Style:
			case ch.DataAtom == atom.H1, ch.DataAtom == atom.H2, ch.DataAtom == atom.H3,
				ch.DataAtom == atom.H4, ch.DataAtom == atom.H5, ch.DataAtom == atom.H6, ch.DataAtom == atom.Hr:
				end() // a heading is never the summary: skip its text
			case ch.DataAtom == atom.Br:
				cur.WriteByte(' ')
			case isBlock(ch.DataAtom):
				end()
				walk(ch)
				end()
			default:
				walk(ch)
			}
		}
	}
	walk(root)
	end()
	if len(blocks) == 0 {
		return ""
	}
	return blocks[0]
}

// htmlText returns the text of an HTML fragment such as a feed item's
// title: entities unescaped, tags dropped (and what script and style
// elements hold), white space collapsed. The text is not Markdown: its
// punctuation is kept as written.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	root, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			switch {
			case ch.Type == html.TextNode:
				b.WriteString(ch.Data)
			case ch.Type != html.ElementNode:
			case ch.DataAtom == atom.Script, ch.DataAtom == atom.Style:
			case ch.DataAtom == atom.Br:
				b.WriteByte(' ')
			default:
				walk(ch)
			}
		}
	}
	walk(root)
	return strings.Join(strings.Fields(b.String()), " ")
}
