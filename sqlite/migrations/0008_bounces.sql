-- Bounces and complaints that arrive after the relay accepted a message:
-- one row per report and delivery, with what it changed. Soft-bounce counts
-- are counted from these rows (distinct campaigns per subscriber).
CREATE TABLE bounce_events (
    id                INTEGER PRIMARY KEY,
    delivery_id       INTEGER NOT NULL,
    campaign_id       INTEGER NOT NULL,
    subscriber_id     INTEGER,
    email             TEXT NOT NULL,             -- the delivery's address
    kind              TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'policy', 'complaint')),
    source            TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT '',  -- enhanced status code
    diagnostic        TEXT NOT NULL DEFAULT '',
    recipient         TEXT NOT NULL DEFAULT '',  -- the address the report names
    report_id         TEXT NOT NULL,
    delivery_status   TEXT NOT NULL DEFAULT '',  -- what it changed; '' nothing
    subscriber_status TEXT NOT NULL DEFAULT '',
    reported_at       TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    UNIQUE (delivery_id, kind, report_id)
);
CREATE INDEX bounce_events_campaign ON bounce_events (campaign_id);
CREATE INDEX bounce_events_subscriber ON bounce_events (subscriber_id, kind);
CREATE INDEX deliveries_message_id ON deliveries (message_id) WHERE message_id != '';
