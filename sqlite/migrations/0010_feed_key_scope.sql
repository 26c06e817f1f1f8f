-- A feed item's key names its feed's scope (the channel link, else the feed
-- URL) in the form articles.FeedScope gives: no scheme, no "www.", no
-- trailing slash, no default port. The Go step of this migration
-- (normalizeFeedKeys) rewrites the keys stored in the old form; this SQL
-- changes nothing.
SELECT 1;
