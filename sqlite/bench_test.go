package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
)

// subscribersCSV returns n rows of subscribers CSV with a few categories and
// lists, like a real export.
func subscribersCSV(n int) []byte {
	cats := []string{"Parks", "Transport", "Events", "Housing", "Libraries", "Top Stories"}
	var b bytes.Buffer
	b.WriteString("email,name,categories,lists,status\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "reader%07d@example.org,Reader %d,%s;%s,newsletter,active\n", i, i, cats[i%6], cats[(i/6)%6])
	}
	return b.Bytes()
}

// BenchmarkImportSubscribers measures the parse-validate-insert path: one
// op is one import of 10,000 rows into an empty database.
func BenchmarkImportSubscribers(b *testing.B) {
	const rowsPerOp = 10000
	src := subscribersCSV(rowsPerOp)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		db := MustOpenDB(b)
		b.StartTimer()
		rd, err := subscribers.NewReader(bytes.NewReader(src))
		if err != nil {
			b.Fatal(err)
		}
		counts, err := db.ImportSubscribers(context.Background(), rd.Inputs(), newsletter.ImportOptions{})
		if err != nil || counts.Added != rowsPerOp {
			b.Fatal(counts, err)
		}
	}
	b.ReportMetric(float64(rowsPerOp*b.N)/b.Elapsed().Seconds(), "rows/s")
}
