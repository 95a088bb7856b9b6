package mint_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// nilGrant is a Grant whose nil pointer cannot authorize anything.
type nilGrant struct{}

func (*nilGrant) Authorize(context.Context, *mint.Issuer, *mint.TokenRequest, *mint.Client) (*mint.Authorization, error) {
	return nil, nil
}

// Mistakes fail at construction, never on the first request.
func TestNewValidatesOptions(t *testing.T) {
	store := mint.NewMemoryStore()
	key, err := mint.GenerateKey(mint.HS256)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(key)
	require.NoError(t, err)
	grant := mint.GrantFunc(func(context.Context, *mint.Issuer, *mint.TokenRequest, *mint.Client) (*mint.Authorization, error) {
		return &mint.Authorization{}, nil
	})
	tests := []struct {
		name string
		opt  mint.Option
	}{
		{"empty issuer", mint.WithIssuer("")},
		{"empty audience", mint.WithAudience()},
		{"tiny access TTL", mint.WithAccessTokenTTL(time.Millisecond)},
		{"tiny refresh TTL", mint.WithRefreshTokenTTL(0)},
		{"negative grace", mint.WithRefreshGracePeriod(-time.Second)},
		{"huge grace", mint.WithRefreshGracePeriod(time.Hour)},
		{"nil clock", mint.WithClock(nil)},
		{"huge leeway", mint.WithLeeway(time.Hour)},
		{"nil hasher", mint.WithHasher(nil)},
		{"nil logger", mint.WithLogger(nil)},
		{"empty unknown-client hash", mint.WithUnknownClientHash("")},
		{"replace built-in grant", mint.WithGrant(mint.GrantPassword, grant)},
		{"replace refresh grant", mint.WithGrant(mint.GrantRefreshToken, grant)},
		{"nameless grant", mint.WithGrant("", grant)},
		{"nil GrantFunc", mint.WithGrant("urn:example:nil", mint.GrantFunc(nil))},
		{"nil pointer Grant", mint.WithGrant("urn:example:nil", (*nilGrant)(nil))},
		{"nil hash concurrency", mint.WithHashConcurrency(0)},
		{"nil limiter", mint.WithLimiter(nil)},
		{"nil audit", mint.WithAudit(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mint.New(store, keys, tt.opt)
			assert.Error(t, err)
		})
	}
	_, err = mint.New(nil, keys)
	assert.Error(t, err, "nil store")
	_, err = mint.New(store, nil)
	assert.Error(t, err, "nil signer")
}

func TestClientCredentials(t *testing.T) {
	f := newFixture(t)
	tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: appSecret})
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, time.Hour, tok.ExpiresIn)
	assert.Empty(t, tok.RefreshToken, "client_credentials never gets a refresh token (RFC 6749 section 4.4.3)")
	assert.Equal(t, []string{"read", "write"}, tok.Scope)
	assert.Nil(t, tok.User)
	assert.Equal(t, "app", tok.Client.ID)
	assert.Equal(t, "Library app", tok.Client.Name)

	c := f.parse(t, tok.AccessToken)
	assert.Equal(t, issuerURL, c["iss"])
	assert.Equal(t, "app", c["sub"], "sub is the client id for client_credentials")
	assert.Equal(t, audienceID, c["aud"])
	assert.Equal(t, "app", c["client_id"])
	assert.Equal(t, "read write", c["scope"])
	assert.Equal(t, tok.ID, c["jti"])
	assert.Equal(t, float64(f.clock.now().Unix()), c["iat"])
	assert.Equal(t, float64(f.clock.now().Add(time.Hour).Unix()), c["exp"])
	assert.Equal(t, []any{float64(1), float64(2)}, c["roles"])
	assert.NotContains(t, c, "act")
}

func TestPerClientTTLAndScope(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		scope     []string
		wantScope []string
		wantKind  mint.Kind
	}{
		{"nothing asked: all of the client's", nil, []string{"read", "write"}, 0},
		{"a subset", []string{"write"}, []string{"write"}, 0},
		{"outside the client's scopes", []string{"read", "admin"}, nil, mint.KindInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "app",
				ClientSecret: appSecret, Scope: tt.scope})
			if tt.wantKind != 0 {
				require.ErrorIs(t, err, &mint.Error{Kind: tt.wantKind})
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantScope, tok.Scope)
		})
	}
	tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "cc-only", ClientSecret: appSecret})
	require.NoError(t, err)
	assert.Equal(t, 604800*time.Second, tok.ExpiresIn, "the client's TTL overrides the issuer's")
	assert.Equal(t, float64(f.clock.now().Unix()+604800), f.parse(t, tok.AccessToken)["exp"])
}

func TestTokenErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		req   mint.TokenRequest
		kind  mint.Kind
		field string
	}{
		{"no grant type", mint.TokenRequest{ClientID: "app", ClientSecret: appSecret}, mint.KindMissingField, "grant_type"},
		{"unknown grant type", mint.TokenRequest{GrantType: "magic", ClientID: "app", ClientSecret: appSecret}, mint.KindUnsupportedGrant, ""},
		{"no client id", mint.TokenRequest{GrantType: "client_credentials", ClientSecret: appSecret}, mint.KindMissingField, "client_id"},
		{"no client secret", mint.TokenRequest{GrantType: "client_credentials", ClientID: "app"}, mint.KindMissingField, "client_secret"},
		{"unknown client", mint.TokenRequest{GrantType: "client_credentials", ClientID: "ghost", ClientSecret: appSecret}, mint.KindClientNotFound, ""},
		{"wrong secret", mint.TokenRequest{GrantType: "client_credentials", ClientID: "app", ClientSecret: "nope"}, mint.KindSecretMismatch, ""},
		{"grant not allowed", mint.TokenRequest{GrantType: "password", ClientID: "cc-only", ClientSecret: appSecret, Username: "john_doe", Password: johnPass}, mint.KindGrantNotAllowed, ""},
		{"password: no username", mint.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: appSecret, Password: johnPass}, mint.KindMissingField, "username"},
		{"password: no password", mint.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: appSecret, Username: "john_doe"}, mint.KindMissingField, "password"},
		{"password: both username and email", mint.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: appSecret, Username: "john_doe", EmailAddress: "john_doe@domain.com", Password: johnPass}, mint.KindMalformedRequest, "username"},
		{"password: unknown user", mint.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: appSecret, Username: "jane", Password: johnPass}, mint.KindUserNotFound, ""},
		{"password: unknown email", mint.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: appSecret, EmailAddress: "jane@domain.com", Password: johnPass}, mint.KindUserNotFound, ""},
		{"password: wrong password", mint.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: appSecret, Username: "john_doe", Password: "guess"}, mint.KindPasswordMismatch, ""},
		{"silent: no username", mint.TokenRequest{GrantType: "silent_password", ClientID: "app", ClientSecret: appSecret}, mint.KindMissingField, "username"},
		{"silent: unknown person", mint.TokenRequest{GrantType: "silent_password", ClientID: "app", ClientSecret: appSecret, Username: "nobody@x.com"}, mint.KindUserNotFound, ""},
		{"silent: not allowed", mint.TokenRequest{GrantType: "silent_password", ClientID: "other", ClientSecret: appSecret, Username: "john_doe"}, mint.KindGrantNotAllowed, ""},
		{"refresh: no token", mint.TokenRequest{GrantType: "refresh_token", ClientID: "app", ClientSecret: appSecret}, mint.KindMissingField, "refresh_token"},
		{"refresh: malformed token", mint.TokenRequest{GrantType: "refresh_token", ClientID: "app", ClientSecret: appSecret, RefreshToken: "short"}, mint.KindInvalidRefreshToken, ""},
		{"refresh: unknown token", mint.TokenRequest{GrantType: "refresh_token", ClientID: "app", ClientSecret: appSecret, RefreshToken: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, mint.KindInvalidRefreshToken, ""},
		{"refresh: not allowed", mint.TokenRequest{GrantType: "refresh_token", ClientID: "no-refresh", ClientSecret: appSecret, RefreshToken: "x"}, mint.KindGrantNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := f.token(t, &tt.req)
			require.Error(t, err)
			assert.Nil(t, tok)
			var me *mint.Error
			require.True(t, errors.As(err, &me))
			assert.Equal(t, tt.kind, me.Kind, me.Error())
			assert.Equal(t, tt.field, me.Field)
			assert.ErrorIs(t, err, &mint.Error{Kind: tt.kind})
		})
	}
}

func TestServerErrorsWrapTheCause(t *testing.T) {
	cause := errors.New("database on fire")
	f := newFixture(t)
	iss, err := mint.New(failingStore{f.store, cause}, f.keys, mint.WithHasher(fastHasher))
	require.NoError(t, err)
	_, err = iss.Token(context.Background(), &mint.TokenRequest{GrantType: "client_credentials", ClientID: "app", ClientSecret: appSecret})
	require.ErrorIs(t, err, mint.KindServerError)
	require.ErrorIs(t, err, cause, "the cause is kept for the host's logs")
	assert.NotContains(t, err.Error(), "fire", "the cause is never in the public message")
}

type failingStore struct {
	*mint.MemoryStore
	err error
}

func (s failingStore) Client(context.Context, string) (*mint.Client, error) { return nil, s.err }

func TestExtensionGrant(t *testing.T) {
	const deviceGrant = "urn:example:params:oauth:grant-type:trusted-device"
	var store *mint.MemoryStore
	grant := mint.GrantFunc(func(ctx context.Context, iss *mint.Issuer, r *mint.TokenRequest, c *mint.Client) (*mint.Authorization, error) {
		id := r.Extra.Get("device_user")
		if id == "" {
			return nil, &mint.Error{Kind: mint.KindMissingField, Field: "device_user"}
		}
		u, err := store.User(ctx, id)
		if err != nil {
			return nil, &mint.Error{Kind: mint.KindUserNotFound}
		}
		return &mint.Authorization{User: u}, nil
	})
	f := newFixture(t, mint.WithGrant(deviceGrant, grant))
	store = f.store
	f.store.PutClient(&mint.Client{ID: "device", SecretHash: hash(t, appSecret),
		Grants: []string{deviceGrant, mint.GrantRefreshToken}, Scopes: []string{"read"}})

	tok, err := f.token(t, &mint.TokenRequest{GrantType: deviceGrant, ClientID: "device", ClientSecret: appSecret,
		Extra: map[string][]string{"device_user": {"7"}}})
	require.NoError(t, err)
	assert.Equal(t, "7", f.parse(t, tok.AccessToken)["sub"])
	assert.NotEmpty(t, tok.RefreshToken, "a user grant with refresh_token allowed gets a refresh token")
	md, err := mint.MetadataHandler(f.issuer, mint.Metadata{TokenEndpoint: issuerURL + "/oauth2/token"})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	md.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/oauth-authorization-server", nil))
	assert.Contains(t, rec.Body.String(), deviceGrant, "the metadata lists the extension grant")

	_, err = f.token(t, &mint.TokenRequest{GrantType: deviceGrant, ClientID: "device", ClientSecret: appSecret})
	assert.ErrorIs(t, err, &mint.Error{Kind: mint.KindMissingField, Field: "device_user"})
	_, err = f.token(t, &mint.TokenRequest{GrantType: deviceGrant, ClientID: "app", ClientSecret: appSecret})
	assert.ErrorIs(t, err, mint.KindGrantNotAllowed, "a client must list the extension grant")
}

func TestRedaction(t *testing.T) {
	c := mint.Client{ID: "app", SecretHash: "$sha256$SECRETHASH"}
	u := mint.User{ID: "7", Username: "john", PasswordHash: "$argon2id$PASSHASH"}
	r := mint.TokenRequest{ClientID: "app", ClientSecret: "CLIENTSECRET", Password: "PASSWORD", RefreshToken: "REFRESHTOKEN"}
	tok := mint.Token{AccessToken: "ACCESSTOKEN", RefreshToken: "REFRESHTOKEN2"}
	for _, s := range []string{
		sprint("%v %+v %#v %s", c, c, c, &c), sprint("%v %+v %#v", u, u, u), sprint("%v %+v %#v", r, r, r),
		sprint("%v %+v %#v", tok, tok, tok), jsonString(t, c), jsonString(t, u),
	} {
		for _, secret := range []string{"SECRETHASH", "PASSHASH", "CLIENTSECRET", "PASSWORD", "REFRESHTOKEN", "ACCESSTOKEN"} {
			assert.NotContains(t, s, secret)
		}
	}
}
