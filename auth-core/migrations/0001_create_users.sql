-- auth-core: users the toolkit authenticates.
-- Versions 0001-0999 belong to auth-core; applications sharing the database
-- use their own range (the demo app uses 1001 and up).
CREATE TABLE users (
    username      TEXT    NOT NULL PRIMARY KEY,
    -- PHC string (argon2) or bcrypt hash; never a plain password.
    password_hash TEXT    NOT NULL,
    -- Space-separated RFC 6749 §3.3 scope-tokens, possibly empty.
    scopes        TEXT    NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    -- Seconds since the Unix epoch.
    created_at    INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
