-- private_key_jwt and DPoP (mint.Client.AuthMethod, JWKS, JWKSURI and
-- DPoPBound; mint.RefreshToken.JKT), and the ids of client assertions and
-- DPoP proofs already accepted (mint.ReplayCache), each kept until
-- expires_at (Unix nanoseconds).
ALTER TABLE mint_clients ADD COLUMN auth_method TEXT NOT NULL DEFAULT '';
ALTER TABLE mint_clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE mint_clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE mint_clients ADD COLUMN dpop_bound BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE mint_refresh_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
CREATE TABLE mint_used_ids (
    id         TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
