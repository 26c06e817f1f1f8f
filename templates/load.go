package templates

import (
	"errors"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	texttemplate "text/template"

	"github.com/example/newsletter"
)

// WithDir makes files in dir override the embedded templates of the same
// name. An empty dir is no override.
func WithDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return nil
		}
		fi, err := os.Stat(dir)
		if err != nil {
			return newsletter.Errorf(newsletter.EINVALID, "templates directory %s: %w", dir, newsletter.PathCause(err))
		} else if !fi.IsDir() {
			return newsletter.Errorf(newsletter.EINVALID, "templates directory %s is not a directory", dir)
		}
		o.dir = dir
		return nil
	}
}

// Option configures a Renderer.
type Option func(*options) error

type options struct {
	dir string
}

// New loads, inlines and parses the templates.
func New(site Site, opts ...Option) (*Renderer, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	src, err := loadSources(o.dir)
	if err != nil {
		return nil, err
	}
	r := &Renderer{site: site, md: newMarkdown(site.URL), kinds: map[string]*kindTemplates{},
		articles: map[string]Article{}, contents: map[string]*Content{}}
	if err := r.parse(src, true); err != nil {
		return nil, err
	}
	return r, nil
}

// source is one template file and where it came from, for errors.
type source struct {
	name, path, text string
}

func loadSources(dir string) (map[string]source, error) {
	out := map[string]source{}
	for _, f := range Files {
		b, err := defaults.ReadFile("default/" + f)
		if err != nil {
			return nil, err
		}
		s := source{name: f, path: f, text: string(b)}
		if dir != "" {
			p := filepath.Join(dir, f)
			if b, err := os.ReadFile(p); err == nil {
				s = source{name: f, path: p, text: string(b)}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, newsletter.Errorf(newsletter.EINVALID, "%s: %w", p, newsletter.PathCause(err))
			}
		}
		out[f] = s
	}
	return out, nil
}

// DefaultBrand is the brand colour of the default templates; Site.Brand
// replaces it in every HTML template.
const DefaultBrand = "#1f4e79"

var (
	brandRe        = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	defaultBrandRe = regexp.MustCompile(`(?i)` + DefaultBrand)
)

var funcs = map[string]any{
	"join": strings.Join,
	"wrap": func(s string, width int) string { return wrap(s, width) },
	"rule": func(n int, s string) string { return strings.Repeat(s, max(1, min(n, TextWidth))) },
	"reason": func(cats []string) string {
		if len(cats) == 0 {
			return "all the news"
		}
		return "news about " + strings.Join(cats, ", ")
	},
}

// parse parses the sources. With inline, the HTML templates' CSS is inlined
// first; without, errors carry the lines of the files as written.
func (r *Renderer) parse(src map[string]source, inline bool) error {
	if r.site.Brand != "" {
		if !brandRe.MatchString(r.site.Brand) {
			return newsletter.Errorf(newsletter.EINVALID, "brand colour %q: write it as #rrggbb", r.site.Brand)
		}
		for name, s := range src {
			if strings.HasSuffix(name, ".html") {
				s.text = defaultBrandRe.ReplaceAllString(s.text, r.site.Brand)
				src[name] = s
			}
		}
	}
	layout := src["layout.html"]
	css := styleBlock(layout.text)
	r.css = css
	layoutSrc := layout.text
	if inline {
		var err error
		if layoutSrc, err = inlineTemplate(layout, css, false); err != nil {
			return err
		}
	}
	var err error
	if r.layoutHTML, err = htmltemplate.New(layout.path).Funcs(funcs).Parse(layoutSrc); err != nil {
		return templateError(err)
	}
	if r.layoutText, err = texttemplate.New(src["layout.txt"].path).Funcs(funcs).Parse(src["layout.txt"].text); err != nil {
		return templateError(err)
	}
	for _, kind := range []string{KindDigest, KindArticle} {
		k := &kindTemplates{}
		s := src[kind+".subject"]
		if k.subject, err = texttemplate.New(s.path).Funcs(funcs).Parse(s.text); err != nil {
			return templateError(err)
		}
		h := src[kind+".html"]
		hs := h.text
		if inline {
			if hs, err = inlineTemplate(h, css, true); err != nil {
				return err
			}
		}
		if k.html, err = htmltemplate.New(h.path).Funcs(funcs).Parse(hs); err != nil {
			return templateError(err)
		}
		t := src[kind+".txt"]
		if k.text, err = texttemplate.New(t.path).Funcs(funcs).Parse(t.text); err != nil {
			return templateError(err)
		}
		r.kinds[kind] = k
	}
	c := &kindTemplates{}
	if c.subject, err = texttemplate.New(src["confirm.subject"].path).Funcs(funcs).Parse(src["confirm.subject"].text); err != nil {
		return templateError(err)
	}
	ch := src["confirm.html"]
	// The confirmation mail looks like the others: it takes the layout's
	// styles where it asks for them.
	ch.text = strings.Replace(ch.text, layoutStyles, "<style>"+css+"</style>", 1)
	chs := ch.text
	if inline {
		if chs, err = inlineTemplate(ch, styleBlock(ch.text), false); err != nil {
			return err
		}
	}
	if c.html, err = htmltemplate.New(ch.path).Funcs(funcs).Parse(chs); err != nil {
		return templateError(err)
	}
	if c.text, err = texttemplate.New(src["confirm.txt"].path).Funcs(funcs).Parse(src["confirm.txt"].text); err != nil {
		return templateError(err)
	}
	r.confirm = c
	return nil
}

// layoutStyles in a template's head stands for the <style> block of
// layout.html.
const layoutStyles = "<style>/* the styles of layout.html */</style>"

// templateError turns "template: file:line: msg" into "file:line: msg".
func templateError(err error) error {
	return newsletter.Errorf(newsletter.EINVALID, "%s", strings.TrimPrefix(err.Error(), "template: "))
}
