package articles

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/example/newsletter"
)

// frontMatter holds the fields a Markdown article's front matter may set.
type frontMatter struct {
	Title, Date, Summary, Slug, URL, Author string
	Image, ImageAlt                         string // a lead image and its alt text
	Categories                              []string
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// ParseMarkdown parses Markdown with YAML front matter between "---" lines.
// title and date are required; categories may be a list or a comma-separated
// string; summary, slug, url, author, image (a lead image: a URL or a path
// on the site) and image_alt are optional.
func ParseMarkdown(name string, src []byte, siteURL string) (*newsletter.Article, error) {
	if !utf8.Valid(src) {
		return nil, errorf(name, 0, "not UTF-8 text")
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	start, end, err := frontMatterBounds(name, lines)
	if err != nil {
		return nil, err
	}
	fm, err := decodeFrontMatter(name, strings.Join(lines[start+1:end], "\n"), start+1)
	if err != nil {
		return nil, err
	}
	if fm.fields.Title == "" {
		return nil, errorf(name, start+1, "front matter has no title:")
	}
	if fm.fields.Date == "" {
		return nil, errorf(name, start+1, "front matter has no date:")
	}
	date, ok := ParseDate(fm.fields.Date)
	if !ok {
		return nil, errorf(name, fm.lines["date"], "cannot read date %q; use \"2006-01-02\", \"January 2, 2006\" or \"Jan 2, 2006\"", clip(fm.fields.Date, 60))
	}
	if strings.ContainsAny(fm.fields.Title, "\r\n") {
		return nil, errorf(name, fm.lines["title"], "title must be one line")
	}
	body := strings.TrimSpace(strings.Join(lines[end+1:], "\n"))
	a := &newsletter.Article{
		Title:      strings.TrimSpace(fm.fields.Title),
		Date:       date,
		Categories: newsletter.UniqueCategories(fm.fields.Categories),
		Body:       body,
		Summary:    strings.Join(strings.Fields(fm.fields.Summary), " "),
		Author:     strings.TrimSpace(fm.fields.Author),
		Source:     name,
	}
	a.Slug = Slugify(a.Title)
	switch {
	case fm.fields.Slug != "":
		a.Key = "md:slug:" + fm.fields.Slug
	case name == StdinName:
		a.Key = "md:title:" + a.Slug
	default:
		a.Key = "md:path:" + filepath.ToSlash(filepath.Clean(name))
	}
	if fm.fields.Slug != "" {
		if !ValidSlug(fm.fields.Slug) {
			return nil, errorf(name, fm.lines["slug"], "slug %q must be lower-case letters, digits and single hyphens", clip(fm.fields.Slug, 60))
		}
		a.Slug = fm.fields.Slug
	}
	if a.Summary == "" {
		a.Summary = Summarize(firstParagraphText(body), SummaryLength)
	}
	a.URL = JoinURL(siteURL, a.Slug)
	a.SlugURL = a.URL != ""
	if fm.fields.URL != "" {
		a.URL, a.SlugURL = strings.TrimSpace(fm.fields.URL), false
	}
	if img := strings.TrimSpace(fm.fields.Image); img != "" {
		if a.Image = resolve(siteURL, img); a.Image == "" {
			return nil, errorf(name, fm.lines["image"], "image %q must be an http(s) URL or a path on the site", clip(img, 60))
		}
		a.ImageAlt = newsletter.OneLine(fm.fields.ImageAlt)
	}
	a.ComputeHash()
	return a, nil
}

// frontMatterBounds finds the lines that open and close the front matter.
func frontMatterBounds(name string, lines []string) (start, end int, err error) {
	start = -1
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if strings.TrimSpace(l) != "---" {
			return 0, 0, errorf(name, i+1, "expected front matter: a line \"---\", then title: and date:, then \"---\"")
		}
		start = i
		break
	}
	if start < 0 {
		return 0, 0, errorf(name, 0, "empty file: expected front matter with title: and date:, then Markdown")
	}
	end = -1
	for i := start + 1; i < len(lines); i++ {
		if t := strings.TrimSpace(lines[i]); t == "---" || t == "..." {
			end = i
			break
		}
	}
	if end < 0 {
		return 0, 0, errorf(name, start+1, "front matter is not closed by a line \"---\"")
	}
	return start, end, nil
}

type decodedFrontMatter struct {
	fields frontMatter
	lines  map[string]int // key → line in the file
}

func decodeFrontMatter(name, src string, offset int) (*decodedFrontMatter, error) {
	out := &decodedFrontMatter{lines: map[string]int{}}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		line := offset
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			line += n
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = yamlLine.ReplaceAllString(msg, "")
		return nil, errorf(name, line, "front matter: %s", strings.Trim(msg, " :"))
	}
	if len(doc.Content) == 0 {
		return out, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, errorf(name, offset+m.Line, "front matter must be key: value lines")
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := strings.ToLower(k.Value)
		line := offset + k.Line
		out.lines[key] = line
		if key == "categories" || key == "tags" {
			switch v.Kind {
			case yaml.SequenceNode:
				for _, c := range v.Content {
					if c.Kind != yaml.ScalarNode {
						return nil, errorf(name, offset+c.Line, "categories: each item must be a name")
					}
					out.fields.Categories = append(out.fields.Categories, c.Value)
				}
			case yaml.ScalarNode:
				out.fields.Categories = append(out.fields.Categories, newsletter.SplitCategories(v.Value, ",")...)
			default:
				return nil, errorf(name, line, "categories: expected a list or a comma-separated line")
			}
			continue
		}
		var dst *string
		switch key {
		case "title":
			dst = &out.fields.Title
		case "date":
			dst = &out.fields.Date
		case "summary":
			dst = &out.fields.Summary
		case "slug":
			dst = &out.fields.Slug
		case "url":
			dst = &out.fields.URL
		case "author":
			dst = &out.fields.Author
		case "image":
			dst = &out.fields.Image
		case "image_alt":
			dst = &out.fields.ImageAlt
		default:
			continue // unknown keys are allowed and ignored
		}
		if v.Kind != yaml.ScalarNode {
			return nil, errorf(name, line, "%s: expected a single value", key)
		}
		*dst = v.Value
	}
	return out, nil
}

var (
	mdLink   = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	mdMarker = regexp.MustCompile("[*_`]+")
)

// firstParagraphText returns the first paragraph of Markdown as plain text,
// skipping headings, rules, fences, block quotes' markers and raw HTML.
func firstParagraphText(md string) string {
	var para []string
	inFence := false
	for _, l := range strings.Split(md, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		if t == "" {
			if len(para) > 0 {
				break
			}
			continue
		}
		if strings.HasPrefix(t, "#") || strings.HasPrefix(t, "<") || strings.Trim(t, "-*_ ") == "" {
			if len(para) > 0 {
				break
			}
			continue
		}
		para = append(para, strings.TrimLeft(t, "> "))
	}
	s := strings.Join(para, " ")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdMarker.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\\", "")
	return s
}
