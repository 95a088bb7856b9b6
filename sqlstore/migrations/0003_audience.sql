-- RFC 8707: a client's default audience and the resources it may ask
-- for, and the resources a refresh-token family was granted (JSON lists).
ALTER TABLE mint_clients ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mint_clients ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mint_refresh_tokens ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
