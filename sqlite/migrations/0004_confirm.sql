-- Double opt-in: when a confirmation mail was last sent to the address.
ALTER TABLE subscribers ADD COLUMN confirm_sent_at TEXT NOT NULL DEFAULT '';
