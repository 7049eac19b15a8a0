-- auth-core: users the toolkit authenticates.
-- Versions 0001-0999 belong to auth-core; applications sharing the database
-- use their own range (the demo app uses 1001 and up).
CREATE TABLE users (
    -- At most MAX_USERNAME_LEN (256) bytes, as the token endpoint accepts.
    username      TEXT    NOT NULL PRIMARY KEY
                          CHECK (octet_length(username) BETWEEN 1 AND 256),
    -- PHC string (argon2) or bcrypt hash; never a plain password.
    password_hash TEXT    NOT NULL CHECK (octet_length(password_hash) <= 1024),
    -- Space-separated RFC 6749 §3.3 scope-tokens, possibly empty.
    scopes        TEXT    NOT NULL DEFAULT '' CHECK (octet_length(scopes) <= 8192),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    -- Seconds since the Unix epoch.
    created_at    BIGINT  NOT NULL DEFAULT (extract(epoch FROM now())::BIGINT)
);
