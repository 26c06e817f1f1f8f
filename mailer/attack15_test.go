package mailer

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
)

// A subject of one long word (an article title without spaces, 1,200
// ASCII characters) is written as one header line of 1,210 bytes: RFC 5322
// 2.1.1 limits a line to 998 characters, and RFC 5321 4.5.3.1.6 a text
// line to 1,000 with the CRLF. writeHeader folds only at spaces and
// encodeHeader leaves printable ASCII as it is.
func TestAttack15_LongSubjectLineOver998(t *testing.T) {
	b, err := NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust")
	if err != nil {
		t.Fatal(err)
	}
	built, err := b.Build(&Message{ToName: "Ana", ToEmail: "ana@example.org", Subject: strings.Repeat("X", 1200), Text: "Hello\n"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := built.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			t.Fatalf("a header line of %d bytes: %.40q…", len(l), l)
		}
	}
}

// A subject that holds an RFC 2047 encoded word as text (an article
// titled "=?utf-8?b?SGFja2Vk?=") goes out as it is, and every reader
// decodes it: the subject the reader sees is "Hacked", not the title.
// encodeHeader (mime.QEncoding.Encode) encodes only non-ASCII values.
func TestAttack15_EncodedWordLookalikeInSubject(t *testing.T) {
	b, err := NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust")
	if err != nil {
		t.Fatal(err)
	}
	const subject = "=?utf-8?b?SGFja2Vk?= notice"
	built, err := b.Build(&Message{ToName: "Ana", ToEmail: "ana@example.org", Subject: subject, Text: "Hello\n"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := built.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if got != subject {
		t.Fatalf("the subject decodes to %q, want %q (raw %q)", got, subject, m.Header.Get("Subject"))
	}
}
