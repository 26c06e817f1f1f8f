-- Campaigns, the delivery log, schedule runs and the sender lease.
CREATE TABLE campaigns (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('digest', 'article')),
    list_id     INTEGER NOT NULL REFERENCES lists (id),
    key         TEXT NOT NULL UNIQUE,
    subject     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('sending', 'done')),
    since       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX campaigns_list_status ON campaigns (list_id, status);

CREATE TABLE campaign_articles (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    article_id  INTEGER NOT NULL REFERENCES articles (id),
    PRIMARY KEY (campaign_id, article_id)
) WITHOUT ROWID;
CREATE INDEX campaign_articles_article ON campaign_articles (article_id);

CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    campaign_id   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
    email         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    code          INTEGER NOT NULL DEFAULT 0,
    error         TEXT NOT NULL DEFAULT '',
    message_id    TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    UNIQUE (campaign_id, email)
);
CREATE INDEX deliveries_campaign_status ON deliveries (campaign_id, status);
CREATE INDEX deliveries_email ON deliveries (email);

CREATE TABLE schedule_runs (
    id          INTEGER PRIMARY KEY,
    schedule    TEXT NOT NULL,
    period      TEXT NOT NULL,            -- the fire time, RFC 3339
    campaign_id INTEGER REFERENCES campaigns (id),
    outcome     TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (schedule, period)
);

CREATE TABLE sender_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    host       TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
