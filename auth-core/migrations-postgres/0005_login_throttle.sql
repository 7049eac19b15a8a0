-- auth-core: failed-login counters per username, shared by every instance
-- on this database, so that N instances do not give N times the guesses
-- (contract §9). Times are milliseconds since the Unix epoch.
CREATE TABLE login_throttle (
    username      TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL
);

-- Idle counters are pruned by age.
CREATE INDEX login_throttle_last_seen ON login_throttle (last_seen);
