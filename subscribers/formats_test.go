package subscribers_test

import (
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/example/newsletter/subscribers"
)

// readFormat reads every row of a file in the given format ("" to detect it).
func readFormat(t *testing.T, name, from string) (*subscribers.Reader, []*subscribers.Row, []error) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := subscribers.NewReaderFrom(f, from)
	if err != nil {
		t.Fatal(err)
	}
	var rows []*subscribers.Row
	var errs []error
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return rd, rows, errs
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		rows = append(rows, row)
	}
}

func TestFormats(t *testing.T) {
	t.Run("MailchimpSubscribed", func(t *testing.T) {
		rd, rows, errs := readFormat(t, "testdata/mailchimp_subscribed.csv", "")
		if rd.Format() != "mailchimp" || len(errs) > 0 || len(rows) != 2 {
			t.Fatalf("format %q, %d rows, errors %v", rd.Format(), len(rows), errs)
		}
		if r := rows[0]; r.Email != "ana@example.org" || r.Name != "Ana Silva" || r.Status != "active" || !reflect.DeepEqual(r.Lists, []string{"Volunteers", "Book-Club"}) {
			t.Errorf("row %+v", r)
		}
		if r := rows[1]; r.Name != "Ben" || len(r.Lists) != 0 {
			t.Errorf("row %+v", r)
		}
		ign := strings.Join(rd.Ignored(), ",")
		if !strings.Contains(ign, "Address") || !strings.Contains(ign, "MEMBER_RATING") || strings.Contains(ign, "TAGS") || strings.Contains(ign, "Email Address") {
			t.Errorf("ignored %s", ign)
		}
	})
	t.Run("MailchimpUnsubscribed", func(t *testing.T) {
		rd, rows, errs := readFormat(t, "testdata/mailchimp_unsubscribed.csv", "mailchimp")
		if len(errs) > 0 || len(rows) != 1 || rows[0].Status != "unsubscribed" || !strings.Contains(rd.Description(), "unsubscribed") {
			t.Fatalf("%q rows %+v errors %v", rd.Description(), rows, errs)
		}
	})
	t.Run("MailchimpCleaned", func(t *testing.T) {
		_, rows, errs := readFormat(t, "testdata/mailchimp_cleaned.csv", "")
		if len(errs) > 0 || len(rows) != 1 || rows[0].Status != "bounced" {
			t.Fatalf("rows %+v errors %v", rows, errs)
		}
	})
	t.Run("Listmonk", func(t *testing.T) {
		rd, rows, errs := readFormat(t, "testdata/listmonk.csv", "")
		if rd.Format() != "listmonk" || len(errs) > 0 || len(rows) != 3 {
			t.Fatalf("format %q, rows %+v, errors %v", rd.Format(), rows, errs)
		}
		want := []string{"active", "unsubscribed", "unsubscribed"}
		for i, r := range rows {
			if r.Status != want[i] {
				t.Errorf("%s: status %q, want %q", r.Email, r.Status, want[i])
			}
		}
		if !reflect.DeepEqual(rows[0].Lists, []string{"Weekly-News", "members"}) || rows[0].Name != "Eve Adams" {
			t.Errorf("row %+v", rows[0])
		}
		if ign := strings.Join(rd.Ignored(), ","); ign != "uuid,attributes,created_at,updated_at" {
			t.Errorf("ignored %s", ign)
		}
	})
	t.Run("Substack", func(t *testing.T) {
		rd, rows, errs := readFormat(t, "testdata/substack.csv", "")
		if rd.Format() != "substack" || len(errs) > 0 || len(rows) != 2 {
			t.Fatalf("format %q, rows %+v, errors %v", rd.Format(), rows, errs)
		}
		if rows[0].Status != "active" || rows[1].Status != "unsubscribed" {
			t.Errorf("statuses %q %q", rows[0].Status, rows[1].Status)
		}
	})
	t.Run("ErrUnknownListmonkStatus", func(t *testing.T) {
		rd, err := subscribers.NewReaderFrom(strings.NewReader("email,name,attributes,status\nx@example.org,X,{},sleeping\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rd.Next(); err == nil || !strings.Contains(err.Error(), `line 2: status "sleeping"`) || !strings.Contains(err.Error(), "enabled") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrWrongFrom", func(t *testing.T) {
		_, err := subscribers.NewReaderFrom(strings.NewReader("email,name\nx@example.org,X\n"), "mailchimp")
		if err == nil || !strings.Contains(err.Error(), `"Email Address"`) {
			t.Errorf("err = %v", err)
		}
		_, err = subscribers.NewReaderFrom(strings.NewReader("email\n"), "ghost")
		if err == nil || !strings.Contains(err.Error(), "mailchimp, listmonk or substack") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("AddressIsNotTheEmail", func(t *testing.T) {
		_, err := subscribers.NewReader(strings.NewReader("Name,Address\nAna,12 Mill Lane\n"))
		if err == nil || !strings.Contains(err.Error(), "no email column") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("OwnFormatNamesIgnoredColumns", func(t *testing.T) {
		rd, err := subscribers.NewReaderFrom(strings.NewReader("email,name,tags\nx@example.org,X,a\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		if rd.Format() != "" || !reflect.DeepEqual(rd.Ignored(), []string{"tags"}) {
			t.Errorf("format %q ignored %v", rd.Format(), rd.Ignored())
		}
	})
}
