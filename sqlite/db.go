// Package sqlite is the store of the newsletter tool: one SQLite file in WAL
// mode holding articles, feeds, subscribers and their suppression list,
// campaigns, the delivery log, schedule runs, settings and the sender lease.
// It is the only package that imports the SQLite driver. It stores and
// decides nothing: the rules it applies in SQL (who is enqueued, when an
// address is bounced, who may be made active) come from the root package,
// and tests pin the SQL to them. Its errors say which operation failed.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/example/newsletter"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// timeLayout is how timestamps are stored: RFC 3339 in UTC with
// nanoseconds, so text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// DB is an open store. It is safe for concurrent use.
type DB struct {
	db   *sql.DB
	Path string
	file os.FileInfo // the file opened, to notice it deleted or replaced
	// Now returns the current time; tests and `--now` replace it.
	Now func() time.Time
}

// Open opens (creating if needed) the database at path and applies every
// migration it lacks.
func Open(ctx context.Context, path string) (*DB, error) {
	return openTo(ctx, path, -1)
}

// OpenAtVersion opens the database at path and applies migrations up to and
// including version n only. It exists to test upgrades.
func OpenAtVersion(ctx context.Context, path string, n int) (*DB, error) {
	return openTo(ctx, path, n)
}

func openTo(ctx context.Context, path string, upTo int) (*DB, error) {
	if path == "" {
		return nil, newsletter.Errorf(newsletter.EINVALID, "database path is empty")
	}
	// Every pooled connection gets these settings through the DSN:
	// WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE for writes.
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "NORMAL")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	sdb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{db: sdb, Path: path, Now: time.Now}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, newsletter.Errorf(newsletter.EINVALID, "database %s: %w", path, err)
	}
	if err := db.migrate(ctx, upTo); err != nil {
		sdb.Close()
		return nil, err
	}
	if db.file, err = os.Stat(path); err != nil {
		sdb.Close()
		return nil, newsletter.Errorf(newsletter.EINVALID, "database %s: %w", path, err)
	}
	return db, nil
}

// ErrReplaced: the database file was deleted or replaced while it was open.
// Writes would go to a file nobody will read again.
var ErrReplaced = errors.New("the database file was deleted or replaced while it was open")

// CheckFile returns an error wrapping ErrReplaced when the file at Path is
// no longer the one opened.
func (db *DB) CheckFile() error {
	fi, err := os.Stat(db.Path)
	if err != nil || !os.SameFile(fi, db.file) {
		return newsletter.Errorf(newsletter.EINTERNAL, "database %s: %w; stop everything that uses it and restore it from a backup", db.Path, ErrReplaced)
	}
	return nil
}

// isBusy reports whether err is SQLite's "database is locked": another
// process holds the write lock longer than the busy timeout.
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// retryBusy runs fn until it does not fail with a busy database, waiting
// longer each time, for up to limit in all.
func retryBusy(ctx context.Context, limit time.Duration, fn func() error) error {
	deadline := time.Now().Add(limit)
	wait := 50 * time.Millisecond
	for {
		err := fn()
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

func (db *DB) now() time.Time { return db.Now().UTC() }

func (db *DB) nowText() string { return db.now().Format(timeLayout) }

type migration struct {
	version int
	name    string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		ms = append(ms, migration{version: v, name: n})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies each missing migration in its own transaction and records
// it in schema_migrations.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return newsletter.Errorf(newsletter.EINVALID, "database %s: %w", db.Path, err)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if upTo >= 0 && m.version > upTo {
			break
		}
		if err := db.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, m migration) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	src, err := migrationFS.ReadFile(m.name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(src)); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if step := migrationStep(m.version); step != nil {
		if err := step(ctx, tx, db.nowText()); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, strings.TrimPrefix(m.name, "migrations/"), db.nowText()); err != nil {
		return err
	}
	return tx.Commit()
}

// Version returns the highest migration applied.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// opError says which store operation failed, for an error that does not
// say it already: an application error keeps its own message.
func opError(op string, err *error) {
	if *err == nil {
		return
	}
	var ae *newsletter.Error
	if errors.As(*err, &ae) {
		return
	}
	*err = fmt.Errorf("%s: %w", op, *err)
}
