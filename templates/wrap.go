package templates

import (
	"strings"
	"unicode/utf8"
)

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// wrap breaks text into lines of at most width characters at spaces. A word
// longer than width (a URL) stands alone on its line. Existing line breaks
// are kept.
func wrap(text string, width int) string {
	return wrapPrefixed(text, width, "", "")
}

// wrapPrefixed wraps text with first before the first line and rest before
// every other line; width counts the prefixes.
func wrapPrefixed(text string, width int, first, rest string) string {
	var out strings.Builder
	for i, para := range strings.Split(text, "\n") {
		prefix := first
		if i > 0 {
			out.WriteString("\n")
			prefix = rest
		}
		line, lineLen := prefix, runeLen(prefix)
		empty := true
		for _, w := range strings.Fields(para) {
			wl := runeLen(w)
			if !empty && lineLen+1+wl > width {
				out.WriteString(line)
				out.WriteString("\n")
				line, lineLen, empty = rest, runeLen(rest), true
			}
			if !empty {
				line += " "
				lineLen++
			}
			line += w
			lineLen += wl
			empty = false
		}
		out.WriteString(strings.TrimRight(line, " "))
	}
	return out.String()
}
