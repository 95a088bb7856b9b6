package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoreSpec(t *testing.T) {
	t.Run("sqlite file missing", func(t *testing.T) {
		spec := sqliteSpec(t)
		r := mintRun(t, "", "", "keys", "list", "-store", spec)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "create it with mint migrate")
		assert.NoFileExists(t, strings.TrimPrefix(spec, "sqlite:"), "nothing is created but by migrate")
	})
	for _, tc := range []struct{ name, spec, stderr string }{
		{"unsupported", "mysql://x", "unsupported: want sqlite:PATH or a postgres:// DSN"},
		{"empty sqlite path", "sqlite:", "empty path"},
		{"malformed DSN", "postgres://u:hunter2@[::1/x", "malformed DSN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mintRun(t, "", "", "keys", "list", "-store", tc.spec)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tc.stderr)
			assert.NotContains(t, r.stderr, "hunter2", "no password in messages")
		})
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			spec := e.newSpec(t)
			if e.name == "sqlite" {
				require.NoError(t, touch(strings.TrimPrefix(spec, "sqlite:")))
			}
			r := mintRun(t, "", "", "keys", "rotate", "-store", spec)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, "not migrated: run mint migrate first")

			r = mintRun(t, "", "", "migrate", "-store", spec)
			require.Equal(t, 0, r.code, r.stderr)
			r = mintRun(t, "", "", "-store", spec, "migrate")
			require.Equal(t, 0, r.code, "migrate again: %s", r.stderr)
			for name, run := range map[string]func() result{
				"before":     func() result { return mintRun(t, "", "", "-store", spec, "keys", "list") },
				"after":      func() result { return mintRun(t, "", "", "keys", "list", "-store", spec) },
				"MINT_STORE": func() result { return mintRun(t, spec, "", "keys", "list") },
				"after wins": func() result { return mintRun(t, "mysql://x", "", "-store", "sqlite:", "keys", "list", "-store", spec) },
			} {
				r := run()
				assert.Equal(t, 0, r.code, "%s: %s", name, r.stderr)
				assert.Contains(t, r.stdout, "VERSION", name)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			spec := migrated(t, e)
			r := mintRun(t, spec, "", "keys", "rotate")
			require.Equal(t, 0, r.code, r.stderr)
			first := r.lastLine()
			r = mintRun(t, spec, "", "keys", "list")
			require.Equal(t, 0, r.code, r.stderr)
			assert.Regexp(t, `(?m)^1\s+`+first+`\s+EdDSA\s+\S+\s+\S+\s+-$`, r.stdout, "the kid printed is the stored key's")

			before := snapshot(t, spec)
			for _, tc := range []struct{ name, kid, stderr string }{
				{"the only key", first, "no other key can sign"},
				{"an unknown kid", "nope", `no key has kid "nope"`},
			} {
				r = mintRun(t, spec, "", "keys", "retire", tc.kid)
				assert.Equal(t, 1, r.code, tc.name)
				assert.Contains(t, r.stderr, tc.stderr, tc.name)
				assert.Equal(t, before, snapshot(t, spec), "%s: nothing changed", tc.name)
			}

			r = mintRun(t, spec, "", "keys", "rotate", "-alg", "ES256")
			require.Equal(t, 0, r.code, r.stderr)
			second := r.lastLine()
			assert.NotEqual(t, first, second)
			r = mintRun(t, spec, "", "keys", "retire", first)
			assert.Equal(t, 1, r.code, "the new key is not yet published for the publish-ahead time")
			assert.Contains(t, r.stderr, "no other key can sign")

			r = mintRun(t, spec, "", "keys", "retire", first, "-publish-ahead", "0s")
			require.Equal(t, 0, r.code, r.stderr)
			r = mintRun(t, spec, "", "keys", "list")
			require.Equal(t, 0, r.code, r.stderr)
			assert.Regexp(t, `(?m)^2\s+`+second+`\s+ES256\s+\S+\s+\S+\s+-$`, r.stdout)
			assert.Regexp(t, `(?m)^1\s+`+first+`\s+EdDSA\s+\S+\s+\S+\s+\d{4}-\S+$`, r.stdout, "retired, with its time")
		})
	}
}
