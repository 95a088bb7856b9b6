-- The shared state of sqlstore.Limiter: one row per throttled key (a
-- client id, or a client id and login; see mint.ClientLimitKey), so that
-- every replica counts the same failures. Times are Unix nanoseconds.
CREATE TABLE mint_limiter (
    limit_key     TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    last_failure  BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);
CREATE INDEX mint_limiter_last_failure ON mint_limiter (last_failure);
