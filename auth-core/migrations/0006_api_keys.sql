-- auth-core: API keys, stored only as the SHA-256 of the key. A key goes
-- with its owner: deleting the user deletes their keys (the pool turns
-- foreign keys on).
CREATE TABLE api_keys (
    -- The public part of the key (`ak_<id>_...`), as `list` and `revoke`
    -- show and take it.
    id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    key_hash   BLOB    NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    username   TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    -- A label for people.
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    -- Space-separated RFC 6749 §3.3 scope-tokens, possibly empty.
    scopes     TEXT    NOT NULL DEFAULT '',
    -- Seconds since the Unix epoch; a NULL expiry never comes, a NULL
    -- revocation has not happened.
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);

CREATE INDEX api_keys_username ON api_keys (username);
