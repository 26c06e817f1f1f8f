package templates

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/vanng822/go-premailer/premailer"

	"github.com/example/newsletter"
)

var (
	styleRe  = regexp.MustCompile(`(?is)<style[^>]*>(.*?)</style>`)
	actionRe = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	bodyRe   = regexp.MustCompile(`(?is)<body[^>]*>(.*)</body>`)
)

// styleBlock returns the CSS of the <style> blocks of a layout.
func styleBlock(html string) string {
	var css []string
	for _, m := range styleRe.FindAllStringSubmatch(html, -1) {
		css = append(css, m[1])
	}
	return strings.Join(css, "\n")
}

// inlineTemplate inlines css into the style attributes of a template's HTML.
// Template actions are swapped for inert placeholders while the HTML is
// parsed, then put back. A fragment is wrapped in a document with the CSS
// and unwrapped again.
func inlineTemplate(s source, css string, fragment bool) (string, error) {
	var actions []string
	doc := actionRe.ReplaceAllStringFunc(s.text, func(a string) string {
		actions = append(actions, a)
		return fmt.Sprintf("NLTPLACTION%05dX", len(actions)-1)
	})
	if fragment {
		doc = "<!DOCTYPE html><html><head><style>" + css + "</style></head><body>" + doc + "</body></html>"
	}
	out, err := inlineCSS(doc)
	if err != nil {
		return "", newsletter.Errorf(newsletter.EINVALID, "%s: inlining CSS: %w", s.path, err)
	}
	if fragment {
		m := bodyRe.FindStringSubmatch(out)
		if m == nil {
			return "", newsletter.Errorf(newsletter.EINVALID, "%s: inlining CSS lost the content", s.path)
		}
		out = m[1]
	}
	restored := regexp.MustCompile(`NLTPLACTION(\d{5})X`).ReplaceAllStringFunc(out, func(p string) string {
		var i int
		fmt.Sscanf(p, "NLTPLACTION%05dX", &i)
		if i < len(actions) {
			return actions[i]
		}
		return p
	})
	if n := strings.Count(restored, "{{"); n != len(actions) {
		return "", newsletter.Errorf(newsletter.EINVALID, "%s: inlining CSS moved template actions; keep actions inside elements, not between table rows", s.path)
	}
	return restored, nil
}

func inlineCSS(doc string) (string, error) {
	p, err := premailer.NewPremailerFromString(doc, premailer.NewOptions(premailer.WithCssToAttributes(true), premailer.WithKeepBangImportant(true)))
	if err != nil {
		return "", err
	}
	return p.Transform()
}

// inlineHTML inlines the layout CSS into runtime HTML (an article body from
// Markdown) placed inside an element with class wrapperClass.
func (r *Renderer) inlineHTML(html, wrapperClass string) (string, error) {
	marker := "NLBODYWRAPPER"
	doc := "<!DOCTYPE html><html><head><style>" + r.css + "</style></head><body><div class=\"" + wrapperClass + "\" id=\"" + marker + "\">" + html + "</div></body></html>"
	out, err := inlineCSS(doc)
	if err != nil {
		return "", err
	}
	m := bodyRe.FindStringSubmatch(out)
	if m == nil {
		return html, nil
	}
	inner := m[1]
	if i := strings.Index(inner, marker); i >= 0 {
		if j := strings.IndexByte(inner[i:], '>'); j >= 0 {
			inner = inner[i+j+1:]
		}
	}
	inner = strings.TrimSpace(inner)
	inner = strings.TrimSuffix(inner, "</div>")
	return inner, nil
}
