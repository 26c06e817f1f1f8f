package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
)

// TestMigration0011_OneSpellingOfALocalPart: an address stored with a
// decomposed accent (as earlier versions kept it) is rewritten to NFC, and
// two spellings of one mailbox become one subscriber, keeping the status
// that mails least.
func TestMigration0011_OneSpellingOfALocalPart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 10)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	const now = "2026-11-01T00:00:00.000000000Z"
	if _, err := raw.Exec(`INSERT INTO subscribers (id, email, status, status_changed_at, created_at, updated_at) VALUES
		(1, ?, 'complained', ?, ?, ?), (2, ?, 'active', ?, ?, ?)`,
		"jose\u0301@example.org", now, now, now, "jos\u00e9@example.org", now, now, now); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	subs, err := db.Subscribers(ctx, newsletter.SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].Email != "jos\u00e9@example.org" || subs[0].Status != newsletter.StatusComplained {
		t.Fatalf("after the migration: %+v", subs)
	}
}
