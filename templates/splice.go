package templates

import (
	"strings"
	"sync"
	"unicode"
)

// Splicing: the articles of a Content are the same for every reader, so a
// send renders and encodes them once and each reader's message is spliced
// from a personal head (the layout up to the content, with the greeting),
// the shared block, and a personal tail (the footer and its links).
//
// The seams are hard line breaks: the shared block is the content from
// the end of its first line to the end of its last non-blank line, so that
// an encoder that works line by line (quoted-printable) and tidyText give
// the same bytes for head + block + tail as for the whole part. The layout
// is rendered per reader with a marker in place of the content and cut
// there; a layout without exactly one marker is rendered whole (Render).

// contentMarker stands for the content in a reader's layout.
const contentMarker = "\ufffenewsletter-content\ufffe"

// Block is a shared block of a message part: the same text for every
// reader of one Content.
type Block struct {
	Text string
	once sync.Once
	enc  []byte
}

// Encoded returns the block encoded by encode, which runs once per block.
func (b *Block) Encoded(encode func(string) []byte) []byte {
	b.once.Do(func() { b.enc = encode(b.Text) })
	return b.enc
}

// SplicedPart is one part (text or HTML) of a reader's message: the
// strings of Head, Shared.Text and the strings of Tail, joined, are the
// part as Render makes it. Without Shared, Head is the whole part. A seam
// between two strings of Head (or of Tail) may fall inside a line; the
// seams around Shared are line breaks.
type SplicedPart struct {
	Head   []string
	Shared *Block
	Tail   []string
}

// Spliced is a message for one reader, in pieces.
type Spliced struct {
	Subject    string
	Text, HTML SplicedPart
}

// Whole returns the part in one string.
func (p SplicedPart) Whole() string {
	s := strings.Join(p.Head, "")
	if p.Shared != nil {
		s += p.Shared.Text
	}
	return s + strings.Join(p.Tail, "")
}

// blocks are a Content's shared blocks, cut once: the HTML content as it
// goes into the layout, and the text content tidied.
type blocks struct {
	once sync.Once
	// html: the content is html[:hA] + block + html[hB:].
	html   *Block
	hA, hB int
	// text: the content is text[:tA] + block (tidied) + text[tB:].
	text   *Block
	tA, tB int
}

// interior returns the bounds of the lines of s between its first line
// and its last non-blank line: s[a:b] starts after a line break with a
// non-blank line and ends with the line break of a non-blank line. ok is
// false when there are no such lines.
func interior(s string) (a, b int, ok bool) {
	a = strings.IndexByte(s, '\n') + 1
	if a == 0 {
		return 0, 0, false
	}
	for a < len(s) {
		e := strings.IndexByte(s[a:], '\n')
		if e < 0 {
			return 0, 0, false
		}
		if strings.TrimRight(s[a:a+e], " \t\r") != "" {
			break
		}
		a += e + 1
	}
	b = strings.LastIndexByte(s, '\n') + 1
	for b > a {
		s0 := strings.LastIndexByte(s[:b-1], '\n') + 1
		if strings.TrimRight(s[s0:b-1], " \t\r") != "" {
			break
		}
		b = s0
	}
	return a, b, b > a
}

func (c *Content) cut() *blocks {
	c.blocks.once.Do(func() {
		bl := &c.blocks
		if a, b, ok := interior(string(c.html)); ok {
			bl.html, bl.hA, bl.hB = &Block{Text: string(c.html)[a:b]}, a, b
		}
		if a, b, ok := interior(c.text); ok {
			bl.text, bl.tA, bl.tB = &Block{Text: strings.Join(tidyLines(c.text[a:b-1]), "\n") + "\n"}, a, b
		}
	})
	return &c.blocks
}

// RenderSpliced is Render in pieces: each part is the reader's head, the
// Content's shared block and the reader's tail, and joined they are
// exactly what Render returns.
func (r *Renderer) RenderSpliced(c *Content, reader Reader, links Links) (*Spliced, error) {
	bl := c.cut()
	var html, text strings.Builder
	html.Grow(int(r.layoutSize[0].Load()))
	text.Grow(int(r.layoutSize[1].Load()))
	defer func() { r.layoutSize[0].Store(int64(html.Len())); r.layoutSize[1].Store(int64(text.Len())) }()
	if err := r.executeLayouts(&html, &text, c, reader, links, contentMarker, contentMarker); err != nil {
		return nil, err
	}
	hPre, hPost, hOK := cutMarker(html.String())
	tPre, tPost, tOK := cutMarker(text.String())
	if !hOK || !tOK {
		// The layout does not hold the content once, as it is: whole.
		msg, err := r.Render(c, reader, links)
		if err != nil {
			return nil, err
		}
		return &Spliced{Subject: msg.Subject, Text: SplicedPart{Head: []string{msg.Text}}, HTML: SplicedPart{Head: []string{msg.HTML}}}, nil
	}
	return &Spliced{Subject: c.Subject, HTML: spliceHTML(hPre, hPost, string(c.html), bl), Text: spliceText(tPre, tPost, c.text, bl)}, nil
}

// spliceHTML puts a reader's HTML layout around the block.
func spliceHTML(pre, post, content string, bl *blocks) SplicedPart {
	if bl.html == nil {
		return SplicedPart{Head: []string{pre, content, post}}
	}
	return SplicedPart{Head: []string{pre, content[:bl.hA]}, Shared: bl.html, Tail: []string{content[bl.hB:], post}}
}

// spliceText puts a reader's text layout around the block and tidies the
// head and the tail as tidyText tidies the whole.
func spliceText(pre, post, content string, bl *blocks) SplicedPart {
	if bl.text == nil {
		return SplicedPart{Head: []string{tidyText(pre + content + post)}}
	}
	head := strings.Join(tidyLines(pre+content[:bl.tA-1]), "\n")
	tail := strings.Join(tidyLines(content[bl.tB:]+post), "\n")
	// tidyText trims the whole: the head and the tail must each hold
	// something that is not white space, so that the trim stops in them.
	if strings.TrimSpace(head) == "" || strings.TrimSpace(tail) == "" {
		return SplicedPart{Head: []string{tidyText(pre + content + post)}}
	}
	return SplicedPart{
		Head:   []string{strings.TrimLeftFunc(head, unicode.IsSpace), "\n"},
		Shared: bl.text,
		Tail:   []string{strings.TrimRightFunc(tail, unicode.IsSpace), "\n"},
	}
}

// cutMarker cuts s around its one content marker.
func cutMarker(s string) (pre, post string, ok bool) {
	pre, post, ok = strings.Cut(s, contentMarker)
	if !ok || strings.Contains(post, contentMarker) {
		return "", "", false
	}
	return pre, post, true
}
