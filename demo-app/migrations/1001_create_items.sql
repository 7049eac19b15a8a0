-- demo-app: items, created through POST /items.
-- Versions 1001 and up belong to the demo app; 0001-0999 to auth-core, whose
-- tables share this database.
CREATE TABLE items (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The username of the caller who created the item.
    owner      TEXT    NOT NULL,
    -- Seconds since the Unix epoch.
    created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
