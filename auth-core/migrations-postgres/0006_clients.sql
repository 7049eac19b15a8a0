-- auth-core: the client registry (RFC 6749 §2).
CREATE TABLE oauth_clients (
    -- At most MAX_CLIENT_ID_LEN (128) bytes, as the token endpoint accepts.
    client_id   TEXT    NOT NULL PRIMARY KEY
                        CHECK (octet_length(client_id) BETWEEN 1 AND 128),
    -- SHA-256 of the client secret (32 bytes), or empty for a public client.
    secret_hash BYTEA   NOT NULL DEFAULT ''::BYTEA
                        CHECK (octet_length(secret_hash) IN (0, 32)),
    -- Space-separated grant types: password, refresh_token, client_credentials.
    grants      TEXT    NOT NULL DEFAULT '' CHECK (octet_length(grants) <= 256),
    -- Space-separated RFC 6749 §3.3 scope-tokens the client may be granted.
    scopes      TEXT    NOT NULL DEFAULT '' CHECK (octet_length(scopes) <= 8192),
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    -- Seconds since the Unix epoch.
    created_at  BIGINT  NOT NULL
);
