// Package articles turns article sources into newsletter.Article values: the
// plain-text post format (a date line, a title line, one paragraph a line and
// an optional "Categories:" line) and Markdown with YAML front matter.
//
// Parsing never touches the store. Errors are *ParseError values that name
// the file and line, so a batch can report every invalid file at once.
package articles
