-- Settings the tool keeps for itself, such as a generated link secret
-- when the config has none.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
