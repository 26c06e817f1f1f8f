package subscribers_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
)

// readAll returns every row and every row error of a CSV source.
func readAll(t *testing.T, src []byte) ([]subscribers.Row, []string) {
	t.Helper()
	rd, err := subscribers.NewReader(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	var rows []subscribers.Row
	var errs []string
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rows, errs
		}
		if err != nil {
			var re *subscribers.RowError
			if !errors.As(err, &re) || newsletter.ErrorCode(err) != newsletter.EINVALID {
				t.Fatalf("not a row error: %v", err)
			}
			errs = append(errs, err.Error())
			continue
		}
		rows = append(rows, *row)
	}
}

func TestReader_AwkwardFixture(t *testing.T) {
	src, err := os.ReadFile("testdata/awkward.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := readAll(t, src)
	want := []subscribers.Row{
		{Line: 2, Email: "ana@example.org", Name: "Silva, Ana", Categories: []string{"Parks", "Events"}, Lists: []string{"newsletter", "members"}, Status: "active"},
		{Line: 3, Email: "ben@example.org", Name: "Ben Okafor", Categories: []string{"Transport", "Parks"}},
		{Line: 6, Email: "chloe@example.org", Name: "Chloé", Lists: []string{"members"}, Status: "unsubscribed"},
		{Line: 7, Email: "ana@example.org", Name: "Ana Silva", Categories: []string{"Top Stories"}, Status: "active"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
	wantErrs := []string{
		`line 5: email "not-an-email" has no @`,
		`line 8: status "sleeping" is not one of active, unconfirmed, unsubscribed, bounced, complained`,
		`line 9: list name "bad list!" may hold only letters, digits, '-', '_' and '.'`,
		`line 10: extraneous or missing " in quoted-field`,
	}
	if !reflect.DeepEqual(errs, wantErrs) {
		t.Errorf("errors:\n got %q\nwant %q", errs, wantErrs)
	}
}

func TestReader_Header(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"ErrEmpty", "", "line 1: the file is empty"},
		{"ErrNoEmailColumn", "name,lists\nAna,x\n", "line 1: the header has no email column"},
		{"ErrDuplicateColumn", "email,Email\n", `line 1: column "Email" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := subscribers.NewReader(strings.NewReader(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("OnlyEmail", func(t *testing.T) {
		rd, err := subscribers.NewReader(strings.NewReader("email\nana@example.org\n"))
		if err != nil {
			t.Fatal(err)
		}
		if rd.HasName || rd.HasCategories || rd.HasStatus {
			t.Errorf("absent columns reported present: %+v", rd)
		}
	})
}

func TestWriterReaderRoundTrip(t *testing.T) {
	in := []*newsletter.Subscriber{
		{Email: "ana@example.org", Name: `Silva, "Ana"`, Status: "active", Categories: []string{"Parks", "Top Stories"}, Lists: []string{"a", "b"}},
		{Email: "ben@example.org", Name: "", Status: "bounced"},
	}
	var buf bytes.Buffer
	w, err := subscribers.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range in {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, errs := readAll(t, buf.Bytes())
	if len(errs) > 0 || len(rows) != 2 {
		t.Fatalf("rows %+v errs %v", rows, errs)
	}
	if r := rows[0]; r.Name != in[0].Name || !reflect.DeepEqual(r.Categories, in[0].Categories) || !reflect.DeepEqual(r.Lists, in[0].Lists) || r.Status != "active" {
		t.Errorf("row 0 = %+v", r)
	}
}

func FuzzReader(f *testing.F) {
	src, _ := os.ReadFile("testdata/awkward.csv")
	f.Add(src)
	f.Add([]byte("email,name\n\"a@b.co\",\"x\ny\"\n"))
	f.Add([]byte("email\n\"\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rd, err := subscribers.NewReader(bytes.NewReader(src))
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if newsletter.ErrorCode(err) != newsletter.EINVALID {
					t.Fatalf("row error without EINVALID: %v", err)
				}
				continue
			}
			if again, err := subscribers.NormalizeEmail(row.Email); err != nil || again != row.Email {
				t.Fatalf("accepted %q, which does not normalise to itself", row.Email)
			}
			if strings.ContainsAny(row.Name, "\r\n") {
				t.Fatalf("name kept a line break: %q", row.Name)
			}
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ana@example.org", `"a\"b"@x.io`, "user@bücher.example", "a@b", "x@[1.2.3.4]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := subscribers.NormalizeEmail(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(out, " \t\r\n<>()") || len(out) > subscribers.MaxAddress {
			t.Fatalf("accepted %q as %q", s, out)
		}
		if again, err := subscribers.NormalizeEmail(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, out, again, err)
		}
	})
}

// FuzzGuardCell: a guarded cell never starts a formula and unguards to
// what it was.
func FuzzGuardCell(f *testing.F) {
	for _, s := range []string{"=1+1", "'=1", "''@x", "-2", "\t=A1", "plain", "'", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := subscribers.GuardCell(s)
		if g != "" && strings.ContainsRune("=+-@\t\r", rune(g[0])) {
			t.Fatalf("GuardCell(%q) = %q starts a formula", s, g)
		}
		if back := subscribers.UnguardCell(g); back != s {
			t.Fatalf("UnguardCell(GuardCell(%q)) = %q", s, back)
		}
	})
}

func TestReader_UnclosedQuoteEndsTheFile(t *testing.T) {
	rd, err := subscribers.NewReader(strings.NewReader("email,name\nann@example.org,\"Ann \"A\" Lee\nbob@example.org,Bob\ncy@example.org,\"Cy\ndee@example.org,Dee\n"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		row, err := rd.Next()
		if err == io.EOF {
			t.Fatal("read to the end without an error")
		}
		if errors.Is(err, newsletter.ErrUnreadableFile) {
			if !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "(line 5)") {
				t.Errorf("message %q", err)
			}
			break
		}
		if err != nil {
			lines = append(lines, err.Error())
		} else {
			lines = append(lines, row.Email)
		}
	}
	if strings.Join(lines, "|") != `line 2: extraneous or missing " in quoted-field|bob@example.org` {
		t.Errorf("before the open quote: %q", lines)
	}
}

func TestNewReaderFrom_BlankLinesAndBadHeader(t *testing.T) {
	rd, err := subscribers.NewReaderFrom(strings.NewReader("\n\r\nEmail Address,First Name,MEMBER_RATING,UNSUB_TIME\nann@example.org,Ann,2,2021\n"), "")
	if err != nil || rd.Format() != "mailchimp" {
		t.Fatalf("blank lines before the header: %v %v", rd, err)
	}
	if _, err := subscribers.NewReaderFrom(strings.NewReader("\n\"Email Address,x\n"), "mailchimp"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("--from with an unreadable header: %v", err)
	}
}
