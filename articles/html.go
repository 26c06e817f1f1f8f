package articles

import (
	"net/url"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ugc drops scripts, styles, event handlers and anything else unsafe from
// HTML that comes from outside (feeds) before it is converted.
var ugc = bluemonday.UGCPolicy()

// HTMLToMarkdown converts HTML (a feed item's content) into the Markdown
// articles are stored in: paragraphs, headings, lists, quotes, code, links
// (made absolute against base), emphasis. Images, tables and anything else
// become their text. The HTML is sanitised first.
func HTMLToMarkdown(src, base string) string {
	root, err := html.Parse(strings.NewReader(ugc.Sanitize(src)))
	if err != nil {
		return ""
	}
	c := &converter{}
	if u, err := url.Parse(base); err == nil && u.IsAbs() {
		c.base = u
	}
	c.blocks(root, "")
	c.flush("")
	return strings.TrimSpace(strings.Join(c.out, "\n\n"))
}

type converter struct {
	base   *url.URL
	out    []string        // finished blocks
	inline strings.Builder // the paragraph being built
}

// flush ends the paragraph being built, with prefix before each of its
// lines.
func (c *converter) flush(prefix string) {
	text := strings.TrimSpace(c.inline.String())
	c.inline.Reset()
	if text == "" {
		return
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = prefix + escapeLineStart(strings.TrimSpace(l))
	}
	c.out = append(c.out, strings.Join(lines, "\n"))
}

// escapeLineStart escapes what would start a list, heading rule or
// numbered item at the beginning of a line.
func escapeLineStart(l string) string {
	if l == "" {
		return l
	}
	if strings.ContainsRune("-+=", rune(l[0])) {
		return "\\" + l
	}
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i < len(l) && (l[i] == '.' || l[i] == ')') {
		return l[:i] + "\\" + l[i:]
	}
	return l
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Main, atom.Aside,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Ul, atom.Ol, atom.Li, atom.Blockquote,
		atom.Pre, atom.Table, atom.Tr, atom.Figure, atom.Hr, atom.Dl, atom.Dt, atom.Dd:
		return true
	}
	return false
}

// blocks converts the children of n; prefix is put before every line (for
// quotes).
func (c *converter) blocks(n *html.Node, prefix string) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if ch.Type == html.ElementNode && (ch.DataAtom == atom.Html || ch.DataAtom == atom.Body) {
			c.blocks(ch, prefix)
			continue
		}
		if ch.Type == html.ElementNode && ch.DataAtom == atom.Head {
			continue
		}
		if ch.Type != html.ElementNode || !isBlock(ch.DataAtom) {
			c.inlineNode(ch)
			continue
		}
		c.flush(prefix)
		switch ch.DataAtom {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			level := int(ch.Data[1] - '0')
			c.inlineChildren(ch)
			text := strings.Join(strings.Fields(c.inline.String()), " ")
			c.inline.Reset()
			if text != "" {
				c.out = append(c.out, prefix+strings.Repeat("#", level)+" "+text)
			}
		case atom.Ul, atom.Ol:
			c.list(ch, prefix)
		case atom.Blockquote:
			c.blocks(ch, prefix+"> ")
			c.flush(prefix + "> ")
		case atom.Pre:
			code := strings.Trim(textOf(ch), "\n")
			if code != "" {
				fence := "```"
				for strings.Contains(code, fence) {
					fence += "`"
				}
				lines := strings.Split(fence+"\n"+code+"\n"+fence, "\n")
				for i := range lines {
					lines[i] = prefix + lines[i]
				}
				c.out = append(c.out, strings.Join(lines, "\n"))
			}
		case atom.Hr:
			c.out = append(c.out, prefix+"---")
		default:
			c.blocks(ch, prefix)
			c.flush(prefix)
		}
	}
}

func (c *converter) list(n *html.Node, prefix string) {
	num := 1
	var items []string
	for li := n.FirstChild; li != nil; li = li.NextSibling {
		if li.Type != html.ElementNode || li.DataAtom != atom.Li {
			continue
		}
		sub := &converter{base: c.base}
		sub.blocks(li, "")
		sub.flush("")
		text := strings.Join(sub.out, "\n")
		if text == "" {
			continue
		}
		marker := "- "
		if n.DataAtom == atom.Ol {
			marker = itoa(num) + ". "
			num++
		}
		pad := strings.Repeat(" ", len(marker))
		lines := strings.Split(text, "\n")
		for i := range lines {
			if i == 0 {
				lines[i] = prefix + marker + lines[i]
			} else if lines[i] != "" {
				lines[i] = prefix + pad + lines[i]
			}
		}
		items = append(items, strings.Join(lines, "\n"))
	}
	if len(items) > 0 {
		c.out = append(c.out, strings.Join(items, "\n"))
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func (c *converter) inlineChildren(n *html.Node) {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		c.inlineNode(ch)
	}
}

// inlineNode appends the Markdown of an inline node to the paragraph.
func (c *converter) inlineNode(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		text := strings.Join(strings.Fields(n.Data), " ")
		if text == "" {
			if strings.TrimSpace(n.Data) == "" && n.Data != "" && c.inline.Len() > 0 {
				c.space()
			}
			return
		}
		if n.Data[0] == ' ' || n.Data[0] == '\n' || n.Data[0] == '\t' {
			c.space()
		}
		c.inline.WriteString(escapeInline(text))
		if last := n.Data[len(n.Data)-1]; last == ' ' || last == '\n' || last == '\t' {
			c.space()
		}
	case html.ElementNode:
		switch n.DataAtom {
		case atom.Br:
			c.inline.WriteString("\\\n")
		case atom.Strong, atom.B:
			c.wrapped(n, "**")
		case atom.Em, atom.I:
			c.wrapped(n, "*")
		case atom.Code:
			code := strings.ReplaceAll(textOf(n), "`", "'")
			if code != "" {
				c.inline.WriteString("`" + code + "`")
			}
		case atom.A:
			href := c.link(attr(n, "href"))
			start := c.inline.Len()
			c.inlineChildren(n)
			text := strings.TrimSpace(c.inline.String()[start:])
			s := c.inline.String()[:start]
			c.inline.Reset()
			c.inline.WriteString(s)
			switch {
			case text == "":
			case href == "":
				c.inline.WriteString(text)
			default:
				c.inline.WriteString("[" + text + "](" + href + ")")
			}
		case atom.Img, atom.Script, atom.Style:
			// images are left out: mail must not need remote images
		default:
			c.inlineChildren(n)
		}
	}
}

func (c *converter) space() {
	s := c.inline.String()
	if s != "" && !strings.HasSuffix(s, " ") && !strings.HasSuffix(s, "\n") {
		c.inline.WriteByte(' ')
	}
}

func (c *converter) wrapped(n *html.Node, mark string) {
	start := c.inline.Len()
	c.inlineChildren(n)
	inner := c.inline.String()[start:]
	trimmed := strings.TrimSpace(inner)
	s := c.inline.String()[:start]
	c.inline.Reset()
	c.inline.WriteString(s)
	if trimmed == "" {
		c.inline.WriteString(inner)
		return
	}
	if strings.HasPrefix(inner, " ") {
		c.space()
	}
	c.inline.WriteString(mark + trimmed + mark)
	if strings.HasSuffix(inner, " ") {
		c.space()
	}
}

// link makes href absolute; only http, https and mailto links are kept.
func (c *converter) link(href string) string {
	href = strings.TrimSpace(href)
	if href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	if !u.IsAbs() && c.base != nil {
		u = c.base.ResolveReference(u)
	}
	switch u.Scheme {
	case "http", "https", "mailto":
		return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u.String())
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(n)
	return b.String()
}

// escapeInline escapes Markdown syntax inside a line of text.
func escapeInline(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>#|~&!", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
