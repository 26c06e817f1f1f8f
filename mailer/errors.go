package mailer

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// SendError is a failed delivery attempt.
type SendError struct {
	Code     int    // SMTP reply code, 0 when there was none
	Enhanced string // enhanced status code such as "5.1.1", when given
	Text     string
	// Temporary failures may succeed later; permanent ones (5xx) will not.
	Temporary bool
	// Broken means the connection is unusable: open a new one.
	Broken bool
	// Connect means no connection could be made: the message was not sent.
	Connect bool
	// Sender means the server refused MAIL FROM: a fault of the sender or
	// the server, never of the recipient.
	Sender bool
}

func (e *SendError) Error() string {
	if e.Code > 0 {
		return fmt.Sprintf("%d %s", e.Code, e.Text)
	}
	return e.Text
}

// NoSuchUser reports whether the failure says the mailbox does not exist
// (enhanced status 5.1.x), which stops further mail to the address at once.
func (e *SendError) NoSuchUser() bool {
	if e.Temporary {
		return false
	}
	if strings.HasPrefix(e.Enhanced, "5.1.") {
		return true
	}
	return e.Code == 550 && strings.HasPrefix(strings.TrimSpace(e.Text), "5.1.")
}

// classify turns an error from the SMTP conversation into a *SendError.
func classify(err error, connect bool) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		e := &SendError{Code: te.Code, Text: strings.ReplaceAll(te.Msg, "\n", " "), Temporary: te.Code < 500, Connect: connect}
		if f := strings.Fields(te.Msg); len(f) > 0 && len(f[0]) >= 5 && f[0][1] == '.' && (f[0][0] == '4' || f[0][0] == '5') {
			e.Enhanced = f[0]
			e.Text = strings.TrimSpace(strings.TrimPrefix(e.Text, f[0]))
		}
		// 421: the server is closing the connection.
		e.Broken = te.Code == 421 || connect
		return e
	}
	// Network errors, timeouts and dropped connections: temporary.
	return &SendError{Text: err.Error(), Temporary: true, Broken: true, Connect: connect}
}
