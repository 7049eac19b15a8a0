-- auth-core: API keys, stored only as the SHA-256 of the key. A key goes
-- with its owner: deleting the user deletes their keys.
CREATE TABLE api_keys (
    -- The public part of the key (`ak_<id>_...`), as `list` and `revoke`
    -- show and take it.
    id         TEXT    NOT NULL PRIMARY KEY CHECK (octet_length(id) BETWEEN 1 AND 64),
    key_hash   BYTEA   NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    username   TEXT    NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    -- A label for people.
    name       TEXT    NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 128),
    -- Space-separated RFC 6749 §3.3 scope-tokens, possibly empty.
    scopes     TEXT    NOT NULL DEFAULT '' CHECK (octet_length(scopes) <= 8192),
    -- Seconds since the Unix epoch; a NULL expiry never comes, a NULL
    -- revocation has not happened.
    created_at BIGINT  NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX api_keys_username ON api_keys (username);
