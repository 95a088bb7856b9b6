-- mint's tables, the same SQL on PostgreSQL and SQLite.
-- Times are BIGINT Unix nanoseconds (UTC); lists are JSON text.

CREATE TABLE mint_clients (
    id               TEXT PRIMARY KEY,
    secret_hash      TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    identifier       TEXT NOT NULL,
    grants           TEXT NOT NULL,
    scopes           TEXT NOT NULL,
    roles            TEXT NOT NULL,
    access_token_ttl BIGINT NOT NULL
);

-- username is matched exactly; email_key is the e-mail address lower-cased
-- by the store, so that e-mail lookups ignore case. NULL when absent.
CREATE TABLE mint_users (
    id            TEXT PRIMARY KEY,
    username      TEXT UNIQUE,
    email         TEXT,
    email_key     TEXT UNIQUE,
    password_hash TEXT NOT NULL,
    roles         TEXT NOT NULL
);

-- Refresh tokens by digest only. used_at is NULL while the token is
-- active; a family is revoked by one row in mint_revoked_families, which
-- also covers tokens of the family rotated in after the revocation.
CREATE TABLE mint_refresh_tokens (
    digest        TEXT PRIMARY KEY,
    family        TEXT NOT NULL,
    parent_digest TEXT NOT NULL,
    next_digest   TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    grant_type    TEXT NOT NULL,
    scope         TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);
CREATE INDEX mint_refresh_tokens_family ON mint_refresh_tokens (family);
CREATE INDEX mint_refresh_tokens_expires_at ON mint_refresh_tokens (expires_at);

CREATE TABLE mint_revoked_families (
    family     TEXT PRIMARY KEY,
    revoked_at BIGINT NOT NULL
);

-- Revoked access-token ids (RFC 7009), kept until the token expires.
CREATE TABLE mint_denied_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mint_denied_access_tokens_expires_at ON mint_denied_access_tokens (expires_at);

-- Signing keys shared by every replica; the highest version is active.
-- key_data is PKCS#8 DER (raw secret for HS256), AES-GCM sealed when
-- encrypted is true.
CREATE TABLE mint_signing_keys (
    version    BIGINT PRIMARY KEY,
    kid        TEXT NOT NULL UNIQUE,
    alg        TEXT NOT NULL,
    key_data   BYTEA NOT NULL,
    encrypted  BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
