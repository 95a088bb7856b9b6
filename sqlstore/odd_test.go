package sqlstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// Lookups of values no TEXT column can hold (NUL, invalid UTF-8) are
// "not found", not a database error.
func TestOddInputIsNotFound(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			for _, odd := range []string{"a\x00b", "\xff\xfe", "caf\xc3"} {
				_, err := s.Client(ctx, odd)
				assert.ErrorIs(t, err, mint.ErrNotFound, "client %q", odd)
				_, err = s.User(ctx, odd)
				assert.ErrorIs(t, err, mint.ErrNotFound, "user %q", odd)
				_, err = s.UserByUsername(ctx, odd)
				assert.ErrorIs(t, err, mint.ErrNotFound, "username %q", odd)
				_, err = s.UserByEmail(ctx, odd)
				assert.ErrorIs(t, err, mint.ErrNotFound, "email %q", odd)
				_, err = s.RefreshToken(ctx, odd)
				assert.ErrorIs(t, err, mint.ErrNotFound, "refresh token %q", odd)
				denied, err := s.AccessTokenDenied(ctx, odd, odd, odd, time.Now())
				require.NoError(t, err, "jti %q", odd)
				assert.False(t, denied)
			}
		})
	}
}

// Odd bytes from a client reach the store through the token endpoint;
// they must be a client error, never a 500 from the database.
func TestOddInputOnTheWireIsNotAServerError(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			secret, _ := seed(t, s)
			srv := httptest.NewServer(mint.TokenHandler{Issuer: newIssuer(t, s), Logger: slog.New(slog.DiscardHandler)})
			defer srv.Close()
			for name, form := range map[string]url.Values{
				"NUL in client_id": {"grant_type": {"client_credentials"}, "client_id": {"a\x00b"}, "client_secret": {"x"}},
				"bad UTF-8 client": {"grant_type": {"client_credentials"}, "client_id": {"\xff"}, "client_secret": {"x"}},
				"NUL in username": {"grant_type": {"password"}, "client_id": {"app"}, "client_secret": {secret},
					"username": {"jo\x00hn"}, "password": {"x"}},
				"NUL in e-mail": {"grant_type": {"password"}, "client_id": {"app"}, "client_secret": {secret},
					"email_address": {"jo\x00hn@example.com"}, "password": {"x"}},
			} {
				resp, err := http.PostForm(srv.URL, form)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Less(t, resp.StatusCode, 500, name)
				assert.GreaterOrEqual(t, resp.StatusCode, 400, name)
			}
		})
	}
}

// A secrets column that is not what the store wrote is an error that
// quotes no part of it: the column holds hashes.
func TestCorruptSecretsColumnLeaksNoHash(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			require.NoError(t, s.UpsertClient(ctx, &mint.Client{ID: "c", SecretHash: "h"}))
			for name, column := range map[string]string{
				"truncated":  `[{"hash":"$sha256$HASHxyz`,
				"not JSON":   `HASHxyz`,
				"wrong type": `[{"hash":"$sha256$HASHxyz","expires_at":"HASHxyz"}]`,
			} {
				_, err := s.DB().ExecContext(ctx, "UPDATE mint_clients SET secrets = $1 WHERE id = 'c'", column)
				require.NoError(t, err)
				_, err = s.Client(ctx, "c")
				require.Error(t, err, name)
				assert.NotContains(t, err.Error(), "HASHxyz", name)
				assert.NotContains(t, err.Error(), "H", "%s: not even the one character a JSON error quotes", name)
			}
		})
	}
}
