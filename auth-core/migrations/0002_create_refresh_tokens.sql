-- auth-core: refresh tokens, stored only as the SHA-256 of the opaque token.
CREATE TABLE refresh_tokens (
    token_hash BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    -- Every token rotated from one login shares a family id, so a replayed
    -- token can revoke the whole family (RFC 9700 §4.14.2).
    family_id  TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    -- Space-separated scope-tokens granted with the token.
    scopes     TEXT    NOT NULL DEFAULT '',
    -- Seconds since the Unix epoch.
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'active'
                       CHECK (state IN ('active', 'used', 'revoked'))
);

CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
