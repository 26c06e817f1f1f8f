package subscribers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/example/newsletter"
)

// Formats are the export files of other services that import reads, by the
// name --from takes.
var Formats = []string{"mailchimp", "listmonk", "substack"}

// format reads one service's export: which columns hold what, and how its
// statuses map to ours.
type format struct {
	name, desc string
	// column positions, -1 when absent
	email, name1, first, last, status, lists, tags int
	// fixed is the status of every row when the file says it by its kind
	// (a Mailchimp unsubscribed export); statusOf maps a status cell.
	fixed    string
	statusOf func(cell string) (string, error)
}

// NewReaderFrom is NewReader for the export of another service: from is
// "mailchimp", "listmonk" or "substack", or "" to recognise the file by its
// header (a file of none of them is read as this tool's own columns).
//
// Mailchimp (an audience export, or its unsubscribed or cleaned export):
// "Email Address", "First Name" + "Last Name" as the name, TAGS as lists;
// the file's kind gives the status (subscribed: active, unsubscribed:
// unsubscribed, cleaned: bounced). listmonk: email, name, status (enabled:
// active; disabled and blocklisted: unsubscribed), lists if present.
// Substack: email, email_disabled (true: unsubscribed). A tag or list name
// becomes a list name: spaces become '-', other characters a list name
// cannot hold are dropped. Every other column is ignored and named by
// Ignored.
func NewReaderFrom(r io.Reader, from string) (*Reader, error) {
	from = strings.ToLower(strings.TrimSpace(from))
	if from != "" && !slices.Contains(Formats, from) {
		return nil, invalid("--from %q: use mailchimp, listmonk or substack (or leave it out to read the file by its header)", from)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	// The header is the first line that is not blank, as encoding/csv
	// reads it.
	line := 1
	for {
		i := bytes.IndexByte(head, '\n')
		if i < 0 || len(bytes.TrimSpace(head[:i])) > 0 {
			if i >= 0 {
				head = head[:i+1]
			}
			break
		}
		head, line = head[i+1:], line+1
	}
	header, err := csv.NewReader(bytes.NewReader(head)).Read()
	switch {
	case err != nil && from != "":
		return nil, invalid("line %d: cannot read the header of the %s export: %v", line, from, csvReason(err))
	case err != nil || (from == "" && detectFormat(header) == ""):
		return NewReader(br) // this tool's own columns, and its errors
	}
	if from == "" {
		from = detectFormat(header)
	}
	f, err := newFormat(from, header)
	if err != nil {
		return nil, err
	}
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return nil, invalid("line 1: cannot read the header: %v", csvReason(err))
	}
	rd := &Reader{r: cr, format: f, email: f.email, name: -1, categories: -1, lists: -1, status: -1,
		HasName: f.name1 >= 0 || f.first >= 0 || f.last >= 0, HasStatus: true}
	used := []int{f.email, f.name1, f.first, f.last, f.status, f.lists, f.tags}
	for i, h := range header {
		if !slices.Contains(used, i) {
			rd.ignored = append(rd.ignored, strings.TrimSpace(h))
		}
	}
	return rd, nil
}

// Format returns the service whose export is read ("mailchimp", "listmonk",
// "substack"), or "" for this tool's own columns.
func (rd *Reader) Format() string {
	if rd.format == nil {
		return ""
	}
	return rd.format.name
}

// Description says in words what kind of file is read, for a person.
func (rd *Reader) Description() string {
	if rd.format == nil {
		return "subscribers CSV"
	}
	return rd.format.desc
}

// Ignored returns the header's columns that import does not read, in order.
func (rd *Reader) Ignored() []string { return rd.ignored }

// detectFormat names the service whose export header looks like header, or
// returns "".
func detectFormat(header []string) string {
	has := func(name string) bool { return columnIndex(header, name) >= 0 }
	switch {
	case has("email address") && (has("member_rating") || has("leid") || has("euid") || has("optin_time")):
		return "mailchimp"
	case has("email") && has("attributes"):
		return "listmonk"
	case has("email") && has("email_disabled"):
		return "substack"
	}
	return ""
}

// columnIndex returns the position of the column named name (without regard
// to case), or -1.
func columnIndex(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}

func newFormat(name string, header []string) (*format, error) {
	col := func(n string) int { return columnIndex(header, n) }
	f := &format{name: name, email: -1, name1: -1, first: -1, last: -1, status: -1, lists: -1, tags: -1}
	switch name {
	case "mailchimp":
		f.email, f.first, f.last, f.tags = col("email address"), col("first name"), col("last name"), col("tags")
		if f.email < 0 {
			return nil, invalid("line 1: a Mailchimp export has an \"Email Address\" column, and this header has none; leave out --from to read the file by its header")
		}
		switch {
		case col("unsub_time") >= 0:
			f.fixed, f.desc = newsletter.StatusUnsubscribed, "a Mailchimp unsubscribed export (every reader: unsubscribed)"
		case col("clean_time") >= 0:
			f.fixed, f.desc = newsletter.StatusBounced, "a Mailchimp cleaned export (every reader: bounced)"
		default:
			f.fixed, f.desc = newsletter.StatusActive, "a Mailchimp audience export (every reader: active)"
		}
	case "listmonk":
		f.email, f.name1, f.status, f.lists = col("email"), col("name"), col("status"), col("lists")
		f.desc = "a listmonk export (enabled: active; disabled, blocklisted: unsubscribed)"
		f.statusOf = func(s string) (string, error) {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "enabled", "":
				return newsletter.StatusActive, nil
			case "disabled", "blocklisted":
				return newsletter.StatusUnsubscribed, nil
			}
			return "", fmt.Errorf("status %q is not a listmonk status (enabled, disabled, blocklisted)", clipQuote(s))
		}
	case "substack":
		f.email, f.name1, f.status = col("email"), col("name"), col("email_disabled")
		f.desc = "a Substack export (email_disabled true: unsubscribed)"
		f.statusOf = func(s string) (string, error) {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "false", "":
				return newsletter.StatusActive, nil
			case "true":
				return newsletter.StatusUnsubscribed, nil
			}
			return "", fmt.Errorf("email_disabled %q is neither true nor false", clipQuote(s))
		}
	}
	if f.email < 0 {
		return nil, invalid("line 1: a %s export has an email column, and this header has none", name)
	}
	return f, nil
}

// row converts one record of the export.
func (f *format) row(rec []string, line int) (*Row, error) {
	cell := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	email, err := NormalizeEmail(cell(f.email))
	if err != nil {
		return nil, &RowError{Line: line, Reason: newsletter.ErrorMessage(err)}
	}
	row := &Row{Line: line, Email: email, Status: f.fixed}
	if f.name1 >= 0 {
		row.Name = CleanName(cell(f.name1))
	} else {
		row.Name = CleanName(strings.TrimSpace(cell(f.first) + " " + cell(f.last)))
	}
	if f.statusOf != nil && f.status >= 0 {
		if row.Status, err = f.statusOf(cell(f.status)); err != nil {
			return nil, &RowError{Line: line, Reason: err.Error()}
		}
	} else if f.statusOf != nil {
		row.Status = newsletter.StatusActive
	}
	var names []string
	if f.tags >= 0 && cell(f.tags) != "" {
		// Mailchimp writes tags as quoted, comma-separated names in the cell.
		tr := csv.NewReader(strings.NewReader(cell(f.tags)))
		tr.LazyQuotes = true
		if tags, err := tr.Read(); err == nil {
			names = append(names, tags...)
		}
	}
	if f.lists >= 0 {
		names = append(names, strings.FieldsFunc(cell(f.lists), func(r rune) bool { return strings.ContainsRune(listSeparators+",", r) })...)
	}
	for _, n := range names {
		if l := listName(n); l != "" && !slices.Contains(row.Lists, l) {
			row.Lists = append(row.Lists, l)
		}
	}
	return row, nil
}

// listName makes a service's tag or list name into a list name: spaces
// become '-', characters a list name cannot hold are dropped, 64 at most.
func listName(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), "-") {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}
