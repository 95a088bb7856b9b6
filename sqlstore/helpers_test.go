package sqlstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// postgresEnv names the variable holding the DSN of a PostgreSQL database
// the tests may create schemas in.
const postgresEnv = "MINT_TEST_POSTGRES_DSN"

// engine is one database engine under test. newDSN returns the DSN of a
// fresh, empty database (a temporary SQLite file, or a new PostgreSQL
// schema dropped at the end of the test).
type engine struct {
	name    string
	driver  string
	dialect sqlstore.Dialect
	newDSN  func(t testing.TB) string
}

var engines = []engine{
	{"sqlite", "sqlite", sqlstore.SQLite, sqliteDSN},
	{"postgres", "pgx", sqlstore.Postgres, postgresDSN},
}

// sqliteDSN is the DSN the package documentation recommends.
func sqliteDSN(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "mint.db")
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// postgresDSN creates a schema of its own in the test database and
// returns a DSN whose search_path is that schema, so that tests never
// see each other's tables. Without MINT_TEST_POSTGRES_DSN the test is
// skipped, except under CI=true where that is a failure.
func postgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL tests (.ci/run starts a server and sets it)", postgresEnv)
		}
		t.Skipf("PostgreSQL tests skipped: set %s to run them, e.g. "+
			"%s=postgres://postgres@127.0.0.1:5432/mint_test?sslmode=disable go test ./sqlstore", postgresEnv, postgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "mint_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err, "create a test schema in %s", postgresEnv)
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// openDB opens a pool on dsn, closed at the end of the test.
func openDB(t testing.TB, e engine, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(e.driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// newStore returns a migrated store over a fresh database.
func newStore(t testing.TB, e engine, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	return storeOn(t, e, openDB(t, e, e.newDSN(t)), opts...)
}

// storeOn returns a migrated store over db.
func storeOn(t testing.TB, e engine, db *sql.DB, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, e.dialect, opts...)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	return s
}

// count returns the number of rows of a table.
func count(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n))
	return n
}

// fastHasher keeps argon2id cheap in tests.
var fastHasher = mint.Argon2id{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// driverOf returns the driver registered under name.
func driverOf(t testing.TB, name string) driver.Driver {
	db, err := sql.Open(name, "")
	require.NoError(t, err)
	defer db.Close()
	return db.Driver()
}

// digestRefreshToken is the digest a refresh token is stored under:
// base64url SHA-256 of the token.
func digestRefreshToken(token string) (string, bool) {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:]), len(token) == 43
}

// kidOf returns the kid of a JWT's header.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	require.NoError(t, err)
	var h struct {
		Kid string `json:"kid"`
	}
	require.NoError(t, json.Unmarshal(raw, &h))
	return h.Kid
}
