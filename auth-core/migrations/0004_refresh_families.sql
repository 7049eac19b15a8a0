-- auth-core: one row per refresh-token family (one login session), kept
-- until the family's absolute end even after its tokens are pruned, so that
-- a token rotated past any number of times ago still names a family the
-- store knows (its replay revokes the family, RFC 9700 §4.14.2), and access
-- tokens carrying the family as their `sid` claim end with it.
CREATE TABLE refresh_families (
    family_id  TEXT    NOT NULL PRIMARY KEY,
    username   TEXT    NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    -- Seconds since the Unix epoch: the login, and the family's absolute end.
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX refresh_families_username ON refresh_families (username);
CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at);

-- Families of tokens stored before this migration.
INSERT INTO refresh_families (family_id, username, revoked, created_at, expires_at)
SELECT family_id,
       MIN(username),
       MAX(state = 'revoked'),
       MIN(issued_at),
       MAX(MAX(family_expires_at, expires_at))
FROM refresh_tokens
GROUP BY family_id;
