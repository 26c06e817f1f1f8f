package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
	"unsafe"
)

// The message is written here directly into the caller's (pooled) buffer,
// in exactly the form go-mail v0.8.1 gave it with the options Build used
// (quoted-printable UTF-8, multipart/alternative, text before HTML): the
// generic headers in name order, then List-Unsubscribe and
// List-Unsubscribe-Post, From, To, Reply-To, the multipart body. The
// golden test in mime_test.go compares the two byte for byte.

// maxHeaderLength is where header lines are folded, at a space.
const maxHeaderLength = 76

// writeHeader writes "key: value\r\n", folding before a word that would
// take the line to maxHeaderLength: the words are value split at every
// space (so an empty word between two spaces counts), and a fold replaces
// the space before it.
func writeHeader(w *bytes.Buffer, key, value string) {
	w.WriteString(key)
	w.WriteString(": ")
	room := maxHeaderLength - 2 - len(key) - 2
	n := strings.Count(value, " ") + 1
	for i := 0; i < n; i++ {
		word := value
		if j := strings.IndexByte(value, ' '); j >= 0 {
			word, value = value[:j], value[j+1:]
		}
		if room-len(word) <= 1 {
			if b := w.Bytes(); b[len(b)-1] == ' ' {
				w.Truncate(w.Len() - 1)
			}
			w.WriteString("\r\n ")
			room = maxHeaderLength - 3
		}
		w.WriteString(word)
		if i < n-1 {
			w.WriteByte(' ')
			room--
		}
		room -= len(word)
	}
	w.WriteString("\r\n")
}

// encodeHeader is the header value as go-mail set it, an RFC 2047 Q word
// where the value needs one, and encoded words too where an ASCII value
// could not be sent as it is (see mustEncode).
func encodeHeader(s string) string {
	if mustEncode(s) {
		return encodeWords(s)
	}
	return mime.QEncoding.Encode("UTF-8", s)
}

// mustEncode reports whether an ASCII value needs encoded words all the
// same: "=?" would be decoded by the reader's mail client as an encoded word
// (a feed's author could write any subject that way), and a word longer
// than a header line cannot be folded.
func mustEncode(s string) bool {
	if strings.Contains(s, "=?") {
		return true
	}
	for _, w := range strings.Fields(s) {
		if len(w) > maxHeaderLength-len("Subject: ") {
			return true
		}
	}
	return false
}

// encodeWords encodes s as RFC 2047 Q encoded words of at most 75
// characters, each holding whole characters, separated by spaces where the
// header may fold.
func encodeWords(s string) string {
	const prefix, suffix, room = "=?UTF-8?q?", "?=", 75 - len("=?UTF-8?q?") - len("?=")
	var out, word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			if out.Len() > 0 {
				out.WriteByte(' ')
			}
			out.WriteString(prefix + word.String() + suffix)
			word.Reset()
		}
	}
	for _, r := range s {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)):
			enc = string(r)
		default:
			var b strings.Builder
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, "=%02X", c)
			}
			enc = b.String()
		}
		if word.Len()+len(enc) > room {
			flush()
		}
		word.WriteString(enc)
	}
	flush()
	return out.String()
}

// newBoundary returns a random multipart boundary, as mime/multipart
// makes them.
func newBoundary() string {
	var r [30]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// stringBytes views s as bytes without copying; the bytes are only read.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// writeQP writes s quoted-printable encoded (hard line breaks as CRLF).
func writeQP(w *bytes.Buffer, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write(stringBytes(s)); err != nil {
		return err
	}
	return qp.Close()
}

// EncodeQP returns s quoted-printable encoded as a message part is: a
// Piece's Encoded.
func EncodeQP(s string) []byte {
	var b bytes.Buffer
	b.Grow(len(s) + len(s)/8)
	writeQP(&b, s)
	return b.Bytes()
}

// writePieces writes a part's pieces: a run of Text pieces through one
// encoder, as if it were one string, and Encoded pieces as they are.
func writePieces(w *bytes.Buffer, ps []Piece) error {
	var qp *quotedprintable.Writer
	for _, p := range ps {
		if p.Encoded != nil {
			if qp != nil {
				if err := qp.Close(); err != nil {
					return err
				}
				qp = nil
			}
			w.Write(p.Encoded)
			continue
		}
		if qp == nil {
			qp = quotedprintable.NewWriter(w)
		}
		if _, err := qp.Write(stringBytes(p.Text)); err != nil {
			return err
		}
	}
	if qp != nil {
		return qp.Close()
	}
	return nil
}

// partHeader is the header of a quoted-printable UTF-8 part.
func partHeader(contentType string) string {
	return "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: " + contentType + "; charset=UTF-8\r\n"
}

// writeMIME writes the unsigned message into w.
func (b *Built) writeMIME(w *bytes.Buffer) error {
	h := &b.h
	writeHeader(w, "Date", h.date.Format(time.RFC1123Z))
	if h.listID != "" {
		writeHeader(w, "List-Id", encodeHeader(h.listID))
	}
	writeHeader(w, "MIME-Version", "1.0")
	writeHeader(w, "Message-ID", encodeHeader(h.messageID))
	writeHeader(w, "Subject", encodeHeader(h.subject))
	if h.unsubscribe != "" {
		w.WriteString("List-Unsubscribe: " + h.unsubscribe + "\r\n")
		if h.oneClick {
			w.WriteString("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
		}
	}
	writeHeader(w, "From", h.from)
	writeHeader(w, "To", h.to)
	if h.replyTo != "" {
		writeHeader(w, "Reply-To", h.replyTo)
	}
	if b.html == nil {
		w.WriteString(partHeader("text/plain"))
		w.WriteString("\r\n")
		return writePieces(w, b.text)
	}
	boundary := newBoundary()
	w.WriteString("Content-Type: multipart/alternative;\r\n boundary=" + boundary + "\r\n\r\n")
	w.WriteString("--" + boundary + "\r\n" + partHeader("text/plain") + "\r\n")
	if err := writePieces(w, b.text); err != nil {
		return err
	}
	w.WriteString("\r\n--" + boundary + "\r\n" + partHeader("text/html") + "\r\n")
	if err := writePieces(w, b.html); err != nil {
		return err
	}
	w.WriteString("\r\n--" + boundary + "--\r\n")
	return nil
}
