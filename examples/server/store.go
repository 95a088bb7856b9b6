package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for -store postgres://
	_ "modernc.org/sqlite"             // database/sql driver "sqlite" for -store sqlite:PATH

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// pruneEvery is how often the stores drop expired refresh tokens and
// deny-list entries.
const pruneEvery = 10 * time.Minute

// openStore opens the store named by spec and puts the configured clients
// and users in it (replacing stored ones of the same id). It returns the
// store and a function that closes it.
//
//	memory          an in-memory store (the default): everything is lost on exit
//	sqlite:PATH     a SQLite file, created if missing
//	postgres://...  a PostgreSQL database (also postgresql://)
//
// The SQL stores create their tables on start (sqlstore's Migrate, safe
// when several servers start at once) and keep the signing keys too: see
// openKeys.
func openStore(ctx context.Context, spec string, cfg *Config) (mint.Store, func() error, error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, nil, errors.New("-store sqlite:PATH: empty path")
		}
		return openSQLStore(ctx, "sqlite", sqliteDSN(path), sqlstore.SQLite, cfg)
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return openSQLStore(ctx, "pgx", spec, sqlstore.Postgres, cfg)
	}
	switch spec {
	case "", "memory":
		s := mint.NewMemoryStore()
		for _, c := range cfg.MintClients() {
			s.PutClient(c)
		}
		for _, u := range cfg.MintUsers() {
			s.PutUser(u)
		}
		ctx, cancel := context.WithCancel(ctx)
		go every(ctx, pruneEvery, s.Prune)
		return s, func() error { cancel(); return nil }, nil
	}
	return nil, nil, fmt.Errorf("-store %q: unsupported: want memory, sqlite:PATH or a postgres:// DSN", redactDSN(spec))
}

// sqliteDSN is the modernc.org/sqlite DSN for a database file: a busy
// timeout, WAL, and immediate transactions so that two servers sharing the
// file never deadlock. A path that already carries parameters is used as is.
func sqliteDSN(path string) string {
	if strings.Contains(path, "?") {
		return "file:" + path
	}
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// openSQLStore opens a sqlstore.Store, creates or upgrades its tables and
// upserts the configured clients and users.
func openSQLStore(ctx context.Context, driver, dsn string, dialect sqlstore.Dialect, cfg *Config) (mint.Store, func() error, error) {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("-store %s: %w", dialect, err)
	}
	s, err := sqlstore.New(db, dialect)
	if err == nil {
		err = s.Migrate(ctx)
	}
	for _, c := range cfg.MintClients() {
		if err == nil {
			err = s.UpsertClient(ctx, c)
		}
	}
	for _, u := range cfg.MintUsers() {
		if err == nil {
			err = s.UpsertUser(ctx, u)
		}
	}
	if err != nil {
		db.Close()
		// The driver's errors may quote the DSN: name the engine only.
		return nil, nil, fmt.Errorf("-store %s: %w", dialect, redactErr(err, dsn))
	}
	ctx, cancel := context.WithCancel(ctx)
	go every(ctx, pruneEvery, func(now time.Time) { _, _ = s.Prune(ctx, now) })
	return s, func() error { cancel(); return db.Close() }, nil
}

// redactErr drops the DSN from an error message if a driver quoted it.
func redactErr(err error, dsn string) error {
	if msg := err.Error(); strings.Contains(msg, dsn) {
		return errors.New(strings.ReplaceAll(msg, dsn, redactDSN(dsn)))
	}
	return err
}

// openKeys returns the signing keys. A store that keeps keys (the SQL
// stores) gives every server sharing the database the same active EdDSA
// key, created once by whichever starts first, so that they verify each
// other's tokens and a restart keeps issued tokens valid; the set is
// synced with the database every key_sync_interval until ctx is done, so
// that a key rotated in the database is published by every server, and
// signs once key_publish_ahead has passed. Otherwise a fresh key is
// generated, lost on exit.
func openKeys(ctx context.Context, store mint.Store, cfg *Config, log *slog.Logger) (*mint.KeySet, error) {
	if ks, ok := store.(mint.KeyStore); ok {
		policy := cfg.keyPolicy()
		keys, err := mint.LoadKeySet(ctx, ks, mint.EdDSA, policy)
		if err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		go every(ctx, cfg.keySyncInterval(), func(time.Time) {
			if err := mint.SyncKeySet(ctx, ks, keys, policy); err != nil && ctx.Err() == nil {
				log.Error("syncing the signing keys", "error", err)
			}
		})
		return keys, nil
	}
	key, err := mint.GenerateKey(mint.EdDSA)
	if err != nil {
		return nil, err
	}
	return mint.NewKeySet(key)
}

// every calls f with the current time every period until ctx is done.
func every(ctx context.Context, period time.Duration, f func(now time.Time)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			f(now)
		}
	}
}

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|[^\s&]+)`)

// redactDSN hides the password of a store spec, for errors and logs:
// URL userinfo (postgres://u:secret@host) and key=value (password=secret).
func redactDSN(spec string) string {
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		spec = u.Redacted()
	}
	if u, err := url.Parse(spec); err == nil && u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		spec = u.String()
	}
	return dsnPassword.ReplaceAllString(spec, "${1}xxxxx")
}
