package progress_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/example/newsletter/internal/progress"
)

// TestLogLines: off a terminal, progress is a log line every few seconds
// (here every call), and nothing when quiet.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	p := progress.New(&buf, false, 3, "campaign 7")
	if p.Terminal() {
		t.Fatal("a progress bar on a buffer")
	}
	p.Every = 0
	p.Add("sent")
	p.Add("failed")
	p.Add("pending") // requeued: not done
	p.Add("sent")
	p.Done()
	out := buf.String()
	for _, want := range []string{"campaign 7: 1/3 done, 0 failed", "campaign 7: 2/3 done, 1 failed", "campaign 7: 3/3 done, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	buf.Reset()
	q := progress.New(&buf, true, 1, "campaign 8")
	q.Every = 0
	q.Add("sent")
	if buf.Len() != 0 {
		t.Errorf("quiet printed %q", buf.String())
	}
}
