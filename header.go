package newsletter

import "strings"

// OneLine collapses all white space — CR, LF, tabs, the Unicode line and
// paragraph separators — into single spaces and drops other control
// characters. What goes into a mail header passes through it, so data can
// never start a new header line.
func OneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
