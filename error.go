package newsletter

import (
	"errors"
	"fmt"
)

// Application error codes. A code tells a caller what kind of failure it has,
// so the CLI can choose an exit code and a web handler a status.
const (
	ECONFLICT = "conflict"  // the action clashes with what is stored (e.g. a sender holds the lease)
	EINTERNAL = "internal"  // a failure the user cannot act on directly
	EINVALID  = "invalid"   // the input is wrong; the message says where and why
	ENOTFOUND = "not_found" // the named thing does not exist
)

// Error is an application error: a code and a message written for a person.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// err.Error() for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
