package bounces

import (
	"regexp"
	"strconv"
	"strings"
)

// Status codes in text. A dotted number is read as an enhanced status code
// (RFC 3463) only where one belongs: after an SMTP reply code ("550 5.1.1",
// "550-5.1.1"), or at the start of a Status or Diagnostic-Code field. A
// bare one is a date (5.1.26), a version or an IP address (5.9.12.34).
var (
	enhancedCode = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
	basicCode    = regexp.MustCompile(`\b([45][0-5]\d)[ -]`)
	replyCode    = regexp.MustCompile(`\b([45][0-5]\d)[ -]([245]\.\d{1,3}\.\d{1,3})\b`)
	statusField  = regexp.MustCompile(`(?im)^[ \t>]*(?:Status|Diagnostic-Code):[ \t]*(?:[a-z0-9-]+;[ \t]*)?([245]\.\d{1,3}\.\d{1,3})\b`)
	leadingCode  = regexp.MustCompile(`^([245]\.\d{1,3}\.\d{1,3})\b`)
)

// partOfNumber reports whether the code that ends at end in text goes on
// as a longer dotted number, such as an IP address.
func partOfNumber(text string, end int) bool {
	return end+1 < len(text) && text[end] == '.' && text[end+1] >= '0' && text[end+1] <= '9'
}

// replyStatus finds the first SMTP reply with an enhanced code in text:
// its basic code, the enhanced code and where the reply starts; at is -1
// when there is none.
func replyStatus(text string) (code int, enhanced string, at int) {
	for _, m := range replyCode.FindAllStringSubmatchIndex(text, -1) {
		if partOfNumber(text, m[5]) {
			continue
		}
		code, _ = strconv.Atoi(text[m[2]:m[3]])
		return code, text[m[4]:m[5]], m[0]
	}
	return 0, "", -1
}

// fieldStatus finds an enhanced code at the start of a Status or
// Diagnostic-Code field in text, and where it is; at is -1 when none is.
func fieldStatus(text string) (enhanced string, at int) {
	for _, m := range statusField.FindAllStringSubmatchIndex(text, -1) {
		if !partOfNumber(text, m[3]) {
			return text[m[2]:m[3]], m[2]
		}
	}
	return "", -1
}

// proseStatus reads the status of a bounce written as text, and where in
// text it stands (-1: nowhere): an enhanced code as above, else the class
// of a bare SMTP reply code ("550 " is 5.0.0).
func proseStatus(text string) (status string, at int) {
	if _, m, i := replyStatus(text); i >= 0 && m[0] != '2' {
		return m, i
	}
	if m, i := fieldStatus(text); i >= 0 && m[0] != '2' {
		return m, i
	}
	if m := basicCode.FindStringSubmatchIndex(text); m != nil {
		return text[m[2]:m[2]+1] + ".0.0", m[2]
	}
	return "", -1
}

// diagnosticStatus reads a Diagnostic-Code value ("smtp; 550 5.1.1 …" or
// "5.1.1 …"): the basic code (0 if none) and the enhanced code ("" if
// none).
func diagnosticStatus(diagnostic string) (code int, enhanced string) {
	code, enhanced, _ = replyStatus(diagnostic)
	if enhanced == "" {
		v := typedValue(diagnostic)
		if m := leadingCode.FindStringSubmatchIndex(v); m != nil && !partOfNumber(v, m[3]) {
			enhanced = v[m[2]:m[3]]
		}
	}
	if code == 0 {
		if m := basicCode.FindStringSubmatch(diagnostic + " "); m != nil {
			code, _ = strconv.Atoi(m[1])
		}
	}
	return code, enhanced
}

// statusCode returns the "X.Y.Z" at the start of a Status field.
func statusCode(v string) string {
	if m := enhancedCode.FindString(strings.TrimSpace(v)); m != "" {
		return m
	}
	return ""
}
