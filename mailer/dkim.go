package mailer

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// DKIM signing (RFC 6376), relaxed/relaxed, sha256, with an RSA or an
// Ed25519 key (RFC 8463). It works on the message as written into the
// sender's buffer: the body is canonicalised and hashed in one pass over
// those bytes, unchanged runs of lines handed to the hash as they are,
// without a copy; the headers are canonicalised from the same bytes. The
// signature is made on the worker that sends the message.
//
// RSA-2048 costs about a millisecond per message; Ed25519 a few tens of
// microseconds. Receivers that check ed25519-sha256 are still few, so an
// Ed25519 key is best added as a second signature beside the RSA one, not
// instead of it (a message may carry both; each receiver checks the one it
// knows). The tool signs with one key; a second signature is not built in.

// signScratch is per-message working memory, pooled.
type signScratch struct {
	h    hash.Hash
	line []byte
	hdr  []byte
}

var signPool = sync.Pool{New: func() any { return &signScratch{h: sha256.New()} }}

// sign returns the DKIM-Signature header field, CRLF-ended, for msg.
func (b *Built) sign(msg []byte) (string, error) {
	i := bytes.Index(msg, []byte("\r\n\r\n"))
	if i < 0 {
		return "", errors.New("dkim: the message has no body")
	}
	head, body := msg[:i+2], msg[i+4:]
	sc := signPool.Get().(*signScratch)
	defer signPool.Put(sc)
	sc.h.Reset()
	relaxedBody(sc, body)
	bh := base64.StdEncoding.EncodeToString(sc.h.Sum(nil))

	algo := "rsa-sha256"
	if _, ok := b.dkim.key.Public().(ed25519.PublicKey); ok {
		algo = "ed25519-sha256"
	}
	var sig strings.Builder
	sig.WriteString("DKIM-Signature: v=1; a=" + algo + "; c=relaxed/relaxed; d=" + b.dkim.domain +
		"; s=" + b.dkim.selector + ";\r\n t=" + strconv.FormatInt(b.h.date.Unix(), 10) +
		"; h=" + strings.Join(b.dkimKeys, ":") + ";\r\n bh=" + bh + ";\r\n b=")

	sc.h.Reset()
	for _, k := range b.dkimKeys {
		if f := headerField(head, k); f != nil {
			sc.hdr = relaxedHeader(sc.hdr[:0], f)
			sc.h.Write(sc.hdr)
		}
	}
	sc.hdr = relaxedHeader(sc.hdr[:0], []byte(sig.String()))
	sc.h.Write(bytes.TrimSuffix(sc.hdr, []byte("\r\n")))
	sum := sc.h.Sum(nil)
	var s []byte
	var err error
	if k, ok := b.dkim.key.(ed25519.PrivateKey); ok {
		s = ed25519.Sign(k, sum) // RFC 8463: the SHA-256 hash, signed as is
	} else {
		s, err = b.dkim.key.Sign(rand.Reader, sum, crypto.SHA256)
	}
	if err != nil {
		return "", err
	}
	v := base64.StdEncoding.EncodeToString(s)
	for len(v) > 72 {
		sig.WriteString(v[:72] + "\r\n ")
		v = v[72:]
	}
	sig.WriteString(v + "\r\n")
	return sig.String(), nil
}

// headerField returns the last field named name in head (each field with
// its continuation lines and final CRLF), nil when there is none.
func headerField(head []byte, name string) []byte {
	var found []byte
	for len(head) > 0 {
		end := 0
		for {
			i := bytes.IndexByte(head[end:], '\n')
			if i < 0 {
				end = len(head)
				break
			}
			end += i + 1
			if end >= len(head) || (head[end] != ' ' && head[end] != '\t') {
				break
			}
		}
		f := head[:end]
		if c := bytes.IndexByte(f, ':'); c > 0 && strings.EqualFold(strings.TrimRight(string(f[:c]), " \t"), name) {
			found = f
		}
		head = head[end:]
	}
	return found
}

// relaxedHeader appends field canonicalised "relaxed" (RFC 6376 3.4.2):
// the name in lower case, the value unfolded, runs of white space made one
// space, none around the colon or at the end; CRLF-ended.
func relaxedHeader(dst, field []byte) []byte {
	c := bytes.IndexByte(field, ':')
	name := bytes.TrimRight(field[:c], " \t")
	for _, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	dst = append(dst, ':')
	space := false
	start := len(dst)
	for _, ch := range field[c+1:] {
		switch ch {
		case '\r', '\n':
			continue
		case ' ', '\t':
			space = true
			continue
		}
		if space && len(dst) > start {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, ch)
	}
	return append(dst, '\r', '\n')
}

// relaxedBody hashes body canonicalised "relaxed" (RFC 6376 3.4.4) into
// sc.h: white space runs in a line made one space, none at a line's end,
// no empty lines at the end, CRLF after the last line. Runs of lines that
// need no change are hashed straight from body.
func relaxedBody(sc *signScratch, body []byte) {
	body = trimEmptyLines(body)
	span := 0 // start of the run of unchanged lines not yet hashed
	for pos := 0; pos < len(body); {
		i := bytes.IndexByte(body[pos:], '\n')
		end := len(body)
		if i >= 0 {
			end = pos + i + 1
		}
		line := body[pos:end]
		if !lineIsRelaxed(line) {
			sc.h.Write(body[span:pos])
			sc.line = relaxLine(sc.line[:0], line)
			sc.h.Write(sc.line)
			span = end
		}
		pos = end
	}
	sc.h.Write(body[span:])
}

// trimEmptyLines cuts the lines at the end of body that are empty or only
// white space.
func trimEmptyLines(body []byte) []byte {
	end := len(body)
	for end > 0 {
		// The last line is body[start:end] without its line break.
		e := end
		if e > 0 && body[e-1] == '\n' {
			e--
			if e > 0 && body[e-1] == '\r' {
				e--
			}
		}
		start := bytes.LastIndexByte(body[:e], '\n') + 1
		if len(bytes.Trim(body[start:e], " \t")) > 0 {
			return body[:end]
		}
		end = start
	}
	return body[:0]
}

// lineIsRelaxed reports whether line is already in relaxed form: it ends
// in CRLF, with no white space before it, no tab and no two spaces.
func lineIsRelaxed(line []byte) bool {
	n := len(line)
	if n < 2 || line[n-1] != '\n' || line[n-2] != '\r' {
		return false
	}
	if n > 2 && (line[n-3] == ' ' || line[n-3] == '\t') {
		return false
	}
	return bytes.IndexByte(line, '\t') < 0 && !bytes.Contains(line, []byte("  ")) && bytes.IndexByte(line[:n-2], '\r') < 0
}

// relaxLine appends line in relaxed form, CRLF-ended.
func relaxLine(dst, line []byte) []byte {
	line = bytes.TrimRight(line, "\r\n")
	space := false
	for _, ch := range line {
		if ch == ' ' || ch == '\t' {
			space = true
			continue
		}
		if space {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, ch)
	}
	return append(dst, '\r', '\n')
}
