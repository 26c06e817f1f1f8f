package articles

import (
	"errors"
	"fmt"
)

// ParseError is an invalid source: the file, the line (0 when the whole file
// is at fault) and the reason.
type ParseError struct {
	File   string
	Line   int
	Reason string
	Err    error // the cause, when there is one
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Reason)
}

func errorf(file string, line int, format string, args ...any) *ParseError {
	err := fmt.Errorf(format, args...)
	return &ParseError{File: file, Line: line, Reason: err.Error(), Err: errors.Unwrap(err)}
}
