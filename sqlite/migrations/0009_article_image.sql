-- An article's optional lead image (front matter image:, a feed item's
-- enclosure or media content) and its alt text.
ALTER TABLE articles ADD COLUMN image TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN image_alt TEXT NOT NULL DEFAULT '';
