package showcase

import (
	"context"
	"fmt"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Browser starts headless Chromium (exe) with its profile in dir. Cancel the
// context to stop it.
func Browser(ctx context.Context, exe, dir string) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(dir),
	)
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancel2 := chromedp.NewContext(actx)
	return bctx, func() { cancel2(); cancel() }
}

// Open shows p in the browser at width CSS pixels, in the light or dark
// scheme, and runs its form script if it has one.
func Open(ctx context.Context, p Page, width int64, dark bool) error {
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	media := func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return chromedp.Void{}, err
	}
	err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800), media, chromedp.Navigate(p.URL))
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	until := "true"
	if p.Do != "" {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`setTimeout(() => { `+p.Do+` }, 0)`)); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		until = p.Until
	}
	// Wait for the page (after a form, the next one) with its images
	// loaded, so that their size counts. A page that navigates away while
	// asked answers with an error: ask again.
	cond := `(` + until + `) && document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)`
	deadline := time.Now().Add(10 * time.Second)
	for {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: the page did not come (%s): %v", p.Name, until, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Screenshot returns a PNG of the whole page as it is shown.
func Screenshot(ctx context.Context) ([]byte, error) {
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}

// Text is one element with text of its own, as the browser styles it.
type Text struct {
	Tag, Sample string
	Color       string  // computed color
	Background  string  // the first opaque background-color behind it
	FontSize    float64 // px
	FontWeight  int
	LineHeight  float64 // px; 0 for "normal"
}

// Metrics is what a design test checks of a page.
type Metrics struct {
	ScrollWidth    int64
	H1, H2         int
	BodyLineHeight float64 // the body's line-height over its font size
	BodyFontSize   float64
	WidestImage    float64
	Background     string // the page's background colour
	// SmallTargets are links, buttons and form fields less than 44 px high.
	SmallTargets []string
	Texts        []Text
}

const measureJS = `(() => {
  const visible = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  const bg = e => {
    for (; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      const m = c.match(/rgba?\(([^)]*)\)/);
      if (m) { const p = m[1].split(',').map(Number); if (p.length < 4 || p[3] > 0) return c; }
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  };
  const texts = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!visible(e) || ['SCRIPT', 'STYLE', 'TITLE'].includes(e.tagName)) continue;
    const own = Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
    if (!own) continue;
    const s = getComputedStyle(e);
    texts.push({Tag: e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''), Sample: own.slice(0, 40),
      Color: s.color, Background: bg(e), FontSize: parseFloat(s.fontSize), FontWeight: parseInt(s.fontWeight, 10),
      LineHeight: s.lineHeight === 'normal' ? 0 : parseFloat(s.lineHeight)});
  }
  const b = getComputedStyle(document.body);
  return {ScrollWidth: document.documentElement.scrollWidth,
    H1: document.querySelectorAll('h1').length, H2: document.querySelectorAll('h2').length,
    BodyLineHeight: b.lineHeight === 'normal' ? 0 : parseFloat(b.lineHeight) / parseFloat(b.fontSize),
    BodyFontSize: parseFloat(b.fontSize), Background: bg(document.body),
    WidestImage: Math.max(0, ...Array.from(document.images).map(i => i.getBoundingClientRect().right)),
    SmallTargets: Array.from(document.querySelectorAll('a, button, label, input')).filter(visible)
      .filter(e => e.getBoundingClientRect().height < 44 && e.type !== 'checkbox' && e.type !== 'hidden')
      .map(e => e.tagName.toLowerCase() + ' ' + Math.round(e.getBoundingClientRect().height) + 'px ' + e.textContent.trim().slice(0, 30)),
    Texts: texts};
})()`

// Measure returns the metrics of the page shown.
func Measure(ctx context.Context) (*Metrics, error) {
	m, err := chromedp.Run(ctx, chromedp.Evaluate[Metrics](measureJS))
	return &m, err
}
