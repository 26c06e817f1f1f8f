package showcase_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/smtp"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/internal/showcase"
	"github.com/example/newsletter/internal/testtool"
)

func start(t *testing.T) *showcase.Showcase {
	t.Helper()
	sc, err := showcase.New(context.Background(), t.TempDir(), "../../examples/articles")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sc.Close)
	return sc
}

var rgbRe = regexp.MustCompile(`rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)(?:,? ?/? ?([\d.]+))?\)`)

// luminance is the WCAG relative luminance of a computed CSS colour.
func luminance(t *testing.T, css string) float64 {
	t.Helper()
	m := rgbRe.FindStringSubmatch(css)
	if m == nil {
		t.Fatalf("colour %q is not rgb()", css)
	}
	var l [3]float64
	for i := range 3 {
		v, _ := strconv.ParseFloat(m[i+1], 64)
		v /= 255
		if v <= 0.04045 {
			l[i] = v / 12.92
		} else {
			l[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

// contrast is the WCAG contrast ratio of two computed colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// TestDesign renders every mail and page in Chromium at a phone's and a
// desktop's width, light and dark: nothing is wider than the screen (the
// 1600 px images included), mails have an h1 and h2s, text has a line
// height of at least 1.4, and every text has a contrast of at least 4.5:1
// with its background (3:1 for large text). On the pages, every link,
// button and field is at least 44 px high.
func TestDesign(t *testing.T) {
	exe := testtool.Need(t, "chromium")
	sc := start(t)
	ctx, cancel := showcase.Browser(context.Background(), exe, t.TempDir())
	defer cancel()
	ctx, cancel2 := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel2()
	minRatio, minAt := 100.0, ""
	for _, p := range sc.Pages {
		for _, width := range []int64{375, 1024} {
			for _, dark := range []bool{false, true} {
				name := fmt.Sprintf("%s/%d/dark=%v", p.Name, width, dark)
				if err := showcase.Open(ctx, p, width, dark); err != nil {
					t.Fatal(err)
				}
				m, err := showcase.Measure(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Texts) < 3 {
					t.Fatalf("%s: only %d texts measured", name, len(m.Texts))
				}
				if l := luminance(t, m.Background); dark != (l < 0.1) {
					t.Errorf("%s: page background %s in the wrong scheme", name, m.Background)
				}
				if !p.Mail && len(m.SmallTargets) > 0 {
					t.Errorf("%s: tap targets under 44 px: %q", name, m.SmallTargets)
				}
				if m.ScrollWidth > width {
					t.Errorf("%s: the page is %d px wide", name, m.ScrollWidth)
				}
				if m.WidestImage > float64(width) {
					t.Errorf("%s: an image reaches %.0f px", name, m.WidestImage)
				}
				if m.H1 != 1 {
					t.Errorf("%s: %d h1", name, m.H1)
				}
				if p.Mail && strings.HasPrefix(p.Name, "mail-") && p.Name != "mail-confirm" && m.H2 == 0 {
					t.Errorf("%s: no h2", name)
				}
				if m.BodyLineHeight < 1.4 || m.BodyFontSize < 16 {
					t.Errorf("%s: body font %.0f px, line-height %.2f", name, m.BodyFontSize, m.BodyLineHeight)
				}
				for _, x := range m.Texts {
					if x.FontSize < 18 && (x.LineHeight == 0 || x.LineHeight/x.FontSize < 1.4) {
						t.Errorf("%s: %s %q: line-height %.1f px at %.0f px", name, x.Tag, x.Sample, x.LineHeight, x.FontSize)
					}
					large := x.FontSize >= 24 || (x.FontSize >= 18.66 && x.FontWeight >= 700)
					need := 4.5
					if large {
						need = 3
					}
					r := contrast(t, x.Color, x.Background)
					if r < need {
						t.Errorf("%s: %s %q: contrast %.2f:1 (%s on %s), want %.1f:1", name, x.Tag, x.Sample, r, x.Color, x.Background, need)
					}
					if r < minRatio {
						minRatio, minAt = r, fmt.Sprintf("%s %s %q", name, x.Tag, x.Sample)
					}
				}
			}
		}
	}
	t.Logf("%d pages × 2 widths × 2 schemes; lowest contrast %.2f:1 at %s", len(sc.Pages), minRatio, minAt)
}

// TestDeliverability sends the digest, the article mail and the
// confirmation mail to Mailpit and SpamAssassin: html-check finds at least
// 95 % supported, and the spam score is 0 or less.
func TestDeliverability(t *testing.T) {
	mp := testtool.StartMailpit(t)
	sa := testtool.Need(t, "spamassassin")
	sc := start(t)
	for _, tc := range []struct{ name, campaign, to string }{
		{"digest", "2", showcase.Ana}, {"article", "3", showcase.Ana}, {"confirm", "confirm", "new.reader@example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, err := sc.Message(tc.campaign, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := smtp.SendMail(mp.SMTP, nil, "news@example.org", []string{tc.to}, raw); err != nil {
				t.Fatal(err)
			}
			var id string
			for _, m := range mp.Messages(t) {
				if bytes.Contains(mp.Raw(t, m.ID), raw[:200]) {
					id = m.ID
				}
			}
			if id == "" {
				t.Fatal("mailpit does not hold the message")
			}
			var hc struct {
				Total    struct{ Supported, Partial, Unsupported float64 }
				Warnings []struct {
					Title string
					Score struct {
						Found                           int
						Supported, Partial, Unsupported float64
					}
				}
			}
			mp.Get(t, "/message/"+id+"/html-check", &hc)
			for _, w := range hc.Warnings {
				t.Logf("%s: %s ×%d: %.0f%% supported, %.0f%% partial", tc.name, w.Title, w.Score.Found, w.Score.Supported, w.Score.Partial)
			}
			t.Logf("%s: html-check %.1f%% supported, %.1f%% partial, %.1f%% unsupported", tc.name, hc.Total.Supported, hc.Total.Partial, hc.Total.Unsupported)
			if hc.Total.Supported < 95 {
				t.Errorf("%s: html-check %.1f%% supported, want at least 95%%", tc.name, hc.Total.Supported)
			}
			cmd := exec.Command(sa, "-L", "-t")
			cmd.Stdin = bytes.NewReader(raw)
			cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
			out, _ := cmd.Output()
			m := regexp.MustCompile(`(?m)^X-Spam-Status: \w+, score=(-?[0-9.]+)`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("no X-Spam-Status in spamassassin output:\n%s", out)
			}
			score, _ := strconv.ParseFloat(string(m[1]), 64)
			t.Logf("%s: SpamAssassin %.1f", tc.name, score)
			if score > 0 {
				t.Errorf("%s: SpamAssassin %.1f > 0:\n%s", tc.name, score, out)
			}
		})
	}
}
