-- Articles, categories, subscribers and lists.
CREATE TABLE categories (
    id   INTEGER PRIMARY KEY,
    key  TEXT NOT NULL UNIQUE,      -- lower-case clean name
    name TEXT NOT NULL              -- first spelling seen
);

CREATE TABLE articles (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    published  TEXT NOT NULL,       -- YYYY-MM-DD
    summary    TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL DEFAULT '',
    url        TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX articles_published ON articles (published);

CREATE TABLE article_categories (
    article_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories (id),
    position    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, category_id)
) WITHOUT ROWID;
CREATE INDEX article_categories_category ON article_categories (category_id);

CREATE TABLE lists (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE subscribers (
    id                INTEGER PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('active', 'unconfirmed', 'unsubscribed', 'bounced', 'complained')),
    status_changed_at TEXT NOT NULL,
    hard_failures     INTEGER NOT NULL DEFAULT 0,   -- permanent failures in a row
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE subscriber_categories (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    category_id   INTEGER NOT NULL REFERENCES categories (id),
    position      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subscriber_id, category_id)
) WITHOUT ROWID;
CREATE INDEX subscriber_categories_category ON subscriber_categories (category_id);

CREATE TABLE list_members (
    list_id       INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (list_id, subscriber_id)
) WITHOUT ROWID;
CREATE INDEX list_members_subscriber ON list_members (subscriber_id);
