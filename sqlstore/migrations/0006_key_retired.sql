-- When a signing key stopped signing (mint.StoredKey.RetiredAt), in Unix
-- nanoseconds; NULL for a key that is not retired. A retired key is still
-- published until every token it signed has expired.
ALTER TABLE mint_signing_keys ADD COLUMN retired_at BIGINT;
