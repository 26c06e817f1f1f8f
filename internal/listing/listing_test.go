package listing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// A streamed JSON listing is byte for byte the array encoding/json writes
// for the whole slice, and a table longer than one block keeps every row.
func TestListing_StreamsWhatTheWholeEncodingWrites(t *testing.T) {
	type obj struct {
		A string   `json:"a"`
		B []string `json:"b"`
	}
	for _, n := range []int{0, 1, 3} {
		var objs []obj
		for i := 0; i < n; i++ {
			objs = append(objs, obj{A: fmt.Sprintf("<x%d>", i), B: []string{"p", "q"}})
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if objs == nil {
			objs = []obj{}
		}
		enc.Encode(objs)
		var got bytes.Buffer
		l := New(&got, "json", []string{"a"})
		for _, o := range objs {
			if err := l.Row(nil, o); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
		if got.String() != want.String() {
			t.Errorf("n=%d:\n%s\nwant\n%s", n, got.String(), want.String())
		}
	}
	var got bytes.Buffer
	l := New(&got, "table", []string{"n", "v"})
	for i := 0; i < 2*tableBlock+5; i++ {
		l.Row([]string{fmt.Sprint(i), "v"}, nil)
	}
	l.Close()
	if lines := strings.Count(got.String(), "\n"); lines != 2*tableBlock+5+1 {
		t.Errorf("%d lines", lines)
	}
}
