package mailer

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// Reason says what a failed attempt means for the delivery and for the
// address, in the way go-mail's SendError separates a retry from a
// give-up.
type Reason int

// Reasons of a failed attempt.
const (
	// ReasonTemporary: a 4xx reply, or a failure before the message was complete
	// (the server cannot have accepted it). Retried; past the run's
	// retries the delivery is deferred to a later run.
	ReasonTemporary Reason = iota
	// ReasonRecipient: a permanent reply about the recipient (5.1.1 no such
	// user, 5.2.2 mailbox full …). The delivery fails and the failure
	// counts against the address.
	ReasonRecipient
	// ReasonSender: a permanent reply about the sender, the message or a policy
	// (5.1.7, 5.1.8, 5.7.x, 5.3.x, 5.5.x, any 5xx to MAIL FROM). The
	// delivery fails; the address is not touched.
	ReasonSender
	// ReasonConnection: no usable connection (refused, TLS, authentication).
	// Nothing was sent.
	ReasonConnection
	// ReasonUnknown: the whole message, final dot included, was written and the
	// reply was lost (a drop, a reset, a timeout). It may have been
	// delivered: it is never retried by itself.
	ReasonUnknown
)

var reasonNames = [...]string{"temporary", "recipient", "sender", "connection", "unknown"}

func (r Reason) String() string { return reasonNames[r] }

// SendError is a failed delivery attempt.
type SendError struct {
	Reason   Reason
	Code     int    // SMTP reply code, 0 when there was none
	Enhanced string // enhanced status code (RFC 3463) such as "5.1.1", when given
	Text     string
	// Broken means the connection is unusable: open a new one.
	Broken bool
	// Retry, for a Connection failure, says another try may succeed (a
	// refused connection, a 4xx greeting), unlike a refused login.
	Retry bool
}

func (e *SendError) Error() string {
	if e.Code > 0 {
		if e.Enhanced != "" {
			return fmt.Sprintf("%d %s %s", e.Code, e.Enhanced, e.Text)
		}
		return fmt.Sprintf("%d %s", e.Code, e.Text)
	}
	return e.Text
}

// deadAddressCodes are the enhanced codes that say the mailbox does not
// exist or will never take mail: the address is marked bounced at once.
var deadAddressCodes = map[string]bool{
	"5.1.1": true, "5.1.2": true, "5.1.3": true, "5.1.6": true, "5.1.10": true,
	"5.2.1": true, "5.4.1": true,
}

// DeadAddress reports whether a recipient failure says the address is gone
// for good, which stops further mail to it at once.
func (e *SendError) DeadAddress() bool {
	return e.Reason == ReasonRecipient && deadAddressCodes[e.Enhanced]
}

// Stages of an SMTP transaction a reply can answer.
const (
	stageConnect = "connect" // greeting, EHLO, STARTTLS, AUTH
	stageMail    = "mail"
	stageRcpt    = "rcpt"
	stageData    = "data" // the DATA command
	stageDot     = "dot"  // the end of the message
)

// ClassifyReply returns what a reply to a stage of the transaction means,
// by its enhanced status code (RFC 3463) where there is one and by its
// basic code otherwise.
func ClassifyReply(code int, enhanced, stage string) Reason {
	switch {
	case code < 500:
		return ReasonTemporary
	case stage == stageConnect:
		return ReasonConnection
	case stage == stageMail:
		return ReasonSender
	}
	if class, detail, ok := splitEnhanced(enhanced); ok {
		switch {
		case class == "1" && (detail == "7" || detail == "8"):
			return ReasonSender // the sender's address or domain
		case class == "1" || class == "2":
			return ReasonRecipient // the address, the mailbox
		case class == "4" && (detail == "1" || detail == "4"):
			return ReasonRecipient // no answer from, or no route to, the recipient's host
		}
		// X.3 the mail system, X.4 the network (a sending quota, a
		// loop), X.5 the protocol, X.6 the content, X.7 policy: the
		// sender's side. An unknown subject is not held against a reader.
		return ReasonSender
	}
	switch code {
	case 550, 551, 552, 553:
		if stage == stageRcpt {
			return ReasonRecipient
		}
	}
	return ReasonSender // 554 transaction failed, 5.0x syntax, 53x authentication
}

// splitEnhanced splits "5.1.1" into its subject and detail.
func splitEnhanced(s string) (class, detail string, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || (parts[0] != "4" && parts[0] != "5") || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// replyError turns a reply to a stage into a *SendError.
func replyError(te *textproto.Error, stage string) *SendError {
	e := &SendError{Code: te.Code, Text: strings.ReplaceAll(te.Msg, "\n", " ")}
	if f := strings.Fields(te.Msg); len(f) > 0 {
		if _, _, ok := splitEnhanced(f[0]); ok {
			e.Enhanced = f[0]
			e.Text = strings.TrimSpace(strings.TrimPrefix(e.Text, f[0]))
		}
	}
	e.Reason = ClassifyReply(te.Code, e.Enhanced, stage)
	// 421: the server is closing the connection.
	e.Broken = te.Code == 421 || stage == stageConnect
	e.Retry = te.Code < 500
	return e
}

// classify turns an error met at a stage of the SMTP conversation into a
// *SendError. A failure with no reply is Connection at connect time and
// Temporary otherwise; the caller makes it Unknown once the final dot was
// written.
func classify(err error, stage string) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return replyError(te, stage)
	}
	// Network errors, timeouts and dropped connections.
	reason := ReasonTemporary
	if stage == stageConnect {
		reason = ReasonConnection
	}
	return &SendError{Reason: reason, Text: err.Error(), Broken: true, Retry: true}
}
