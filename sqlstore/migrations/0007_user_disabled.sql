-- Whether the user is disabled (mint.User.Disabled): the Issuer refuses
-- the user's logins and refresh tokens while it is true. Every existing
-- user stays enabled.
ALTER TABLE mint_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
