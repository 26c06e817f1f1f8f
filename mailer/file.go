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

// FileTransport writes each message to DIR/<campaign>/<address>.eml.
type FileTransport struct {
	Dir string
}

func (t *FileTransport) String() string { return "file://" + t.Dir }

// Open implements Transport.
func (t *FileTransport) Open(ctx context.Context) (Conn, error) { return t, nil }

// Close implements Conn.
func (t *FileTransport) Close() error { return nil }

// Send writes the message atomically: a reader never sees half a file.
func (t *FileTransport) Send(ctx context.Context, m *Built) error {
	dir := filepath.Join(t.Dir, fileName(m.Campaign))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &SendError{Text: err.Error(), Temporary: false, Connect: true}
	}
	var buf bytes.Buffer
	if err := m.WriteTo(&buf); err != nil {
		return &SendError{Text: err.Error()}
	}
	path := filepath.Join(dir, fileName(m.To)+".eml")
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return &SendError{Text: err.Error(), Temporary: true}
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return &SendError{Text: fmt.Sprint(errors.Join(werr, cerr)), Temporary: true}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return &SendError{Text: err.Error(), Temporary: true}
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
