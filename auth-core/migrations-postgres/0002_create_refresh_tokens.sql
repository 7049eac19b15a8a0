-- auth-core: refresh-token families and their tokens, stored only as the
-- SHA-256 of the opaque token.

-- One row per family (one login). Every write to a family's tokens first
-- locks this row (SELECT ... FOR UPDATE, or an UPDATE of it), so rotation,
-- revocation and "log out everywhere" of one family are serialised across
-- every connection and process. A revoked family stays revoked: no token
-- can be added to it.
CREATE TABLE refresh_families (
    family_id  TEXT    NOT NULL PRIMARY KEY CHECK (octet_length(family_id) BETWEEN 1 AND 128),
    username   TEXT    NOT NULL CHECK (octet_length(username) BETWEEN 1 AND 256),
    revoked    BOOLEAN NOT NULL DEFAULT FALSE,
    -- Seconds since the Unix epoch: no token of the family lives longer,
    -- so the row can be pruned after it.
    expires_at BIGINT  NOT NULL
);

CREATE INDEX refresh_families_username ON refresh_families (username);
CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at);

CREATE TABLE refresh_tokens (
    -- Insertion order, to keep a family's newest tokens when capping it.
    seq               BIGINT  GENERATED ALWAYS AS IDENTITY,
    token_hash        BYTEA   NOT NULL PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    -- Every token rotated from one login shares a family id, so a replayed
    -- token can revoke the whole family (RFC 9700 §4.14.2).
    family_id         TEXT    NOT NULL CHECK (octet_length(family_id) BETWEEN 1 AND 128),
    username          TEXT    NOT NULL CHECK (octet_length(username) BETWEEN 1 AND 256),
    -- At most MAX_CLIENT_ID_LEN (128) bytes, as the token endpoint accepts.
    client_id         TEXT    NOT NULL CHECK (octet_length(client_id) <= 128),
    -- Space-separated scope-tokens granted with the token.
    scopes            TEXT    NOT NULL DEFAULT '' CHECK (octet_length(scopes) <= 8192),
    -- Seconds since the Unix epoch.
    issued_at         BIGINT  NOT NULL,
    expires_at        BIGINT  NOT NULL,
    family_expires_at BIGINT  NOT NULL,
    state             TEXT    NOT NULL DEFAULT 'active'
                              CHECK (state IN ('active', 'used', 'revoked'))
);

CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_username ON refresh_tokens (username);
