package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// postgresEnv names the variable holding the DSN of a PostgreSQL database
// the tests may create schemas in.
const postgresEnv = "MINT_TEST_POSTGRES_DSN"

// binary is the mint binary under test, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mint-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mint")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building mint: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary gave.
type result struct {
	stdout, stderr string
	code           int
}

// lastLine returns the last line of standard output.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	return lines[len(lines)-1]
}

// mintRun runs the binary with args and stdin, with MINT_STORE set to
// storeVar (empty: unset).
func mintRun(t *testing.T, storeVar, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), storeEnv+"="+storeVar)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running mint %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// engine is a database engine the commands are tested on: newSpec
// returns the -store of a fresh, empty database.
type engine struct {
	name    string
	newSpec func(t *testing.T) string
}

var engines = []engine{{"sqlite", sqliteSpec}, {"postgres", postgresSpec}}

// sqliteSpec names a SQLite file that does not exist yet.
func sqliteSpec(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "mint.db")
}

// postgresSpec creates a schema of its own in the test database and
// returns a DSN whose search_path is that schema; without
// MINT_TEST_POSTGRES_DSN the test is skipped.
func postgresSpec(t *testing.T) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s to run them, e.g. "+
			"%s=postgres://postgres@127.0.0.1:5432/mint_test?sslmode=disable go test ./cmd/mint", postgresEnv, postgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "mint_cli_" + hex.EncodeToString(b)
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err, "create a test schema in %s", postgresEnv)
	t.Cleanup(func() {
		if admin, err := sql.Open("pgx", base); err == nil {
			_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// migrated returns the -store of a fresh migrated database.
func migrated(t *testing.T, e engine) string {
	t.Helper()
	spec := e.newSpec(t)
	r := mintRun(t, "", "", "-store", spec, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	return spec
}

// snapshot describes everything the commands change in the store, hashes
// included, so that a failed command can be shown to have changed
// nothing.
func snapshot(t *testing.T, spec string, users ...string) string {
	t.Helper()
	ctx := context.Background()
	s, closeStore, err := openStore(ctx, spec, false)
	require.NoError(t, err)
	defer closeStore()
	var b strings.Builder
	keys, err := s.SigningKeys(ctx)
	require.NoError(t, err)
	for _, k := range keys {
		fmt.Fprintf(&b, "key %d %s %s %v\n", k.Version, k.ID, k.CreatedAt, k.RetiredAt)
	}
	ids, err := s.ClientIDs(ctx)
	require.NoError(t, err)
	for _, id := range ids {
		c, err := s.Client(ctx, id)
		require.NoError(t, err)
		fmt.Fprintf(&b, "client %s %s %s %v %v\n", c.ID, c.SecretHash, c.Name, c.Grants, c.Scopes)
		for _, sec := range c.Secrets {
			fmt.Fprintf(&b, "  secret %s %v\n", sec.Hash, sec.ExpiresAt)
		}
	}
	for _, id := range users {
		u, err := s.User(ctx, id)
		if errors.Is(err, mint.ErrNotFound) {
			fmt.Fprintf(&b, "no user %s\n", id)
			continue
		}
		require.NoError(t, err)
		fmt.Fprintf(&b, "user %s %s %s %s disabled=%v\n", u.ID, u.Username, u.Email, u.PasswordHash, u.Disabled)
	}
	return b.String()
}

func TestUsage(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name+" -h", func(t *testing.T) {
			r := mintRun(t, "", "", append(strings.Fields(c.name), "-h")...)
			assert.Equal(t, 0, r.code, r.stderr)
			assert.Contains(t, r.stdout, "usage: mint "+c.name)
			fs, _, _ := c.flags()
			fs.VisitAll(func(f *flag.Flag) { assert.Contains(t, r.stdout, "-"+f.Name, "every flag is explained") })
		})
	}
	t.Run("help", func(t *testing.T) {
		r := mintRun(t, "", "", "help")
		assert.Equal(t, 0, r.code, r.stderr)
		for _, c := range commands {
			assert.Contains(t, r.stdout, "usage: mint "+c.name)
			fs, _, _ := c.flags()
			fs.VisitAll(func(f *flag.Flag) { assert.Contains(t, r.stdout, "-"+f.Name+" ") })
		}
	})
	t.Run("users -h", func(t *testing.T) {
		r := mintRun(t, "", "", "users", "-h")
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "usage: mint users {add|disable|enable} ...")
	})
	spec := sqliteSpec(t)
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"group without subcommand", []string{"keys"}, "want a subcommand: list, rotate, retire"},
		{"unknown subcommand", []string{"clients", "frob"}, "want a subcommand"},
		{"unknown flag", []string{"keys", "list", "-nope", "-store", spec}, "flag provided but not defined: -nope"},
		{"unknown global flag", []string{"-nope", "migrate"}, "flag provided but not defined: -nope"},
		{"missing argument", []string{"keys", "retire", "-store", spec}, "want 1 argument(s) KID, got 0"},
		{"extra argument", []string{"keys", "list", "x", "-store", spec}, "want 0 argument(s)"},
		{"no store", []string{"keys", "list"}, "no store: give -store"},
		{"bad alg", []string{"keys", "rotate", "-alg", "XX", "-store", spec}, "want one of EdDSA, ES256, RS256, PS256"},
		{"symmetric alg", []string{"keys", "rotate", "-alg", "HS256", "-store", spec}, "a key the servers can publish"},
		{"revoke neither", []string{"revoke", "-store", spec}, "exactly one of -user ID and -client ID"},
		{"revoke both", []string{"revoke", "-user", "u", "-client", "c", "-store", spec}, "exactly one"},
		{"users add without username", []string{"users", "add", "7", "-store", spec}, "-username is required"},
		{"users disable without id", []string{"users", "disable", "-store", spec}, "want 1 argument(s) ID, got 0"},
		{"users enable with two ids", []string{"users", "enable", "7", "8", "-store", spec}, "want 1 argument(s) ID, got 2"},
		{"users disable with a flag", []string{"users", "disable", "7", "-force", "-store", spec}, "flag provided but not defined: -force"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasSuffix(tc.name, "alg") || strings.HasPrefix(tc.name, "revoke") || strings.HasPrefix(tc.name, "users") {
				require.Equal(t, 0, mintRun(t, "", "", "-store", spec, "migrate").code)
			}
			r := mintRun(t, "", "", tc.args...)
			assert.Equal(t, 2, r.code, "a usage error exits 2: %s", r.stderr)
			assert.Contains(t, r.stderr, tc.stderr)
		})
	}
}

// touch creates an empty file.
func touch(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return f.Close()
}
