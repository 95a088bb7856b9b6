package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for -store postgres://
	_ "modernc.org/sqlite"             // database/sql driver "sqlite" for -store sqlite:PATH

	"github.com/mintauth/mint/sqlstore"
)

// openStore opens the store named by spec, as the reference server does
// (examples/server/store.go):
//
//	sqlite:PATH     a SQLite file
//	postgres://...  a PostgreSQL database (also postgresql://)
//
// Unless create is set (mint migrate), the store must exist and be
// migrated: a SQLite file is never created by another command, and
// nothing is written to an unprepared database. It returns the store and
// a function that closes it.
func openStore(ctx context.Context, spec string, create bool) (*sqlstore.Store, func() error, error) {
	driver, dsn, dialect, err := parseSpec(spec, create)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("-store %s: %w", dialect, err)
	}
	s, err := sqlstore.New(db, dialect)
	if err == nil && !create {
		var ok bool
		if ok, err = s.Migrated(ctx); err == nil && !ok {
			err = errors.New("the store is not migrated: run mint migrate first")
		}
	}
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("-store %s: %w", dialect, redactErr(err, dsn))
	}
	return s, db.Close, nil
}

// parseSpec returns the driver, DSN and dialect of a -store spec.
func parseSpec(spec string, create bool) (driver, dsn string, dialect sqlstore.Dialect, err error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return "", "", 0, errors.New("-store sqlite:PATH: empty path")
		}
		if !create {
			file, _, _ := strings.Cut(path, "?")
			if _, err := os.Stat(file); err != nil {
				return "", "", 0, fmt.Errorf("-store sqlite: %w: create it with mint migrate", err)
			}
		}
		return "sqlite", sqliteDSN(path), sqlstore.SQLite, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		if _, err := url.Parse(spec); err != nil {
			return "", "", 0, errors.New("-store postgres: malformed DSN")
		}
		return "pgx", spec, sqlstore.Postgres, nil
	}
	return "", "", 0, errors.New("-store: unsupported: want sqlite:PATH or a postgres:// DSN")
}

// sqliteDSN is the modernc.org/sqlite DSN for a database file: a busy
// timeout, WAL, and immediate transactions, so that the CLI and running
// servers sharing the file never deadlock. A path that already carries
// parameters is used as is.
func sqliteDSN(path string) string {
	if strings.Contains(path, "?") {
		return "file:" + path
	}
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// redactErr drops the DSN, which may hold a password, from an error
// message that quotes it.
func redactErr(err error, dsn string) error {
	if msg := err.Error(); strings.Contains(msg, dsn) {
		return errors.New(strings.ReplaceAll(msg, dsn, "DSN"))
	}
	return err
}
