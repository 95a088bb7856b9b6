-- Everything of a user or of a client revoked at once: one row per
-- revoked user (kind 'user') or client (kind 'client'); its access tokens
-- issued at or before revoked_at (Unix nanoseconds) are refused. The
-- indexes find a user's or client's refresh-token families.
CREATE TABLE mint_revoked_subjects (
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    PRIMARY KEY (kind, subject)
);
CREATE INDEX mint_refresh_tokens_user_id ON mint_refresh_tokens (user_id);
CREATE INDEX mint_refresh_tokens_client_id ON mint_refresh_tokens (client_id);
