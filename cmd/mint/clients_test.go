package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// storedClient reads a client straight from the store.
func storedClient(t *testing.T, spec, id string) *mint.Client {
	t.Helper()
	s, closeStore, err := openStore(context.Background(), spec, false)
	require.NoError(t, err)
	defer closeStore()
	c, err := s.Client(context.Background(), id)
	require.NoError(t, err)
	return c
}

func TestClients(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			spec := migrated(t, e)
			r := mintRun(t, spec, "", "clients", "add", "svc", "-grants", "client_credentials,refresh_token", "-scopes", "read,write", "-name", "Billing")
			require.Equal(t, 0, r.code, r.stderr)
			secret := r.lastLine()
			assert.Len(t, secret, 43, "256 bits, base64url")
			assert.Equal(t, 1, strings.Count(r.stdout, secret), "printed once")
			c := storedClient(t, spec, "svc")
			assert.Equal(t, mint.HashGeneratedSecret(secret), c.SecretHash, "only the digest is stored")
			assert.Equal(t, []string{"client_credentials", "refresh_token"}, c.Grants)
			assert.Equal(t, []string{"read", "write"}, c.Scopes)
			assert.Equal(t, "Billing", c.Name)

			before := snapshot(t, spec)
			r = mintRun(t, spec, "", "clients", "add", "svc")
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, `client "svc" already exists`)
			assert.Equal(t, before, snapshot(t, spec), "an existing client is kept")

			r = mintRun(t, spec, "", "clients", "rotate-secret", "svc", "-keep-old", "1h")
			require.Equal(t, 0, r.code, r.stderr)
			next := r.lastLine()
			assert.NotEqual(t, secret, next)
			c = storedClient(t, spec, "svc")
			assert.Equal(t, mint.HashGeneratedSecret(next), c.SecretHash)
			require.Len(t, c.Secrets, 1, "the old secret is kept")
			assert.Equal(t, mint.HashGeneratedSecret(secret), c.Secrets[0].Hash)
			assert.WithinDuration(t, time.Now().Add(time.Hour), c.Secrets[0].ExpiresAt, time.Minute, "until -keep-old ends")

			r = mintRun(t, spec, "", "clients", "rotate-secret", "svc", "-keep-old", "0s")
			require.Equal(t, 0, r.code, r.stderr)
			c = storedClient(t, spec, "svc")
			require.Len(t, c.Secrets, 2, "both earlier secrets are kept, to expire")
			for _, sec := range c.Secrets {
				assert.False(t, sec.ExpiresAt.After(time.Now()), "with -keep-old 0 they stop at once")
			}
			r = mintRun(t, spec, "", "clients", "rotate-secret", "svc", "-keep-old", "1h")
			require.Equal(t, 0, r.code, r.stderr)
			c = storedClient(t, spec, "svc")
			require.Len(t, c.Secrets, 1, "expired secrets are dropped")
			assert.NotEqual(t, mint.HashGeneratedSecret(secret), c.Secrets[0].Hash)

			require.Equal(t, 0, mintRun(t, spec, "", "clients", "add", "app").code)
			r = mintRun(t, spec, "", "clients", "list")
			require.Equal(t, 0, r.code, r.stderr)
			assert.Regexp(t, `(?m)^app\s+-\s+-\s+-\s+1$`, r.stdout)
			assert.Regexp(t, `(?m)^svc\s+Billing\s+client_credentials,refresh_token\s+read,write\s+2$`, r.stdout, "the new secret and the one kept for an hour")
			assert.NotContains(t, r.stdout, "$sha256$", "no digest listed")

			before = snapshot(t, spec)
			for _, args := range [][]string{{"clients", "remove", "nope"}, {"clients", "rotate-secret", "nope"}} {
				r = mintRun(t, spec, "", args...)
				assert.Equal(t, 1, r.code, args)
				assert.Contains(t, r.stderr, `no client "nope"`, args)
				assert.Equal(t, before, snapshot(t, spec), "%v: nothing changed", args)
			}
			r = mintRun(t, spec, "", "clients", "remove", "svc")
			require.Equal(t, 0, r.code, r.stderr)
			r = mintRun(t, spec, "", "clients", "list")
			assert.NotContains(t, r.stdout, "svc")
			assert.Contains(t, r.stdout, "app")
		})
	}
}
