package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileTransport writes each message to its own file,
// DIR/<campaign>/<delivery>-<address>.eml, whose name no other delivery can
// have. A file is created exclusively and never overwritten.
type FileTransport struct {
	Dir string
}

func (t *FileTransport) String() string { return "file://" + t.Dir }

// Open implements Transport.
func (t *FileTransport) Open(ctx context.Context) (Conn, error) { return t, nil }

// Close implements Conn.
func (t *FileTransport) Close() error { return nil }

// Send writes the message atomically under a name of its own: a reader
// never sees half a file, and an existing file is an error, not replaced.
func (t *FileTransport) Send(ctx context.Context, m *Built) error {
	dir := filepath.Join(t.Dir, fileName(m.Campaign))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &SendError{Reason: ReasonConnection, Text: err.Error()}
	}
	var buf bytes.Buffer
	if err := m.WriteTo(&buf); err != nil {
		return &SendError{Reason: ReasonSender, Text: err.Error()}
	}
	name := fileName(m.To) + "-" + strings.Trim(fileName(m.MessageID), "<>")
	if m.DeliveryID > 0 {
		name = fmt.Sprintf("%d-%s", m.DeliveryID, fileName(m.To))
	}
	path := filepath.Join(dir, name+".eml")
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return &SendError{Reason: ReasonTemporary, Text: err.Error()}
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		return &SendError{Reason: ReasonTemporary, Text: fmt.Sprint(errors.Join(werr, cerr))}
	}
	// A hard link fails when the name exists: nothing is overwritten.
	if err := os.Link(tmp.Name(), path); err != nil {
		return &SendError{Reason: ReasonSender, Text: fmt.Sprintf("writing %s: %v", path, err)}
	}
	return nil
}

// fileName makes s safe as one path element.
func fileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r < 0x20 {
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}
