// Package sqlstore is a mint.Store on database/sql, for PostgreSQL and
// SQLite, that several replicas of a host can share. It keeps clients,
// users, refresh tokens (by digest only), revoked access-token ids and
// signing keys. The package imports no driver: the host opens the
// *sql.DB with the driver it likes (tested with github.com/jackc/pgx/v5/stdlib
// and the pure-Go modernc.org/sqlite).
//
//	db, _ := sql.Open("pgx", "postgres://mint@db/mint")
//	store, _ := sqlstore.New(db, sqlstore.Postgres)
//	if err := store.Migrate(ctx); err != nil { ... } // idempotent, replica-safe
//	_ = store.UpsertClient(ctx, &mint.Client{ID: "svc", SecretHash: hash, ...})
//	keys, _ := mint.LoadKeySet(ctx, store, mint.EdDSA, mint.KeyPolicy{PublishAhead: 5 * time.Minute}) // same key on every replica
//	issuer, _ := mint.New(store, keys)
//
// # Schema
//
// The embedded migrations create the tables mint_clients, mint_users,
// mint_refresh_tokens, mint_revoked_families, mint_denied_access_tokens,
// mint_revoked_subjects (RevokeUser, RevokeClient), mint_signing_keys, mint_limiter (the shared state of Store.Limiter) and
// mint_schema_migrations, with the same SQL on both
// engines: times are BIGINT Unix nanoseconds (UTC), lists (grants, scopes,
// roles, a client's Secrets) are JSON text, User.Disabled is a BOOLEAN
// (SetUserDisabled), key material is BYTEA (a BLOB on SQLite).
//
// # Case rules
//
// Client ids, user ids and usernames are matched exactly, byte for byte.
// E-mail addresses are matched ignoring case: the store keeps, beside the
// address as given, its lower-cased form (Go's strings.ToLower, the same
// on both engines) under a unique index, so two users cannot have
// addresses that differ only in case.
//
// # Refresh tokens
//
// RotateRefreshToken is one transaction: a conditional UPDATE that marks
// the old token used only if it is still unused and its family not
// revoked, then the INSERT of its successor. Of any number of concurrent
// rotations of one token, in one process or many, exactly one succeeds.
// RevokeRefreshFamily is one INSERT into mint_revoked_families, which
// revokes every token of the family, including one rotated in
// concurrently. RevokeUser and RevokeClient revoke every family of a user
// or client with one INSERT ... SELECT, however many there are, beside a
// row in mint_revoked_subjects that refuses its older access tokens; that
// row is kept for good. On PostgreSQL rotations run at READ COMMITTED whatever the
// server's default isolation. Prune deletes expired refresh tokens and
// deny-list rows; call it periodically from any replica.
//
// # SQLite
//
// Open the database with a busy timeout, WAL and immediate transactions,
// for example with modernc.org/sqlite:
//
//	file:/var/lib/mint.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate
//
// Within a process the store serializes its SQLite writes itself.
//
// # Signing keys
//
// Store implements mint.KeyStore: mint.LoadKeySet creates the first key
// once and every replica loads it; to rotate, add the next version with
// mint.AddGeneratedKey and let replicas pick it up with mint.SyncKeySet:
// they publish it at once and sign with it once the mint.KeyPolicy's
// PublishAhead has passed. mint.RetireKey sets retired_at of the key it
// replaces, which replicas keep publishing until TokenLifetime has passed.
// Keys are stored unencrypted (PKCS#8 DER) unless the store is given
// WithKeyEncryption, or the host encrypts the column itself: anyone who
// can read mint_signing_keys can otherwise sign tokens.
package sqlstore

import (
	"crypto/aes"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Dialect names the SQL engine behind the *sql.DB.
type Dialect int

// The supported engines.
const (
	// Postgres is PostgreSQL (tested with 15, through pgx's database/sql
	// driver). Migrations take an advisory lock.
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.35 or later (tested with modernc.org/sqlite).
	SQLite
)

// String returns the engine's name.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Store is a mint.Store over database/sql. Besides mint.Store it
// implements mint.AccessTokenDenyList, mint.SubjectRevoker, mint.Rehasher
// and mint.KeyStore. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	aead    cipher.AEAD
	now     func() time.Time
	// wmu serializes SQLite writes within the process: SQLite has a single
	// writer anyway, and this keeps busy errors out of concurrent rotations.
	wmu sync.Mutex
	// writeTx pins PostgreSQL rotations and prunes to READ COMMITTED
	// whatever the server's default_transaction_isolation: a concurrent
	// rotation then waits on the row lock and finds the token spent,
	// rather than failing with a serialization error.
	writeTx *sql.TxOptions
}

// Option configures a Store.
type Option func(*Store) error

// WithKeyEncryption seals the signing keys' material with AES-256-GCM
// under key (32 bytes, kept by the host outside the database; the key id
// is bound as additional data). Keys stored before the option was set are
// still read. Default: keys are stored unencrypted.
func WithKeyEncryption(key []byte) Option {
	return func(s *Store) error {
		if len(key) != 32 {
			return errors.New("sqlstore: key encryption needs a 32-byte key")
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return err
		}
		s.aead, err = cipher.NewGCM(block)
		return err
	}
}

// WithClock sets the time source used for the revocation timestamps the
// store writes itself. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("sqlstore: nil clock")
		}
		s.now = now
		return nil
	}
}

// New returns a Store over db, whose engine is dialect. It does not touch
// the database: call Migrate before use.
func New(db *sql.DB, dialect Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if dialect != Postgres && dialect != SQLite {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	s := &Store{db: db, dialect: dialect, now: time.Now}
	if dialect == Postgres {
		s.writeTx = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// DB returns the database the store uses.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// lockWrites serializes writers on SQLite; it is a no-op on PostgreSQL.
func (s *Store) lockWrites() func() {
	if s.dialect != SQLite {
		return func() {}
	}
	s.wmu.Lock()
	return s.wmu.Unlock
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// nullNanos stores the zero time as NULL.
func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

// storable reports whether v can be stored in, and so found in, a TEXT
// column of both engines: valid UTF-8 without NUL. A lookup of anything
// else is answered "not found" without a query, since PostgreSQL would
// reject it with an error, turning odd client input into a server error.
func storable(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

// nullString stores "" as NULL.
func nullString(v string) sql.NullString { return sql.NullString{String: v, Valid: v != ""} }
