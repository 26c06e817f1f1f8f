// Package listing prints the CLI's listings in the format --format asks
// for: an aligned table, CSV (every cell guarded against spreadsheet
// formulas) or one JSON array, streamed a row at a time so that a listing of
// any size takes constant memory.
package listing

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/example/newsletter/subscribers"
)

// Table is a small listing held whole: rows for table and csv output, and
// the objects JSON output prints.
type Table struct {
	Header []string
	Rows   [][]string
	JSON   any // a slice; printed as one JSON array
}

// Print writes t to out in format (table, csv or json).
func Print(out io.Writer, format string, t *Table) error {
	l := New(out, format, t.Header)
	v := reflect.ValueOf(t.JSON)
	n := len(t.Rows)
	if format == "json" {
		n = 0
		if v.IsValid() {
			n = v.Len()
		}
	}
	for i := 0; i < n; i++ {
		var row []string
		var obj any
		if format == "json" {
			obj = v.Index(i).Interface()
		} else {
			row = t.Rows[i]
		}
		if err := l.Row(row, obj); err != nil {
			return err
		}
	}
	return l.Close()
}

// tableBlock is how many rows a table listing aligns at a time: the
// columns of each block of this many rows are aligned among themselves, so
// that a listing of any size takes constant memory.
const tableBlock = 1000

// Writer streams a listing in a format, one row at a time: csv and json
// write each row as it comes; table aligns blocks of tableBlock rows.
type Writer struct {
	format string
	out    io.Writer
	csv    *csv.Writer
	tw     *tabwriter.Writer
	header []string
	n      int
	buf    bytes.Buffer
	enc    *json.Encoder
}

// New starts a listing with header on out.
func New(out io.Writer, format string, header []string) *Writer {
	l := &Writer{format: format, out: out, header: header}
	switch l.format {
	case "json":
		l.enc = json.NewEncoder(&l.buf)
		l.enc.SetIndent("  ", "  ")
		l.enc.SetEscapeHTML(false)
	case "csv":
		l.csv = csv.NewWriter(out)
		l.csv.Write(header)
	default:
		l.startBlock()
	}
	return l
}

func (l *Writer) startBlock() {
	l.tw = tabwriter.NewWriter(l.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(l.tw, strings.ToUpper(strings.Join(l.header, "\t")))
}

// Row writes one row: cells for table and csv, obj for json.
func (l *Writer) Row(cells []string, obj any) error {
	l.n++
	switch l.format {
	case "json":
		l.buf.Reset()
		if l.n == 1 {
			l.buf.WriteString("[\n  ")
		} else {
			l.buf.WriteString(",\n  ")
		}
		if err := l.enc.Encode(obj); err != nil {
			return err
		}
		l.buf.Truncate(l.buf.Len() - 1) // the encoder's newline
		_, err := l.out.Write(l.buf.Bytes())
		return err
	case "csv":
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = subscribers.GuardCell(c) // spreadsheets would run =, +, -, @ cells
		}
		l.csv.Write(out)
		if l.n%tableBlock == 0 {
			l.csv.Flush()
		}
		return l.csv.Error()
	default:
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = printable(c)
		}
		fmt.Fprintln(l.tw, strings.Join(out, "\t"))
		if l.n%tableBlock == 0 {
			if err := l.tw.Flush(); err != nil {
				return err
			}
			l.tw = tabwriter.NewWriter(l.out, 0, 4, 2, ' ', 0)
		}
		return nil
	}
}

// Close ends the listing.
func (l *Writer) Close() error {
	switch l.format {
	case "json":
		end := "\n]\n"
		if l.n == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(l.out, end)
		return err
	case "csv":
		l.csv.Flush()
		return l.csv.Error()
	default:
		return l.tw.Flush()
	}
}

// printable replaces control characters and tabs so a cell cannot break the
// table.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// NonNil returns s, or an empty slice for nil, so JSON prints [] not null.
func NonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Time formats a timestamp for listings: RFC 3339 in UTC, "" for zero.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
