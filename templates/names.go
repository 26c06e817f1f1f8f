package templates

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// FirstName returns the given name in a subscriber's name for a greeting,
// or "" when none can be told: "Ana Silva" and "Silva, Ana" give "Ana";
// an address, an initial or a title alone ("Dr. Smith") give "".
func FirstName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, "@<>\"") {
		return ""
	}
	if last, given, ok := strings.Cut(name, ","); ok {
		if strings.TrimSpace(last) == "" {
			return ""
		}
		name = given
	}
	fields := strings.Fields(name)
	if len(fields) == 0 {
		return ""
	}
	f := fields[0]
	if strings.HasSuffix(f, ".") || utf8.RuneCountInString(f) < 2 {
		return ""
	}
	for _, r := range f {
		if !unicode.IsLetter(r) && r != '-' && r != '\'' && r != '’' {
			return ""
		}
	}
	return f
}
