package sqlite_test

// Attack tests (branch attack13): subscriber files written by other
// programs, imported into real SQLite files.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
)

func atkDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// atkImport imports a file's text the way the CLI does.
func atkImport(t *testing.T, db *sqlite.DB, text, from string, strict bool) (newsletter.ImportCounts, []string, error) {
	t.Helper()
	rd, err := subscribers.NewReaderFrom(strings.NewReader(text), from)
	if err != nil {
		return newsletter.ImportCounts{}, nil, err
	}
	var rej []string
	lists := []string(nil)
	if rd.Format() != "" {
		lists = []string{newsletter.DefaultList}
	}
	c, err := db.ImportSubscribers(context.Background(), rd.Inputs(), newsletter.ImportOptions{
		Lists: lists, Strict: strict, OnReject: func(e error) { rej = append(rej, e.Error()) }})
	return c, rej, err
}

func atkAll(t *testing.T, db *sqlite.DB) map[string]*newsletter.Subscriber {
	t.Helper()
	out := map[string]*newsletter.Subscriber{}
	if err := db.EachSubscriber(context.Background(), newsletter.SubscriberFilter{}, func(s *newsletter.Subscriber) error {
		out[s.Email] = s
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// FAILS: the local part is lower-cased but not Unicode-normalised
// (NormalizeEmail in subscribers/address.go). "josé" typed with a
// precomposed é (NFC) and with e + combining acute (NFD, as macOS tools and
// some exports write it) are two subscribers: a complained address comes
// back active through the other spelling, both while stored and after
// removal (the suppression hash is of the unnormalised spelling).
func TestAttack_NFDSpellingReactivatesComplained(t *testing.T) {
	ctx := context.Background()
	db := atkDB(t)
	nfc, nfd := "jos\u00e9@example.org", "jose\u0301@example.org"
	if _, _, err := atkImport(t, db, "email,status\n"+nfc+",complained\n", "", false); err != nil {
		t.Fatal(err)
	}
	c, rej, err := atkImport(t, db, "email\n"+nfd+"\n", "", false)
	t.Logf("NFD import: %+v %v %v", c, rej, err)
	for e, s := range atkAll(t, db) {
		t.Logf("stored %q %s", e, s.Status)
		if s.Status == newsletter.StatusActive {
			t.Errorf("%q is active while %q complained", e, nfc)
		}
	}
	// After removal: the suppression list is keyed by the spelling.
	db2 := atkDB(t)
	atkImport(t, db2, "email,status\n"+nfc+",complained\n", "", false)
	if _, err := db2.RemoveSubscriber(ctx, nfc); err != nil {
		t.Fatal(err)
	}
	atkImport(t, db2, "Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME\n"+nfd+",Jo,Se,2,2020-01-01\n", "", false)
	for e, s := range atkAll(t, db2) {
		if s.Status == newsletter.StatusActive {
			t.Errorf("after removal: %q came back active through a Mailchimp audience export", e)
		}
	}
}

// Holds: the same mailbox written with an upper-case Unicode domain, the
// ASCII form, mixed case local part: one address, not reactivated.
func TestAttack_DomainSpellingsOneAddress(t *testing.T) {
	ctx := context.Background()
	db := atkDB(t)
	atkImport(t, db, "email,status\nann@xn--bcher-kva.example,complained\n", "", false)
	db.RemoveSubscriber(ctx, "ann@xn--bcher-kva.example")
	c, rej, err := atkImport(t, db, "email\nANN@BÜCHER.EXAMPLE\nAnn@bücher.example\nann@ｂüｃｈｅｒ.example\nann@bücher.example.\n", "", false)
	t.Logf("import: %+v %v %v", c, rej, err)
	for e, s := range atkAll(t, db) {
		t.Logf("stored %q %s", e, s.Status)
		if s.Status != newsletter.StatusComplained {
			t.Errorf("%q is %s", e, s.Status)
		}
	}
}

// Records: Excel's "Unicode text" (UTF-16 LE with BOM, tab-separated) and
// European Excel's semicolon CSV. Refused whole, nothing stored; the message
// is recorded.
func TestAttack_ExcelEncodings(t *testing.T) {
	db := atkDB(t)
	text := "email\tname\r\nann@example.org\tAnn\r\n"
	u := utf16.Encode([]rune(text))
	b := []byte{0xff, 0xfe}
	for _, r := range u {
		b = append(b, byte(r), byte(r>>8))
	}
	_, _, err := atkImport(t, db, string(b), "", false)
	t.Logf("UTF-16: %v", err)
	_, _, err2 := atkImport(t, db, "email;name;status\nann@example.org;Ann;active\n", "", false)
	t.Logf("semicolons: %v", err2)
	if err == nil || err2 == nil || len(atkAll(t, db)) != 0 {
		t.Errorf("stored something: %v %v", err, err2)
	}
}

// Holds: header spelled with spaces and case; duplicate email columns refused.
func TestAttack_Headers(t *testing.T) {
	db := atkDB(t)
	c, _, err := atkImport(t, db, "\ufeff  EMAIL  , Name ,STATUS \nann@example.org,Ann,Unsubscribed\n", "", false)
	if err != nil || c.Added != 1 || atkAll(t, db)["ann@example.org"].Status != "unsubscribed" {
		t.Errorf("%+v %v", c, err)
	}
	_, _, err = atkImport(t, db, "email,E-mail\nann@example.org,bob@example.org\n", "", false)
	t.Logf("duplicate email columns: %v", err)
	if err == nil {
		t.Error("two email columns accepted")
	}
}

// Holds: a Mailchimp export with extra merge fields, tags with quotes.
func TestAttack_MailchimpMergeFields(t *testing.T) {
	db := atkDB(t)
	text := "Email Address,First Name,Last Name,Address,Phone Number,Status,Name,MEMBER_RATING,OPTIN_TIME,LEID,TAGS\n" +
		"ann@example.org,Ann,Lee,\"1 Main St, Town\",555,unsubscribed,Evil Name,2,2020-01-01,1,\"\"\"VIP\"\",\"\"Early bird\"\"\"\n"
	c, rej, err := atkImport(t, db, text, "", false)
	s := atkAll(t, db)["ann@example.org"]
	t.Logf("%+v %v %v; %+v", c, rej, err, s)
	if s == nil || s.Name != "Ann Lee" || s.Status != "active" || strings.Join(s.Lists, ",") != "Early-bird,VIP,newsletter" && strings.Join(s.Lists, ",") != "newsletter,VIP,Early-bird" {
		t.Errorf("stored %+v", s)
	}
}

// Holds: listmonk attributes JSON with commas and quotes; Substack unknown
// statuses rejected.
func TestAttack_ListmonkSubstack(t *testing.T) {
	db := atkDB(t)
	text := "uuid,email,name,attributes,status,created_at,updated_at\n" +
		`1,ann@example.org,"Ann, ""the"" Lee","{""city"": ""Bonn, DE"", ""q"": ""\""x""}",blocklisted,2020,2020` + "\n" +
		`2,bob@example.org,Bob,{},enabled,2020,2020` + "\n"
	c, rej, err := atkImport(t, db, text, "", false)
	all := atkAll(t, db)
	t.Logf("listmonk: %+v %v %v", c, rej, err)
	if all["ann@example.org"] == nil || all["ann@example.org"].Status != "unsubscribed" || all["ann@example.org"].Name != `Ann, "the" Lee` || all["bob@example.org"].Status != "active" {
		t.Errorf("listmonk stored %+v %+v", all["ann@example.org"], all["bob@example.org"])
	}
	c, rej, err = atkImport(t, db, "email,active_subscription,email_disabled\ncy@example.org,false,maybe\ndee@example.org,true,TRUE\n", "", false)
	all = atkAll(t, db)
	t.Logf("substack: %+v %v %v", c, rej, err)
	if all["cy@example.org"] != nil || all["dee@example.org"] == nil || all["dee@example.org"].Status != "unsubscribed" {
		t.Errorf("substack stored %+v %+v", all["cy@example.org"], all["dee@example.org"])
	}
}

// Holds: one address twice in one file with different statuses: the
// blocking one wins in either order.
func TestAttack_SameAddressTwice(t *testing.T) {
	db := atkDB(t)
	atkImport(t, db, "email,status\nann@example.org,unsubscribed\nANN@example.org,active\nbob@example.org,active\nbob@EXAMPLE.org,complained\n", "", false)
	all := atkAll(t, db)
	if all["ann@example.org"].Status != "unsubscribed" || all["bob@example.org"].Status != "complained" {
		t.Errorf("ann %s, bob %s", all["ann@example.org"].Status, all["bob@example.org"].Status)
	}
}

// Recorded: a later import can turn "complained" into "unsubscribed" (a
// Mailchimp unsubscribed export, a listmonk blocklisted row): still not
// mailed, but the complaint is no longer what the row says.
func TestAttack_ComplainedDowngraded(t *testing.T) {
	db := atkDB(t)
	atkImport(t, db, "email,status\nann@example.org,complained\nbob@example.org,bounced\n", "", false)
	atkImport(t, db, "Email Address,First Name,MEMBER_RATING,UNSUB_TIME\nann@example.org,Ann,2,2020\nbob@example.org,Bob,2,2020\n", "", false)
	all := atkAll(t, db)
	t.Logf("after a Mailchimp unsubscribed export: ann %s (was complained), bob %s (was bounced)", all["ann@example.org"].Status, all["bob@example.org"].Status)
}

// FAILS: a stray quote opens a quoted field that runs to the end of the
// file; encoding/csv returns one ParseError for everything after it, the
// import counts it as ONE rejected row and commits the rows before it. Every
// row after the bad one is silently lost (no per-row report), and the
// summary says "1 rejected".
func TestAttack_StrayQuoteSwallowsRest(t *testing.T) {
	db := atkDB(t)
	var b strings.Builder
	b.WriteString("email,name\n")
	b.WriteString("ann@example.org,Ann\n")
	b.WriteString("bob@example.org,\"Bob \"The Builder\n") // bad, alone: encoding/csv reports this line only
	b.WriteString("cy@example.org,\"Cy\n")                 // opens a quoted field that never closes
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "u%d@example.org,User %d\n", i, i)
	}
	c, rej, err := atkImport(t, db, b.String(), "", false)
	n := len(atkAll(t, db))
	t.Logf("counts %+v, rejected %v, err %v; %d stored", c, rej, err, n)
	// Fixed (fix13): the rows after the open quote cannot be read, so the
	// import is an error naming the line where the quote opens and where
	// the file ends, and stores nothing (not a half-read file).
	if err == nil || n != 0 || !strings.Contains(err.Error(), "line 4") || !strings.Contains(err.Error(), "end of the file (line 104)") {
		t.Errorf("103 data rows, an unclosed quote on line 4: err %v, %d stored (counts %+v)", err, n, c)
	}
}

// Holds: 200,000 rows with one bad row at the end under --strict store
// nothing (the transaction rolls back), and report the bad row.
func TestAttack_StrictLargeBadLast(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	db := atkDB(t)
	atkImport(t, db, "email\nkeep@example.org\n", "", false)
	path := filepath.Join(t.TempDir(), "big.csv")
	f, _ := os.Create(path)
	w := bufio.NewWriter(f)
	w.WriteString("email,name,lists\n")
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(w, "user%d@example.org,User %d,l%d\n", i, i, i%50)
	}
	w.WriteString("not-an-address,Bad,\n")
	w.Flush()
	f.Close()
	in, _ := os.Open(path)
	defer in.Close()
	rd, err := subscribers.NewReaderFrom(in, "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := db.ImportSubscribers(context.Background(), rd.Inputs(), newsletter.ImportOptions{Strict: true})
	t.Logf("strict 200,001 rows: %+v %v in %s", c, err, time.Since(start))
	all := atkAll(t, db)
	var lists int
	db.EachSubscriber(context.Background(), newsletter.SubscriberFilter{List: "l1"}, func(*newsletter.Subscriber) error { lists++; return nil })
	if err == nil || len(all) != 1 || lists != 0 {
		t.Errorf("strict import left %d subscribers, %d in list l1", len(all), lists)
	}
}

// FAILS: detection reads only the first physical line (NewReaderFrom in
// subscribers/formats.go), while encoding/csv skips blank lines. A Mailchimp
// *unsubscribed* export with a blank first line is read as this tool's own
// columns: "Email Address" is the email, the UNSUB_TIME kind is never seen,
// and every unsubscribed reader is imported active.
func TestAttack_MailchimpUnsubscribedLeadingBlankLine(t *testing.T) {
	db := atkDB(t)
	text := "\r\nEmail Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,UNSUB_TIME,LEID\r\nann@example.org,Ann,Lee,2,2020-01-01,2021-01-01,1\r\n"
	c, rej, err := atkImport(t, db, text, "", false)
	s := atkAll(t, db)["ann@example.org"]
	t.Logf("%+v %v %v; stored %+v", c, rej, err, s)
	if s != nil && s.Status == newsletter.StatusActive {
		t.Errorf("a reader of a Mailchimp unsubscribed export was imported active")
	}
	// With --from mailchimp the header is still taken from the blank line.
	db2 := atkDB(t)
	c, rej, err = atkImport(t, db2, text, "mailchimp", false)
	s = atkAll(t, db2)["ann@example.org"]
	t.Logf("--from mailchimp: %+v %v %v; stored %+v", c, rej, err, s)
	if s != nil && s.Status == newsletter.StatusActive {
		t.Errorf("--from mailchimp: a reader of an unsubscribed export was imported active")
	}
}
