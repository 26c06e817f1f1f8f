package mailer

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Parts reads a message as Build makes it and returns its decoded text and
// HTML parts. It is strict: a message that is not multipart/alternative
// with text/plain before text/html is an error.
func Parts(raw []byte) (text, html string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", fmt.Errorf("parse message: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return "", "", fmt.Errorf("content-type: %w", err)
	}
	if mt == "text/plain" {
		b, err := decodePart(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		return string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "", err
	}
	if mt != "multipart/alternative" {
		return "", "", fmt.Errorf("content-type %s, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var order []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		} else if err != nil {
			return "", "", fmt.Errorf("multipart: %w", err)
		}
		pt, pp, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return "", "", fmt.Errorf("part content-type: %w", err)
		}
		if cs := strings.ToLower(pp["charset"]); cs != "utf-8" {
			return "", "", fmt.Errorf("part %s has charset %q, want UTF-8", pt, cs)
		}
		b, err := decodePart(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return "", "", fmt.Errorf("part %s: %w", pt, err)
		}
		order = append(order, pt)
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		switch pt {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		return "", "", fmt.Errorf("parts %v, want text/plain then text/html", order)
	}
	return text, html, nil
}

func decodePart(r io.Reader, cte string) ([]byte, error) {
	switch strings.ToLower(cte) {
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(r))
	case "", "7bit", "8bit":
		return io.ReadAll(r)
	default:
		return nil, fmt.Errorf("unexpected transfer encoding %q", cte)
	}
}
