package subscribers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"unicode"

	"github.com/example/newsletter"
)

// Columns are the CSV columns, in the order export writes them.
var Columns = []string{"email", "name", "categories", "lists", "status"}

// listSeparators split the categories and lists cells.
const listSeparators = ";|"

// Row is one valid CSV record.
type Row struct {
	Line       int // physical line where the record starts
	Email      string
	Name       string
	Categories []string // empty: every category
	Lists      []string
	Status     string // "" when the column is absent or the cell empty
}

// RowError is an invalid CSV record.
type RowError struct {
	Line   int
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Unwrap makes a RowError an EINVALID application error.
func (e *RowError) Unwrap() error { return newsletter.Errorf(newsletter.EINVALID, "%s", e.Error()) }

// Reader reads subscribers CSV one record at a time.
type Reader struct {
	r *csv.Reader
	// column positions, -1 when absent
	email, name, categories, lists, status int
	// HasName, HasCategories and HasStatus report whether the header has
	// those columns; a missing column leaves stored values alone.
	HasName, HasCategories, HasStatus bool
	format                            *format  // a service's export (formats.go); nil for these columns
	ignored                           []string // header names read as no column
	pending                           bool     // ahead holds the next record, read ahead after a quote error
	ahead                             []string
	aheadErr                          error
}

// NewReader reads the header row and returns a reader of the records that
// follow. A UTF-8 BOM and CRLF line ends are accepted; columns are matched by
// name, in any order, without regard to case.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, invalid("line 1: the file is empty; it needs a header row naming the columns (email required)")
	} else if err != nil {
		return nil, invalid("line 1: cannot read the header: %v", csvReason(err))
	}
	rd := &Reader{r: cr, email: -1, name: -1, categories: -1, lists: -1, status: -1}
	for i, h := range header {
		var dst *int
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "email", "e-mail", "email address", "e-mail address":
			dst = &rd.email
		case "name":
			dst = &rd.name
		case "categories":
			dst = &rd.categories
		case "lists":
			dst = &rd.lists
		case "status":
			dst = &rd.status
		default:
			rd.ignored = append(rd.ignored, strings.TrimSpace(h))
			continue // other columns are ignored, and named
		}
		if *dst >= 0 {
			return nil, invalid("line 1: column %q appears twice", strings.TrimSpace(h))
		}
		*dst = i
	}
	if rd.email < 0 {
		return nil, invalid("line 1: the header has no email column (columns: email, name, categories, lists, status)")
	}
	rd.HasName, rd.HasCategories, rd.HasStatus = rd.name >= 0, rd.categories >= 0, rd.status >= 0
	return rd, nil
}

// read returns the next record, or the one read ahead by Next.
func (rd *Reader) read() ([]string, error) {
	if rd.pending {
		rd.pending = false
		return rd.ahead, rd.aheadErr
	}
	return rd.r.Read()
}

// Next returns the next record: a *Row, or a *RowError for an invalid one
// (reading may go on), or io.EOF at the end.
func (rd *Reader) Next() (*Row, error) {
	rec, err := rd.read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return nil, err
		}
		if pe.Line > pe.StartLine && errors.Is(pe.Err, csv.ErrQuote) {
			next, err := rd.r.Read()
			if errors.Is(err, io.EOF) {
				return nil, &newsletter.Error{Code: newsletter.EINVALID, Err: newsletter.ErrUnreadableFile, Message: fmt.Sprintf(
					"line %d: a quoted field opens here and is never closed: it runs to the end of the file (line %d); close the quote (or double a quote inside a field) and import again; nothing was imported",
					pe.StartLine, pe.Line)}
			}
			rd.ahead, rd.aheadErr, rd.pending = slices.Clone(next), err, true // the record after the bad one
		}
		return nil, &RowError{Line: pe.StartLine, Reason: csvReason(err)}
	}
	line, _ := rd.r.FieldPos(0)
	if rd.format != nil {
		return rd.format.row(rec, line)
	}
	cell := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return UnguardCell(rec[i])
	}
	for i, col := range []int{rd.email, rd.name, rd.categories, rd.lists, rd.status} {
		if r, ok := oddLeadingSpace(cell(col)); ok {
			return nil, &RowError{Line: line, Reason: fmt.Sprintf("the %s starts with %U; remove it (a spreadsheet may read what follows as a formula)", Columns[i], r)}
		}
	}
	email, err := NormalizeEmail(cell(rd.email))
	if err != nil {
		return nil, &RowError{Line: line, Reason: newsletter.ErrorMessage(err)}
	}
	row := &Row{
		Line:       line,
		Email:      email,
		Name:       CleanName(cell(rd.name)),
		Categories: newsletter.SplitCategories(cell(rd.categories), listSeparators),
		Lists:      SplitLists(cell(rd.lists)),
		Status:     strings.ToLower(strings.TrimSpace(cell(rd.status))),
	}
	if row.Status != "" && !newsletter.ValidStatus(row.Status) {
		return nil, &RowError{Line: line, Reason: fmt.Sprintf("status %q is not one of %s", clipQuote(row.Status), strings.Join(newsletter.Statuses, ", "))}
	}
	for _, l := range row.Lists {
		if err := ValidListName(l); err != nil {
			return nil, &RowError{Line: line, Reason: newsletter.ErrorMessage(err)}
		}
	}
	return row, nil
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// SplitLists splits a lists cell on ';' or '|', trimming and dropping empty
// and repeated names.
func SplitLists(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(listSeparators, r) }) {
		l = strings.TrimSpace(l)
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// ValidListName checks a list name: 1 to 64 characters of letters, digits,
// '-', '_' and '.', so it fits a List-Id header.
func ValidListName(name string) error {
	if name == "" || len(name) > 64 {
		return invalid("list name %q must be 1 to 64 characters", clipQuote(name))
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return invalid("list name %q may hold only letters, digits, '-', '_' and '.'", clipQuote(name))
		}
	}
	return nil
}

// formulaStart are the characters that make a spreadsheet read a cell as a
// formula (OWASP's list for CSV injection).
const formulaStart = "=+-@\t\r"

// formulaLike reports whether a spreadsheet could take s for a formula, or s
// is such a cell already guarded (so that guarding can be undone exactly).
func formulaLike(s string) bool {
	for strings.HasPrefix(s, "'") {
		s = s[1:]
	}
	return s != "" && strings.ContainsRune(formulaStart, rune(s[0]))
}

// GuardCell returns s with a leading "'" when a spreadsheet could read it
// as a formula, so the cell shows as text. UnguardCell undoes it.
func GuardCell(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

// UnguardCell removes the "'" GuardCell added.
func UnguardCell(s string) string {
	if strings.HasPrefix(s, "'") && formulaLike(s[1:]) {
		return s[1:]
	}
	return s
}

// oddLeadingSpace returns the first white-space or control character of s
// that comes before any other character and is not a plain space: such a
// cell is an error rather than silently trimmed into something else.
func oddLeadingSpace(s string) (rune, bool) {
	for _, r := range s {
		if r == ' ' {
			continue
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return r, true
		}
		return 0, false
	}
	return 0, false
}

// Writer writes subscribers in the CSV format Reader reads.
type Writer struct {
	w *csv.Writer
	// Raw writes cells as stored, without the "'" that keeps a spreadsheet
	// from reading a cell as a formula.
	Raw bool
}

// NewWriter writes the header row and returns a writer of records.
func NewWriter(w io.Writer) (*Writer, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return nil, err
	}
	return &Writer{w: cw}, nil
}

// Write writes one subscriber.
func (w *Writer) Write(s *newsletter.Subscriber) error {
	rec := []string{s.Email, s.Name, strings.Join(s.Categories, ";"), strings.Join(s.Lists, ";"), s.Status}
	if !w.Raw {
		for i, c := range rec {
			rec[i] = GuardCell(c)
		}
	}
	return w.w.Write(rec)
}

// Flush flushes buffered records and reports any write error.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// Inputs returns the rows as the store's import takes them: each valid row
// as a newsletter.SubscriberInput (a column the file lacks leaves the stored
// value alone), each invalid one as its error.
func (r *Reader) Inputs() iter.Seq2[*newsletter.SubscriberInput, error] {
	return func(yield func(*newsletter.SubscriberInput, error) bool) {
		for {
			row, err := r.Next()
			if err == io.EOF {
				return
			}
			var in *newsletter.SubscriberInput
			if err == nil {
				in = &newsletter.SubscriberInput{
					Email: row.Email, Name: row.Name, HasName: r.HasName && row.Name != "",
					Categories: row.Categories, HasCategories: r.HasCategories,
					Lists: row.Lists, Status: row.Status,
				}
			}
			if !yield(in, err) {
				return
			}
		}
	}
}
