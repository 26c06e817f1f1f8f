package articles

import "fmt"

// ParseError is an invalid source: the file, the line (0 when the whole file
// is at fault) and the reason.
type ParseError struct {
	File   string
	Line   int
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

func errorf(file string, line int, format string, args ...any) *ParseError {
	return &ParseError{File: file, Line: line, Reason: fmt.Sprintf(format, args...)}
}
