-- The delivery log learns deferred (a temporary failure that outlasted a
-- run's retries, retried by later runs until the queue lifetime) and, for
-- reports that arrive after the relay said yes, bounced and complained.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- with the same rows and ids. Nothing references deliveries.
CREATE TABLE deliveries_new (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    email         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'deferred', 'failed', 'unknown', 'bounced', 'complained')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    code          INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    message_id    TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    UNIQUE (campaign_id, email)
);
INSERT INTO deliveries_new (id, campaign_id, subscriber_id, email, status, attempts, code, error, message_id, updated_at)
    SELECT id, campaign_id, subscriber_id, email, status, attempts, code, error, message_id, updated_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_campaign_status ON deliveries (campaign_id, status);
CREATE INDEX deliveries_email ON deliveries (email);
