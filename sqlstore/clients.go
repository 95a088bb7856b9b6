package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mintauth/mint"
)

// UpsertClient adds the client, or replaces the stored client with the
// same id.
func (s *Store) UpsertClient(ctx context.Context, c *mint.Client) error {
	if c == nil || c.ID == "" {
		return errors.New("sqlstore: client without id")
	}
	grants, _ := json.Marshal(c.Grants)
	scopes, _ := json.Marshal(c.Scopes)
	roles, _ := json.Marshal(c.Roles)
	audience, _ := json.Marshal(c.Audience)
	resources, _ := json.Marshal(c.Resources)
	defer s.lockWrites()()
	_, err := s.db.ExecContext(ctx, `INSERT INTO mint_clients
    (id, secret_hash, name, description, identifier, grants, scopes, roles, access_token_ttl, audience, resources, secrets,
     auth_method, jwks, jwks_uri, dpop_bound)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (id) DO UPDATE SET
    secret_hash = excluded.secret_hash, name = excluded.name,
    description = excluded.description, identifier = excluded.identifier,
    grants = excluded.grants, scopes = excluded.scopes, roles = excluded.roles,
    access_token_ttl = excluded.access_token_ttl, audience = excluded.audience, resources = excluded.resources,
    secrets = excluded.secrets, auth_method = excluded.auth_method, jwks = excluded.jwks,
    jwks_uri = excluded.jwks_uri, dpop_bound = excluded.dpop_bound`,
		c.ID, c.SecretHash, c.Name, c.Description, c.Identifier,
		string(grants), string(scopes), string(roles), int64(c.AccessTokenTTL), string(audience), string(resources),
		encodeSecrets(c.Secrets), c.AuthMethod, string(c.JWKS), c.JWKSURI, c.DPoPBound)
	if err != nil {
		return fmt.Errorf("sqlstore: upsert client: %w", err)
	}
	return nil
}

// Client implements mint.ClientStore; the id is matched exactly.
func (s *Store) Client(ctx context.Context, id string) (*mint.Client, error) {
	if !storable(id) {
		return nil, mint.ErrNotFound
	}
	var c mint.Client
	var grants, scopes, roles, audience, resources, secrets, jwks string
	var ttl int64
	err := s.db.QueryRowContext(ctx, `SELECT id, secret_hash, name, description, identifier,
    grants, scopes, roles, access_token_ttl, audience, resources, secrets, auth_method, jwks, jwks_uri, dpop_bound
FROM mint_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.SecretHash, &c.Name, &c.Description, &c.Identifier, &grants, &scopes, &roles, &ttl,
			&audience, &resources, &secrets, &c.AuthMethod, &jwks, &c.JWKSURI, &c.DPoPBound)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mint.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: client: %w", err)
	}
	if err := errors.Join(json.Unmarshal([]byte(grants), &c.Grants), json.Unmarshal([]byte(scopes), &c.Scopes),
		json.Unmarshal([]byte(roles), &c.Roles), json.Unmarshal([]byte(audience), &c.Audience),
		json.Unmarshal([]byte(resources), &c.Resources)); err != nil {
		return nil, fmt.Errorf("sqlstore: client %q: %w", c.ID, err)
	}
	if c.Secrets, err = decodeSecrets(secrets); err != nil {
		return nil, fmt.Errorf("sqlstore: client %q: %w", c.ID, err)
	}
	c.AccessTokenTTL = time.Duration(ttl)
	if jwks != "" {
		c.JWKS = json.RawMessage(jwks)
	}
	return &c, nil
}

// ClientIDs returns the id of every stored client, in byte order, for
// tools that list clients (cmd/mint's clients list).
func (s *Store) ClientIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id FROM mint_clients ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: client ids: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlstore: client ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: client ids: %w", err)
	}
	return ids, nil
}

// DeleteClient removes the client id, so that its secrets no longer
// authenticate; tokens already issued to it are not revoked (RevokeClient
// does that). An unknown id is mint.ErrNotFound.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if !storable(id) {
		return mint.ErrNotFound
	}
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, "DELETE FROM mint_clients WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete client: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: delete client: %w", err)
	} else if n == 0 {
		return mint.ErrNotFound
	}
	return nil
}

// storedSecret is a mint.Secret as the secrets column holds it.
// mint.Secret's own JSON form leaves the hash out.
type storedSecret struct {
	Hash      string `json:"hash"`
	ExpiresAt int64  `json:"expires_at,omitempty"` // Unix nanoseconds; 0: never
}

func encodeSecrets(secrets []mint.Secret) string {
	out := make([]storedSecret, len(secrets))
	for i, sec := range secrets {
		out[i].Hash = sec.Hash
		if !sec.ExpiresAt.IsZero() {
			out[i].ExpiresAt = nanos(sec.ExpiresAt)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// decodeSecrets reads the secrets column; nil for none. A decoding error
// does not wrap the JSON error, which may quote part of a hash.
func decodeSecrets(column string) ([]mint.Secret, error) {
	var stored []storedSecret
	if err := json.Unmarshal([]byte(column), &stored); err != nil {
		return nil, errors.New("the secrets column is not a JSON list of secrets")
	}
	var out []mint.Secret
	for _, sec := range stored {
		s := mint.Secret{Hash: sec.Hash}
		if sec.ExpiresAt != 0 {
			s.ExpiresAt = fromNanos(sec.ExpiresAt)
		}
		out = append(out, s)
	}
	return out, nil
}

// UpdateSecretHash implements mint.Rehasher. A hash old in
// Client.Secrets is replaced by a conditional UPDATE of the whole secrets
// column: if the column changed meanwhile, the call is a no-op and the
// hash is upgraded at a later login.
func (s *Store) UpdateSecretHash(ctx context.Context, clientID, old, hash string) error {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx,
		"UPDATE mint_clients SET secret_hash = $1 WHERE id = $2 AND secret_hash = $3", hash, clientID, old)
	if err != nil {
		return fmt.Errorf("sqlstore: update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: update: %w", err)
	} else if n > 0 {
		return nil
	}
	var column string
	switch err := s.db.QueryRowContext(ctx, "SELECT secrets FROM mint_clients WHERE id = $1", clientID).Scan(&column); {
	case errors.Is(err, sql.ErrNoRows):
		return mint.ErrNotFound
	case err != nil:
		return fmt.Errorf("sqlstore: update: %w", err)
	}
	secrets, err := decodeSecrets(column)
	if err != nil {
		return fmt.Errorf("sqlstore: update: client %q: %w", clientID, err)
	}
	i := slices.IndexFunc(secrets, func(sec mint.Secret) bool { return sec.Hash == old })
	if i < 0 {
		return nil // changed meanwhile: keep the newer secret
	}
	secrets[i].Hash = hash
	if _, err := s.db.ExecContext(ctx, "UPDATE mint_clients SET secrets = $1 WHERE id = $2 AND secrets = $3",
		encodeSecrets(secrets), clientID, column); err != nil {
		return fmt.Errorf("sqlstore: update: %w", err)
	}
	return nil
}

// UpsertUser adds the user, or replaces the stored user with the same id.
// It fails if another user has the same username, or an e-mail address
// that differs only in case.
func (s *Store) UpsertUser(ctx context.Context, u *mint.User) error {
	if u == nil || u.ID == "" {
		return errors.New("sqlstore: user without id")
	}
	roles, _ := json.Marshal(u.Roles)
	defer s.lockWrites()()
	_, err := s.db.ExecContext(ctx, `INSERT INTO mint_users
    (id, username, email, email_key, password_hash, roles, disabled)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
    username = excluded.username, email = excluded.email, email_key = excluded.email_key,
    password_hash = excluded.password_hash, roles = excluded.roles, disabled = excluded.disabled`,
		u.ID, nullString(u.Username), nullString(u.Email), nullString(emailKey(u.Email)),
		u.PasswordHash, string(roles), u.Disabled)
	if err != nil {
		return fmt.Errorf("sqlstore: upsert user: %w", err)
	}
	return nil
}

// emailKey is the form e-mail addresses are compared in.
func emailKey(email string) string { return strings.ToLower(email) }

const userColumns = "id, username, email, password_hash, roles, disabled FROM mint_users"

// User implements mint.UserStore; the id is matched exactly.
func (s *Store) User(ctx context.Context, id string) (*mint.User, error) {
	return s.user(ctx, "SELECT "+userColumns+" WHERE id = $1", id)
}

// UserByUsername implements mint.UserStore; the username is matched
// exactly (case-sensitive).
func (s *Store) UserByUsername(ctx context.Context, username string) (*mint.User, error) {
	if username == "" {
		return nil, mint.ErrNotFound
	}
	return s.user(ctx, "SELECT "+userColumns+" WHERE username = $1", username)
}

// UserByEmail implements mint.UserStore; the address is matched ignoring
// case (strings.ToLower on both sides).
func (s *Store) UserByEmail(ctx context.Context, email string) (*mint.User, error) {
	if email == "" {
		return nil, mint.ErrNotFound
	}
	return s.user(ctx, "SELECT "+userColumns+" WHERE email_key = $1", emailKey(email))
}

func (s *Store) user(ctx context.Context, query, arg string) (*mint.User, error) {
	if !storable(arg) {
		return nil, mint.ErrNotFound
	}
	var u mint.User
	var username, email sql.NullString
	var roles string
	err := s.db.QueryRowContext(ctx, query, arg).Scan(&u.ID, &username, &email, &u.PasswordHash, &roles, &u.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mint.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: user: %w", err)
	}
	u.Username, u.Email = username.String, email.String
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return nil, fmt.Errorf("sqlstore: user %q roles: %w", u.ID, err)
	}
	return &u, nil
}

// SetUserDisabled disables the user with this id (mint.User.Disabled), or
// enables it again, in one UPDATE: every server reading the store refuses
// the user's logins and refresh tokens from its next request on, and
// accepts them again once enabled. An unknown user is mint.ErrNotFound,
// and nothing changes.
func (s *Store) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	if !storable(id) {
		return mint.ErrNotFound
	}
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, "UPDATE mint_users SET disabled = $1 WHERE id = $2", disabled, id)
	if err != nil {
		return fmt.Errorf("sqlstore: set user disabled: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: set user disabled: %w", err)
	}
	if n == 0 {
		return mint.ErrNotFound
	}
	return nil
}

// UpdatePasswordHash implements mint.Rehasher.
func (s *Store) UpdatePasswordHash(ctx context.Context, userID, old, hash string) error {
	return s.swapHash(ctx, "mint_users", "password_hash", userID, old, hash)
}

// swapHash sets column to hash in the row id of table if it still holds
// old, in one conditional UPDATE; a row that holds another hash is left
// alone (nil), no row is ErrNotFound. table and column are constants.
func (s *Store) swapHash(ctx context.Context, table, column, id, old, hash string) error {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx,
		"UPDATE "+table+" SET "+column+" = $1 WHERE id = $2 AND "+column+" = $3", hash, id, old)
	if err != nil {
		return fmt.Errorf("sqlstore: update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: update: %w", err)
	} else if n > 0 {
		return nil
	}
	var one int
	switch err := s.db.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = $1", id).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return mint.ErrNotFound
	case err != nil:
		return fmt.Errorf("sqlstore: update: %w", err)
	}
	return nil
}
