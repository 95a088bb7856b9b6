package mint_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/mintauth/mint"
)

// Regression tests from the independent review.

// A request whose dialect cannot deliver a refresh token must not rotate
// one: rotating would spend the client's token and leave in the store a
// successor the client never saw (the design: "no credential the client
// never saw is left in the store"), killing the client's session.
func TestRefreshGrantRefusedWhenNoRefreshTokenCanBeDelivered(t *testing.T) {
	f := newFixture(t)
	first, err := f.token(t, password("app"))
	require.NoError(t, err)
	require.NotEmpty(t, first.RefreshToken)

	tests := []struct {
		name string
		run  func(t *testing.T) (status int, body string)
	}{
		{"engine", func(t *testing.T) (int, string) {
			tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
				ClientSecret: appSecret, RefreshToken: first.RefreshToken, NoRefreshToken: true})
			if err != nil {
				return mint.AsError(err).Kind.Status(), mint.AsError(err).Kind.OAuthError()
			}
			return http.StatusOK, tok.RefreshToken
		}},
		{"OAuth2Dialect{NoRefreshToken: true}", func(t *testing.T) (int, string) {
			srv := newServer(t, mint.TokenHandler{Issuer: f.issuer, Dialect: mint.OAuth2Dialect{NoRefreshToken: true}})
			req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(
				form("grant_type", "refresh_token", "refresh_token", first.RefreshToken)))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", basicAuth("app", appSecret))
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var body map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			assert.NotContains(t, body, "refresh_token", "the dialect promises never to issue one")
			return resp.StatusCode, body["error"].(string)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := tt.run(t)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, "unsupported_grant_type", body)
		})
	}
	// The client's refresh token was never spent: it still rotates.
	tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
		ClientSecret: appSecret, RefreshToken: first.RefreshToken})
	require.NoError(t, err)
	assert.NotEmpty(t, tok.RefreshToken)
}

// A scope is a set (RFC 6749 section 3.3): a scope token requested twice
// is granted once, in the token's scope claim and in the answer.
func TestRequestedScopeIsASet(t *testing.T) {
	tests := []struct {
		name      string
		requested []string
		want      []string
	}{
		{"repeated", []string{"read", "read"}, []string{"read"}},
		{"repeated apart", []string{"read", "write", "read"}, []string{"read", "write"}},
		{"distinct", []string{"write", "read"}, []string{"write", "read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app",
				ClientSecret: appSecret, Scope: tt.requested})
			require.NoError(t, err)
			assert.Equal(t, tt.want, tok.Scope)
			assert.Equal(t, strings.Join(tt.want, " "), f.parse(t, tok.AccessToken)["scope"])

			req := password("app")
			req.Scope = tt.requested
			tok, err = f.token(t, req)
			require.NoError(t, err)
			assert.Equal(t, tt.want, tok.Scope)
			tok, err = f.token(t, &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app",
				ClientSecret: appSecret, RefreshToken: tok.RefreshToken, Scope: tt.requested})
			require.NoError(t, err)
			assert.Equal(t, tt.want, tok.Scope, "refresh")
		})
	}
}

// A user or client stored without a hash (a user only ever reached through
// silent_password, a client registered without a secret) cannot log in
// with one, and trying is the caller's mistake: the same answer as a wrong
// password or secret, never a 500.
func TestMissingStoredHashIsAWrongCredential(t *testing.T) {
	f := newFixture(t)
	f.store.PutClient(&mint.Client{ID: "secretless", Grants: []string{mint.GrantClientCredentials}})
	tests := []struct {
		name string
		req  *mint.TokenRequest
		want mint.Kind
	}{
		{"user without a password", &mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: "app",
			ClientSecret: appSecret, Username: "sanvi@828fligth.com", Password: "guess"}, mint.KindPasswordMismatch},
		{"client without a secret", &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
			ClientID: "secretless", ClientSecret: "guess"}, mint.KindSecretMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.token(t, tt.req)
			require.Error(t, err)
			assert.Equal(t, tt.want, mint.AsError(err).Kind, "%v", err)
		})
	}
}

// changingHasher simulates a host changing a credential while a login with
// the old one is being verified: once plain has verified, it runs change,
// then answers as the wrapped Hasher does.
type changingHasher struct {
	mint.Hasher
	plain  string
	change func()
}

func (h *changingHasher) Verify(ctx context.Context, encoded, plain string) (bool, bool, error) {
	ok, rehash, err := h.Hasher.Verify(ctx, encoded, plain)
	if c := h.change; c != nil && ok && plain == h.plain {
		h.change = nil
		c()
	}
	return ok, rehash, err
}

// Rehash-on-login must not undo a password or secret change made while the
// login with the old one was in flight: the upgraded hash of the old
// credential would bring it back to life (a reset after a compromise would
// be silently reverted).
func TestRehashDoesNotRevertAConcurrentChange(t *testing.T) {
	ctx := context.Background()
	legacy, err := bcrypt.GenerateFromPassword([]byte("old-credential"), bcrypt.MinCost)
	require.NoError(t, err)
	newHash := hash(t, "new-credential")
	tests := []struct {
		name   string
		put    func(f *fixture, hash string)
		req    *mint.TokenRequest
		stored func(f *fixture) string
	}{
		{"password",
			func(f *fixture, h string) { f.store.PutUser(&mint.User{ID: "9", Username: "legacy", PasswordHash: h}) },
			&mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret,
				Username: "legacy", Password: "old-credential"},
			func(f *fixture) string {
				u, err := f.store.User(ctx, "9")
				require.NoError(t, err)
				return u.PasswordHash
			}},
		{"client secret",
			func(f *fixture, h string) {
				f.store.PutClient(&mint.Client{ID: "legacy", SecretHash: h, Grants: []string{mint.GrantClientCredentials}})
			},
			&mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "legacy", ClientSecret: "old-credential"},
			func(f *fixture) string {
				c, err := f.store.Client(ctx, "legacy")
				require.NoError(t, err)
				return c.SecretHash
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &changingHasher{Hasher: fastHasher, plain: "old-credential"}
			f := newFixture(t, mint.WithHasher(h))
			tt.put(f, string(legacy))
			h.change = func() { tt.put(f, newHash) }
			_, err := f.token(t, tt.req)
			require.NoError(t, err, "the old credential was still valid when checked")
			assert.Equal(t, newHash, tt.stored(f), "the change made meanwhile is kept")

			// Without a change in flight, the outdated hash is upgraded.
			tt.put(f, string(legacy))
			_, err = f.token(t, tt.req)
			require.NoError(t, err)
			assert.Contains(t, tt.stored(f), "$argon2id$")
		})
	}
}

// An extension grant that returns neither an Authorization nor an error
// is a host bug: a server error, not a panic in the middle of a request.
func TestExtensionGrantReturningNothingIsAServerError(t *testing.T) {
	f := newFixture(t, mint.WithGrant("urn:example:nothing", mint.GrantFunc(
		func(context.Context, *mint.Issuer, *mint.TokenRequest, *mint.Client) (*mint.Authorization, error) {
			return nil, nil
		})))
	f.store.PutClient(&mint.Client{ID: "ext", SecretHash: hash(t, appSecret), Grants: []string{"urn:example:nothing"}})
	var err error
	require.NotPanics(t, func() {
		_, err = f.token(t, &mint.TokenRequest{GrantType: "urn:example:nothing", ClientID: "ext", ClientSecret: appSecret})
	})
	assert.ErrorIs(t, err, mint.KindServerError)
}

// A host that returns a nil *mint.Error as a non-nil error (the typed-nil
// pitfall) gets a server error, never a token and never a panic: from an
// extension grant, with or without an Authorization, and from a store.
func TestTypedNilErrorIsAServerError(t *testing.T) {
	var typedNil *mint.Error
	grant := func(auth *mint.Authorization) mint.Grant {
		return mint.GrantFunc(func(context.Context, *mint.Issuer, *mint.TokenRequest, *mint.Client) (*mint.Authorization, error) {
			return auth, typedNil
		})
	}
	tests := []struct {
		name string
		opt  mint.Option
	}{
		{"grant with an Authorization", mint.WithGrant("urn:example:typed-nil", grant(&mint.Authorization{}))},
		{"grant without one", mint.WithGrant("urn:example:typed-nil", grant(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opt)
			f.store.PutClient(&mint.Client{ID: "ext", SecretHash: hash(t, appSecret), Grants: []string{"urn:example:typed-nil"}})
			var tok *mint.Token
			var err error
			require.NotPanics(t, func() {
				tok, err = f.token(t, &mint.TokenRequest{GrantType: "urn:example:typed-nil", ClientID: "ext", ClientSecret: appSecret})
			})
			assert.Nil(t, tok)
			require.ErrorIs(t, err, mint.KindServerError)
			assert.NotNil(t, mint.AsError(err), "AsError never returns nil for a non-nil error")
			assert.NotPanics(t, func() { _ = err.Error() })
		})
	}
	t.Run("store", func(t *testing.T) {
		f := newFixture(t)
		iss, err := mint.New(typedNilStore{f.store}, f.keys, mint.WithHasher(fastHasher))
		require.NoError(t, err)
		require.NotPanics(t, func() {
			_, err = iss.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: appSecret})
		})
		require.ErrorIs(t, err, mint.KindServerError)
		assert.NotPanics(t, func() { _ = err.Error() })
	})
	var e *mint.Error
	assert.NotPanics(t, func() { _ = e.Error(); _ = e.Unwrap(); _ = e.Is(mint.KindServerError) }, "a nil *Error's methods do not panic")
}

// typedNilStore answers every client lookup with a nil *mint.Error as
// its error.
type typedNilStore struct{ *mint.MemoryStore }

func (s typedNilStore) Client(context.Context, string) (*mint.Client, error) {
	var e *mint.Error
	return nil, e
}
