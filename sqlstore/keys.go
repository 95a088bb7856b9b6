package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mintauth/mint"
)

// SigningKeys implements mint.KeyStore: every stored key, highest version
// first, decrypted when the store has WithKeyEncryption.
func (s *Store) SigningKeys(ctx context.Context) ([]mint.StoredKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, kid, alg, key_data, encrypted, created_at, retired_at
FROM mint_signing_keys ORDER BY version DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	defer rows.Close()
	var out []mint.StoredKey
	for rows.Next() {
		var k mint.StoredKey
		var data []byte
		var encrypted bool
		var created int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.Version, &k.ID, &k.Algorithm, &data, &encrypted, &created, &retired); err != nil {
			return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
		}
		k.CreatedAt = fromNanos(created)
		if retired.Valid {
			k.RetiredAt = fromNanos(retired.Int64)
		}
		if k.Private, err = s.open(k.ID, data, encrypted); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: signing keys: %w", err)
	}
	return out, nil
}

// AddSigningKey implements mint.KeyStore with INSERT ... ON CONFLICT DO
// NOTHING: when another replica already stored a key of that version (or
// that key id), nothing is written and added is false.
func (s *Store) AddSigningKey(ctx context.Context, k mint.StoredKey) (added bool, err error) {
	if k.ID == "" || len(k.Private) == 0 {
		return false, errors.New("sqlstore: signing key without id or material")
	}
	data, encrypted, err := s.seal(k.ID, k.Private)
	if err != nil {
		return false, err
	}
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `INSERT INTO mint_signing_keys
    (version, kid, alg, key_data, encrypted, created_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING`, k.Version, k.ID, k.Algorithm, data, encrypted, nanos(k.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("sqlstore: add signing key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: add signing key: %w", err)
	}
	return n == 1, nil
}

// RetireSigningKey implements mint.KeyStore: it sets retired_at of the
// key, keeping an earlier one, so that every replica stops signing with
// it at its next sync. It is ErrNotFound if no key has that id.
func (s *Store) RetireSigningKey(ctx context.Context, kid string, at time.Time) error {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, "UPDATE mint_signing_keys SET retired_at = COALESCE(retired_at, $1) WHERE kid = $2", nanos(at), kid)
	if err != nil {
		return fmt.Errorf("sqlstore: retire signing key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: retire signing key: %w", err)
	} else if n == 0 {
		return mint.ErrNotFound
	}
	return nil
}

// DeleteSigningKey removes a retired key: tokens it signed stop verifying
// on replicas that reload their key set. It is ErrNotFound if no key has
// that id.
func (s *Store) DeleteSigningKey(ctx context.Context, kid string) error {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, "DELETE FROM mint_signing_keys WHERE kid = $1", kid)
	if err != nil {
		return fmt.Errorf("sqlstore: delete signing key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: delete signing key: %w", err)
	} else if n == 0 {
		return mint.ErrNotFound
	}
	return nil
}

// seal encrypts key material when the store has a key-encryption key:
// nonce || AES-GCM(material), the kid as additional data.
func (s *Store) seal(kid string, material []byte) ([]byte, bool, error) {
	if s.aead == nil {
		return material, false, nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(material)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, false, err
	}
	return s.aead.Seal(nonce, nonce, material, []byte(kid)), true, nil
}

// open reverses seal.
func (s *Store) open(kid string, data []byte, encrypted bool) ([]byte, error) {
	if !encrypted {
		return data, nil
	}
	if s.aead == nil {
		return nil, fmt.Errorf("sqlstore: signing key %s is encrypted: configure WithKeyEncryption", kid)
	}
	ns := s.aead.NonceSize()
	if len(data) < ns {
		return nil, fmt.Errorf("sqlstore: signing key %s: sealed data too short", kid)
	}
	plain, err := s.aead.Open(nil, data[:ns], data[ns:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signing key %s: wrong key-encryption key or corrupted data", kid)
	}
	return plain, nil
}
