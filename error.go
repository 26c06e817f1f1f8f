package newsletter

import (
	"errors"
	"fmt"
	"io/fs"
)

// Application error codes. A code tells a caller what kind of failure it has,
// so the CLI can choose an exit code and a web handler a status.
const (
	ECONFLICT = "conflict"  // the action clashes with what is stored (e.g. a sender holds the lease)
	EINTERNAL = "internal"  // a failure the user cannot act on directly
	EINVALID  = "invalid"   // the input is wrong; the message says where and why
	ENOTFOUND = "not_found" // the named thing does not exist
)

// Error is an application error: a code and a message written for a person,
// and the cause it wraps, if any, for errors.Is and errors.As.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message. A
// %w verb in format makes the argument the error's cause, as with
// fmt.Errorf.
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// Sentinel errors that callers test with errors.Is.
var (
	// ErrAlreadySent: the campaign's key was used before; the same article
	// or schedule period is not sent to a list twice.
	ErrAlreadySent = errors.New("already sent")
	// ErrNothingNew: a digest has no candidate articles; no campaign is
	// made.
	ErrNothingNew = errors.New("nothing new")
	// ErrUnreadableFile: an input file cannot be read on past an error (a
	// quoted field that is never closed runs to its end). Unlike a bad
	// row, which is reported and skipped, it ends an import, which then
	// stores nothing.
	ErrUnreadableFile = errors.New("unreadable file")
)

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

// PathCause returns the cause of a file-system error without the operation
// and path that *fs.PathError adds ("no such file or directory" rather than
// "open x: no such file or directory"), for messages that name the file
// themselves.
func PathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
