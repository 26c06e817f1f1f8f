-- Issue 12: links that never reach another reader, single-use confirmation
-- links, and a suppression list that outlives `subscribers remove`.
-- (Stored addresses are put in their one IDNA form by a Go step run in the
-- same transaction: see migrate_0005.go.)

-- Subscriber ids are never given twice (see newSubscriberID): the highest
-- id ever deleted is remembered.
CREATE TRIGGER subscribers_id_high AFTER DELETE ON subscribers
WHEN old.id > coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'subscriber_id_high'), 0)
BEGIN
    INSERT OR REPLACE INTO settings (key, value) VALUES ('subscriber_id_high', old.id);
END;

-- The nonce of the confirmation link last mailed; '' once used.
ALTER TABLE subscribers ADD COLUMN confirm_nonce TEXT NOT NULL DEFAULT '';

-- Ids of subscribers merged into another one (two spellings of one
-- mailbox): their links keep working for that person.
CREATE TABLE subscriber_aliases (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE
);
CREATE INDEX subscriber_aliases_subscriber ON subscriber_aliases (subscriber_id);

-- Removed addresses that must not be mailed again, as keyed hashes
-- (HMAC-SHA256 under settings.suppression_key), not as addresses.
CREATE TABLE suppressions (
    hash       TEXT PRIMARY KEY,
    status     TEXT NOT NULL CHECK (status IN ('unsubscribed', 'bounced', 'complained')),
    created_at TEXT NOT NULL
) WITHOUT ROWID;

INSERT OR IGNORE INTO settings (key, value) VALUES ('suppression_key', lower(hex(randomblob(32))));
