package templates

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown converts article Markdown to HTML and to plain text. One goldmark
// instance serves every article; raw HTML in the Markdown is dropped (the
// default renderer omits it), and links and images are made absolute against
// the site URL.
type markdown struct {
	md   goldmark.Markdown
	base *url.URL
}

func newMarkdown(siteURL string) *markdown {
	var base *url.URL
	if u, err := url.Parse(siteURL); err == nil && u.IsAbs() {
		base = u
	}
	m := &markdown{base: base}
	m.md = goldmark.New(
		goldmark.WithExtensions(extension.Strikethrough, extension.Linkify),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(m, 100))),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(imageRenderer{}, 100))),
	)
	return m
}

// ContentWidth is the width in pixels of the column articles are set in:
// the 600 px message less its side padding. Images are given it as their
// width attribute (Outlook needs one) and shrink below it on a phone.
const ContentWidth = 536

// Transform makes link and image destinations absolute and moves headings
// below the article's own title (an h2): # and ## become h3.
func (m *markdown) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			n.Destination = m.absolute(n.Destination)
		case *ast.Image:
			n.Destination = m.absolute(n.Destination)
		case *ast.Heading:
			n.Level = min(6, max(3, n.Level+1))
		}
		return ast.WalkContinue, nil
	})
}

func (m *markdown) absolute(dest []byte) []byte {
	if m.base == nil || len(dest) == 0 {
		return dest
	}
	u, err := url.Parse(string(dest))
	if err != nil || u.IsAbs() || strings.HasPrefix(string(dest), "//") {
		return dest
	}
	return []byte(m.base.ResolveReference(u).String())
}

func (m *markdown) parse(src []byte) ast.Node {
	return m.md.Parser().Parse(text.NewReader(src))
}

// HTML renders Markdown as HTML.
func (m *markdown) HTML(src string) (string, error) {
	b := []byte(src)
	var buf bytes.Buffer
	if err := m.md.Renderer().Render(&buf, b, m.parse(b)); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// Text renders Markdown as plain text for the text/plain part: paragraphs
// wrapped at width, lists with hanging indents, headings underlined, code
// kept as it is, and links as numbered references listed at the end.
func (m *markdown) Text(src string, width int) string {
	b := []byte(src)
	t := &textRenderer{src: b, width: width}
	doc := m.parse(b)
	t.blocks(doc, "", "")
	out := strings.TrimRight(t.out.String(), "\n")
	if len(t.refs) > 0 {
		out += "\n\n"
		for i, r := range t.refs {
			out += fmt.Sprintf("[%d] %s\n", i+1, r)
		}
		out = strings.TrimRight(out, "\n")
	}
	return out
}

type textRenderer struct {
	src   []byte
	width int
	out   strings.Builder
	refs  []string
}

// blocks writes the block children of n; first is the prefix of the first
// line, rest of the lines after it (for list items and quotes).
func (t *textRenderer) blocks(n ast.Node, first, rest string) {
	i := 0
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		p := rest
		if i == 0 {
			p = first
		} else if c.Kind() != ast.KindList || n.Kind() != ast.KindListItem {
			t.out.WriteString(strings.TrimRight(rest, " ") + "\n")
		}
		t.block(c, p, rest)
		i++
	}
}

func (t *textRenderer) block(n ast.Node, first, rest string) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		t.out.WriteString(wrapPrefixed(t.inline(n), t.width, first, rest))
		t.out.WriteString("\n")
	case *ast.Heading:
		s := t.inline(n)
		t.out.WriteString(wrapPrefixed(s, t.width, first, rest) + "\n")
		mark := "-"
		if n.Level == 1 {
			mark = "="
		}
		t.out.WriteString(rest + strings.Repeat(mark, min(runeLen(s), t.width-len(rest))) + "\n")
	case *ast.List:
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			marker := "- "
			if n.IsOrdered() {
				marker = fmt.Sprintf("%d. ", num)
				num++
			}
			pad := strings.Repeat(" ", runeLen(marker))
			if item != n.FirstChild() {
				first = rest
				if !n.IsTight {
					t.out.WriteString(strings.TrimRight(rest, " ") + "\n")
				}
			}
			t.blocks(item, first+marker, rest+pad)
		}
	case *ast.Blockquote:
		t.blocks(n, first+"> ", rest+"> ")
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			p := rest
			if i == 0 {
				p = first
			}
			t.out.WriteString(p + "    " + strings.TrimRight(string(seg.Value(t.src)), "\r\n") + "\n")
		}
	case *ast.ThematicBreak:
		t.out.WriteString(first + strings.Repeat("-", 20) + "\n")
	case *ast.HTMLBlock:
		// raw HTML is dropped, as in the HTML part
	default:
		if n.HasChildren() {
			t.blocks(n, first, rest)
		}
	}
}

// inline returns the plain text of n's inline children; links get a
// reference number.
func (t *textRenderer) inline(n ast.Node) string {
	var b strings.Builder
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				v := c.Value(t.src)
				if !c.IsRaw() {
					v = util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(v)))
				}
				b.Write(v)
				if c.HardLineBreak() {
					b.WriteString("\n")
				} else if c.SoftLineBreak() {
					b.WriteString(" ")
				}
			case *ast.String:
				b.Write(c.Value)
			case *ast.CodeSpan:
				walk(c)
			case *ast.Link:
				walk(c)
				t.refs = append(t.refs, string(c.Destination))
				fmt.Fprintf(&b, " [%d]", len(t.refs))
			case *ast.AutoLink:
				b.Write(c.URL(t.src))
			case *ast.Image:
				alt := strings.TrimSpace(t.inlineOf(c))
				if alt != "" {
					fmt.Fprintf(&b, "[%s]", alt)
				}
			case *ast.RawHTML:
				// dropped
			default:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

func (t *textRenderer) inlineOf(n ast.Node) string {
	saved := t.refs
	s := t.inline(n)
	t.refs = saved
	return s
}

// imageRenderer writes every image at the column width, with alt text.
type imageRenderer struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (imageRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindImage, renderImage)
}

func renderImage(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	w.WriteString(`<img src="`)
	if !html.IsDangerousURL(n.Destination) {
		w.Write(util.EscapeHTML(util.URLEscape(n.Destination, true)))
	}
	w.WriteString(`" alt="`)
	w.Write(util.EscapeHTML([]byte(strings.TrimSpace(plainText(n, src)))))
	fmt.Fprintf(w, `" width="%d"`, ContentWidth)
	if n.Title != nil {
		w.WriteString(` title="`)
		w.Write(util.EscapeHTML(n.Title))
		w.WriteString(`"`)
	}
	w.WriteString(">")
	return ast.WalkSkipChildren, nil
}

// plainText is the text of n's inline children.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
		case *ast.String:
			b.Write(c.Value)
		default:
			b.WriteString(plainText(c, src))
		}
	}
	return b.String()
}
