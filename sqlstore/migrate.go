package sqlstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock taken while migrating:
// the first 8 bytes of "mint.sql" read as a big-endian integer.
const migrationLockKey int64 = 0x6d696e742e73716c

type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. A file is
// named NNNN_name.sql.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("sqlstore: migration %q is not named NNNN_name.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// statements splits a migration into statements: each ends with a ';' at
// the end of a line. Comment-only lines are dropped.
func statements(script string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.SplitSeq(script, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, rest)
	}
	return out
}

// Migrate creates or upgrades mint's tables. It is idempotent, and safe
// when several replicas call it at once: on PostgreSQL the whole migration
// runs in one transaction holding an advisory lock
// (pg_advisory_xact_lock), on SQLite in one write transaction (open the
// database with _txlock=immediate when several processes share the file).
// Each applied migration is recorded in mint_schema_migrations.
//
// On SQLite, connections opening a new file at the same moment can be
// refused with SQLITE_BUSY before the busy timeout applies (switching the
// file to WAL needs it alone); Migrate then retries the whole transaction,
// a few times with a growing pause, as long as ctx allows.
func (s *Store) Migrate(ctx context.Context) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	pause := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err = s.migrate(ctx, all)
		if err == nil || s.dialect != SQLite || !sqliteBusy(err) || attempt == migrateAttempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// migrateAttempts bounds the SQLite retries of Migrate: about 5 s of
// pauses in all.
const migrateAttempts = 10

// sqliteBusy reports whether err is SQLite's SQLITE_BUSY. sqlstore imports
// no driver, so it reads the message every driver gives.
func sqliteBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

// migrate is one attempt of Migrate: one transaction.
func (s *Store) migrate(ctx context.Context, all []migration) error {
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("sqlstore: migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS mint_schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	applied := map[int64]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT version FROM mint_schema_migrations")
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		for _, stmt := range statements(m.sql) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx,
			"INSERT INTO mint_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.version, m.name, nanos(s.now())); err != nil {
			return fmt.Errorf("sqlstore: migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// Migrated reports whether Migrate has applied every migration this
// version of the package holds, changing nothing, so that a tool can
// refuse to work on a database that was never prepared (cmd/mint does,
// for every command but migrate).
func (s *Store) Migrated(ctx context.Context) (bool, error) {
	all, err := migrations()
	if err != nil {
		return false, err
	}
	exists := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'mint_schema_migrations'"
	if s.dialect == Postgres {
		exists = "SELECT COUNT(*) FROM (SELECT to_regclass('mint_schema_migrations') AS t) r WHERE t IS NOT NULL"
	}
	var n int
	if err := s.db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: migrated: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM mint_schema_migrations WHERE version <= $1",
		all[len(all)-1].version).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: migrated: %w", err)
	}
	return n == len(all), nil
}
