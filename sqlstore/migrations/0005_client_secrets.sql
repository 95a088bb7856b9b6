-- A client's further secrets (mint.Client.Secrets), in order, as JSON
-- text: [{"hash": "...", "expires_at": <Unix nanoseconds>}], expires_at
-- left out for a secret that never expires. One column, so that a client
-- and its secrets are read and replaced by one statement.
ALTER TABLE mint_clients ADD COLUMN secrets TEXT NOT NULL DEFAULT '[]';
