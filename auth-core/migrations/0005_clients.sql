-- auth-core: the client registry (RFC 6749 §2).
CREATE TABLE oauth_clients (
    client_id   TEXT    NOT NULL PRIMARY KEY,
    -- SHA-256 of the client secret (32 bytes), or empty for a public client.
    secret_hash BLOB    NOT NULL DEFAULT X'',
    -- Space-separated grant types: password, refresh_token, client_credentials.
    grants      TEXT    NOT NULL DEFAULT '',
    -- Space-separated RFC 6749 §3.3 scope-tokens the client may be granted.
    scopes      TEXT    NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    -- Seconds since the Unix epoch.
    created_at  INTEGER NOT NULL
);
