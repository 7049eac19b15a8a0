-- auth-core: when each refresh-token family (login session) was created, so
-- that the oldest sessions of a user are the ones ended when the user has
-- more than `auth_max_sessions_per_user`.
ALTER TABLE refresh_families ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;

UPDATE refresh_families AS f
SET created_at = t.first_issued
FROM (SELECT family_id, MIN(issued_at) AS first_issued
      FROM refresh_tokens GROUP BY family_id) AS t
WHERE t.family_id = f.family_id;

-- Creation order within one second, to end the oldest session first.
ALTER TABLE refresh_families ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
