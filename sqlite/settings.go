package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Secret returns the link-signing secret kept in the database, making one
// on first use. It serves when the config has no unsubscribe.secret.
func (db *DB) Secret(ctx context.Context) (secret string, err error) {
	defer opError("reading the link secret", &err)
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := db.db.ExecContext(ctx, `INSERT OR IGNORE INTO settings (key, value) VALUES ('link_secret', ?)`, hex.EncodeToString(b)); err != nil {
		return "", err
	}
	var s string
	err = db.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'link_secret'`).Scan(&s)
	return s, err
}
