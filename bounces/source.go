package bounces

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/example/newsletter"
)

// Read processes every message at path: a maildir (a directory with cur/
// and new/), an mbox (a file whose first line starts with "From "), or one
// message file; "-" reads one message or an mbox from stdin, as an MTA's
// pipe alias gives it. Messages are left where they are: reading them
// again changes nothing more.
func (p *Processor) Read(ctx context.Context, path string, stdin io.Reader) (Outcome, error) {
	var total Outcome
	each := func(source string, raw []byte) error {
		o, err := p.ProcessMessage(ctx, source, raw)
		total.Add(o)
		return err
	}
	if path == "-" {
		data, err := io.ReadAll(io.LimitReader(stdin, 1<<30))
		if err != nil {
			return total, err
		}
		return total, eachInStream(ctx, "stdin", data, each)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return total, newsletter.Errorf(newsletter.EINVALID, "%s: %w; give a message file, a maildir, an mbox or - for stdin", path, newsletter.PathCause(err))
	}
	if fi.IsDir() {
		return total, eachInMaildir(ctx, path, each)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return total, newsletter.Errorf(newsletter.EINVALID, "%s: %w", path, newsletter.PathCause(err))
	}
	source := "file"
	if isMbox(data) {
		source = "mbox"
	}
	return total, eachInStream(ctx, source, data, each)
}

// eachInMaildir calls fn with every message in new/ and cur/ of a maildir,
// in name order.
func eachInMaildir(ctx context.Context, dir string, fn func(string, []byte) error) error {
	var files []string
	found := false
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			continue
		}
		found = true
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(dir, sub, e.Name()))
			}
		}
	}
	if !found {
		return newsletter.Errorf(newsletter.EINVALID, "%s is a directory but not a maildir (it has no cur/ or new/)", dir)
	}
	sort.Strings(files)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue // moved by a mail client meanwhile
		} else if err != nil {
			return err
		}
		if err := fn("maildir", data); err != nil {
			return err
		}
	}
	return nil
}

func isMbox(data []byte) bool { return bytes.HasPrefix(data, []byte("From ")) }

// eachInStream calls fn with each message of an mbox, or with data itself
// when it is one message.
func eachInStream(ctx context.Context, source string, data []byte, fn func(string, []byte) error) error {
	if !isMbox(data) {
		return fn(source, data)
	}
	for _, msg := range splitMbox(data) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(source, msg); err != nil {
			return err
		}
	}
	return nil
}

// splitMbox splits an mbox (mboxrd or mboxo) at its "From " lines and
// unquotes ">From " lines.
func splitMbox(data []byte) [][]byte {
	var out [][]byte
	var cur *bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxSize)
	prevBlank := true
	for sc.Scan() {
		line := sc.Bytes()
		if prevBlank && bytes.HasPrefix(line, []byte("From ")) {
			if cur != nil {
				out = append(out, cur.Bytes())
			}
			cur = &bytes.Buffer{}
			prevBlank = false
			continue
		}
		prevBlank = len(bytes.TrimRight(line, "\r")) == 0
		if cur == nil {
			continue
		}
		if q := bytes.TrimLeft(line, ">"); len(q) < len(line) && bytes.HasPrefix(q, []byte("From ")) {
			line = line[1:]
		}
		cur.Write(line)
		cur.WriteString("\n")
	}
	if cur != nil {
		out = append(out, cur.Bytes())
	}
	return out
}
