package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/example/newsletter/subscribers"
)

// table is a listing: rows for table and csv output, and the objects JSON
// output prints.
type table struct {
	header []string
	rows   [][]string
	json   any // a slice; printed as one JSON array
}

// print writes t on stdout in the chosen --format.
func (a *app) print(t *table) error {
	switch a.format {
	case "json":
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(t.json)
	case "csv":
		w := csv.NewWriter(a.stdout)
		w.Write(t.header)
		for _, r := range t.rows {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = subscribers.GuardCell(c) // spreadsheets would run =, +, -, @ cells
			}
			w.Write(cells)
		}
		w.Flush()
		return w.Error()
	default:
		w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, strings.ToUpper(strings.Join(t.header, "\t")))
		for _, r := range t.rows {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = printable(c)
			}
			fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		return w.Flush()
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

// nonNil returns s, or an empty slice for nil, so JSON prints [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// formatTime formats a timestamp for listings: RFC 3339 in UTC, "" for zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
