-- Article identity: a key per source (a feed item's guid, a Markdown file's
-- slug or path, a post's date and title), so two items with one title are
-- two articles with unique slugs. Articles stored before keep their slug as
-- their key, in the form an article without a key gets.
ALTER TABLE articles ADD COLUMN key TEXT NOT NULL DEFAULT '';
UPDATE articles SET key = 'slug:' || slug;
CREATE UNIQUE INDEX articles_key ON articles (key);

-- The [[feed]] entries as last fetched: the validators of a conditional GET.
CREATE TABLE feeds (
    name          TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    fetched_at    TEXT NOT NULL DEFAULT ''   -- last 200 response stored
);
