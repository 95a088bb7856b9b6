package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mintauth/mint"
)

const insertToken = `INSERT INTO mint_refresh_tokens
    (digest, family, parent_digest, next_digest, client_id, user_id, grant_type, scope,
     issued_at, expires_at, used_at, resources, jkt)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// execer is what *sql.DB and *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func saveToken(ctx context.Context, db execer, t *mint.RefreshToken) error {
	scope, _ := json.Marshal(t.Scope)
	resources, _ := json.Marshal(t.Resources)
	_, err := db.ExecContext(ctx, insertToken,
		t.Digest, t.Family, t.Parent, t.Next, t.ClientID, t.UserID, t.Grant, string(scope),
		nanos(t.IssuedAt), nanos(t.ExpiresAt), nullNanos(t.UsedAt), string(resources), t.JKT)
	return err
}

// SaveRefreshToken implements mint.RefreshTokenStore.
func (s *Store) SaveRefreshToken(ctx context.Context, t *mint.RefreshToken) error {
	defer s.lockWrites()()
	if err := saveToken(ctx, s.db, t); err != nil {
		return fmt.Errorf("sqlstore: save refresh token: %w", err)
	}
	return nil
}

// RefreshToken implements mint.RefreshTokenStore. Revoked is true when the
// token's family was revoked, or its user or client by RevokeUser or
// RevokeClient as of a time at or after its IssuedAt (so a token saved
// concurrently with the revocation is caught too).
func (s *Store) RefreshToken(ctx context.Context, digest string) (*mint.RefreshToken, error) {
	if !storable(digest) {
		return nil, mint.ErrNotFound
	}
	var t mint.RefreshToken
	var scope, resources string
	var issued, expires int64
	var used sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT t.digest, t.family, t.parent_digest, t.next_digest,
    t.client_id, t.user_id, t.grant_type, t.scope, t.issued_at, t.expires_at, t.used_at,
    EXISTS (SELECT 1 FROM mint_revoked_families f WHERE f.family = t.family)
    OR EXISTS (SELECT 1 FROM mint_revoked_subjects r WHERE r.revoked_at >= t.issued_at
        AND ((r.kind = 'user' AND r.subject = t.user_id) OR (r.kind = 'client' AND r.subject = t.client_id))),
    t.resources, t.jkt
FROM mint_refresh_tokens t WHERE t.digest = $1`, digest).
		Scan(&t.Digest, &t.Family, &t.Parent, &t.Next, &t.ClientID, &t.UserID, &t.Grant, &scope,
			&issued, &expires, &used, &t.Revoked, &resources, &t.JKT)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mint.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: refresh token: %w", err)
	}
	if err := errors.Join(json.Unmarshal([]byte(scope), &t.Scope), json.Unmarshal([]byte(resources), &t.Resources)); err != nil {
		return nil, fmt.Errorf("sqlstore: refresh token: %w", err)
	}
	t.IssuedAt, t.ExpiresAt = fromNanos(issued), fromNanos(expires)
	if used.Valid {
		t.UsedAt = fromNanos(used.Int64)
	}
	return &t, nil
}

// RotateRefreshToken implements mint.RefreshTokenStore in one
// transaction: a conditional UPDATE spends the old token only if it is
// unused and its family not revoked (concurrent callers wait on the row
// lock and then find it spent), and the successor is inserted. Either both
// happen or neither does. A token that cannot be spent gives
// mint.ErrTokenUsed, an unknown one mint.ErrNotFound.
func (s *Store) RotateRefreshToken(ctx context.Context, old string, next *mint.RefreshToken) error {
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, s.writeTx)
	if err != nil {
		return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	res, err := tx.ExecContext(ctx, `UPDATE mint_refresh_tokens SET used_at = $1, next_digest = $2
WHERE digest = $3 AND used_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM mint_revoked_families f WHERE f.family = mint_refresh_tokens.family)`,
		nanos(next.IssuedAt), next.Digest, old)
	if err != nil {
		return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
	}
	if n == 0 {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM mint_refresh_tokens WHERE digest = $1", old).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return mint.ErrNotFound
		case err != nil:
			return fmt.Errorf("sqlstore: rotate refresh token: %w", err)
		}
		return mint.ErrTokenUsed
	}
	if err := saveToken(ctx, tx, next); err != nil {
		return fmt.Errorf("sqlstore: rotate refresh token: save successor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: rotate refresh token: commit: %w", err)
	}
	return nil
}

// RevokeRefreshFamily implements mint.RefreshTokenStore with one INSERT:
// a row in mint_revoked_families revokes every token of the family, those
// already stored and any rotated in later.
func (s *Store) RevokeRefreshFamily(ctx context.Context, family string) error {
	defer s.lockWrites()()
	_, err := s.db.ExecContext(ctx, `INSERT INTO mint_revoked_families (family, revoked_at)
VALUES ($1, $2) ON CONFLICT (family) DO NOTHING`, family, nanos(s.now()))
	if err != nil {
		return fmt.Errorf("sqlstore: revoke refresh family: %w", err)
	}
	return nil
}

// DenyAccessToken implements mint.AccessTokenDenyList (RFC 7009): jti is
// denied until Prune removes it after until.
func (s *Store) DenyAccessToken(ctx context.Context, jti string, until time.Time) error {
	defer s.lockWrites()()
	_, err := s.db.ExecContext(ctx, `INSERT INTO mint_denied_access_tokens (jti, expires_at)
VALUES ($1, $2) ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at`, jti, nanos(until))
	if err != nil {
		return fmt.Errorf("sqlstore: deny access token: %w", err)
	}
	return nil
}

// AccessTokenDenied implements mint.AccessTokenDenyList, with the
// revocations of RevokeUser and RevokeClient, in one query.
func (s *Store) AccessTokenDenied(ctx context.Context, jti, clientID, userID string, issuedAt time.Time) (bool, error) {
	// An id that cannot be stored was never denied or revoked.
	jti, clientID, userID = orEmpty(jti), orEmpty(clientID), orEmpty(userID)
	var denied bool
	err := s.db.QueryRowContext(ctx, `SELECT
    EXISTS (SELECT 1 FROM mint_denied_access_tokens WHERE jti = $1)
    OR EXISTS (SELECT 1 FROM mint_revoked_subjects WHERE revoked_at >= $4
        AND ((kind = 'client' AND subject = $2) OR (kind = 'user' AND subject = $3 AND subject <> '')))`,
		jti, clientID, userID, nanos(issuedAt)).Scan(&denied)
	if err != nil {
		return false, fmt.Errorf("sqlstore: access token denied: %w", err)
	}
	return denied, nil
}

// orEmpty is v if it is storable, else "".
func orEmpty(v string) string {
	if !storable(v) {
		return ""
	}
	return v
}

// RevokeUser implements mint.SubjectRevoker in one transaction of two
// statements, however many families the user has: the upsert of the
// user's row in mint_revoked_subjects, and one INSERT ... SELECT that
// marks every family of the user revoked in mint_revoked_families.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	return s.revokeSubject(ctx, "user", userID, at)
}

// RevokeClient implements mint.SubjectRevoker like RevokeUser, for every
// family issued to the client.
func (s *Store) RevokeClient(ctx context.Context, clientID string, at time.Time) error {
	return s.revokeSubject(ctx, "client", clientID, at)
}

// revokeFamiliesOf revokes, by kind of subject, every family of the
// subject $1 as of $2 in one statement.
var revokeFamiliesOf = map[string]string{
	"user": `INSERT INTO mint_revoked_families (family, revoked_at)
SELECT DISTINCT family, CAST($2 AS BIGINT) FROM mint_refresh_tokens WHERE user_id = $1
ON CONFLICT (family) DO NOTHING`,
	"client": `INSERT INTO mint_revoked_families (family, revoked_at)
SELECT DISTINCT family, CAST($2 AS BIGINT) FROM mint_refresh_tokens WHERE client_id = $1
ON CONFLICT (family) DO NOTHING`,
}

func (s *Store) revokeSubject(ctx context.Context, kind, id string, at time.Time) error {
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, s.writeTx)
	if err != nil {
		return fmt.Errorf("sqlstore: revoke %s: %w", kind, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO mint_revoked_subjects (kind, subject, revoked_at)
VALUES ($1, $2, $3) ON CONFLICT (kind, subject) DO UPDATE SET revoked_at = excluded.revoked_at
WHERE excluded.revoked_at > mint_revoked_subjects.revoked_at`, kind, id, nanos(at)); err != nil {
		return fmt.Errorf("sqlstore: revoke %s: %w", kind, err)
	}
	if _, err := tx.ExecContext(ctx, revokeFamiliesOf[kind], id, nanos(at)); err != nil {
		return fmt.Errorf("sqlstore: revoke %s: families: %w", kind, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: revoke %s: commit: %w", kind, err)
	}
	return nil
}

// Pruned counts the rows Prune deleted.
type Pruned struct {
	RefreshTokens, RevokedFamilies, DeniedAccessTokens, UsedIDs int64
}

// Prune deletes refresh tokens, deny-list entries and used ids
// (mint.ReplayCache) that expired at or before now, and the revocation marks of families with no token left, in
// one transaction. Call it periodically from one replica or all: it is
// idempotent.
func (s *Store) Prune(ctx context.Context, now time.Time) (Pruned, error) {
	defer s.lockWrites()()
	var p Pruned
	tx, err := s.db.BeginTx(ctx, s.writeTx)
	if err != nil {
		return p, fmt.Errorf("sqlstore: prune: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, step := range []struct {
		query string
		count *int64
	}{
		{"DELETE FROM mint_refresh_tokens WHERE expires_at <= $1", &p.RefreshTokens},
		{"DELETE FROM mint_denied_access_tokens WHERE expires_at <= $1", &p.DeniedAccessTokens},
		{"DELETE FROM mint_used_ids WHERE expires_at <= $1", &p.UsedIDs},
		{`DELETE FROM mint_revoked_families WHERE revoked_at <= $1 AND NOT EXISTS
    (SELECT 1 FROM mint_refresh_tokens t WHERE t.family = mint_revoked_families.family)`, &p.RevokedFamilies},
	} {
		res, err := tx.ExecContext(ctx, step.query, nanos(now))
		if err != nil {
			return Pruned{}, fmt.Errorf("sqlstore: prune: %w", err)
		}
		if *step.count, err = res.RowsAffected(); err != nil {
			return Pruned{}, fmt.Errorf("sqlstore: prune: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Pruned{}, fmt.Errorf("sqlstore: prune: %w", err)
	}
	return p, nil
}

// UseOnce implements mint.ReplayCache with one statement: the id,
// stored as its SHA-256 (so that any id, of any length or bytes, is
// storable), is inserted, or an expired record of it (one Prune has not
// deleted yet) renewed; a record that has not expired is left alone, and
// then the id is not new.
func (s *Store) UseOnce(ctx context.Context, id string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(id))
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `INSERT INTO mint_used_ids (id, expires_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE mint_used_ids.expires_at <= $3`,
		base64.RawURLEncoding.EncodeToString(sum[:]), nanos(expires), nanos(s.now()))
	if err != nil {
		return false, fmt.Errorf("sqlstore: use once: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: use once: %w", err)
	}
	return n == 1, nil
}
