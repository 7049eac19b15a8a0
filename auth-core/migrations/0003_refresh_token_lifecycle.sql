-- auth-core: absolute family lifetime, and revoking by user.
-- Every token carries the end of its family (login time plus
-- auth_refresh_max_age); rotation copies it to the successor. Tokens issued
-- before this migration end with their own expiry.
ALTER TABLE refresh_tokens ADD COLUMN family_expires_at INTEGER NOT NULL DEFAULT 0;
UPDATE refresh_tokens SET family_expires_at = expires_at;

-- "Log out everywhere" finds a user's families by username.
CREATE INDEX refresh_tokens_username ON refresh_tokens (username);
