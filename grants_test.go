package mint_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/mintauth/mint"
)

func TestPasswordGrant(t *testing.T) {
	f := newFixture(t)
	for name, req := range map[string]*mint.TokenRequest{
		"by username": password("app"),
		"by email": {GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret,
			EmailAddress: "john_doe@domain.com", Password: johnPass},
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := f.token(t, req)
			require.NoError(t, err)
			require.NotNil(t, tok.User)
			assert.Equal(t, "7", tok.User.ID)
			assert.Len(t, tok.RefreshToken, 43, "256-bit refresh token, base64url")
			c := f.parse(t, tok.AccessToken)
			assert.Equal(t, "7", c["sub"], "sub is the user for user grants")
			assert.Equal(t, "app", c["client_id"])
			assert.Equal(t, []any{float64(3)}, c["roles"], "the user's roles")
			assert.NotContains(t, c, "act", "a password login is not an impersonation")
		})
	}
}

func TestRefreshTokenOnlyWhenAllowedAndDeliverable(t *testing.T) {
	f := newFixture(t)
	tok, err := f.token(t, password("no-refresh"))
	require.NoError(t, err)
	assert.Empty(t, tok.RefreshToken, "client not allowed refresh_token")

	req := password("app")
	req.NoRefreshToken = true
	tok, err = f.token(t, req)
	require.NoError(t, err)
	assert.Empty(t, tok.RefreshToken, "the dialect cannot deliver one, so none is minted")
}

func TestSilentPassword(t *testing.T) {
	f := newFixture(t)
	tests := []struct{ name, username, sub string }{
		{"by username", "john_doe", "7"},
		{"an e-mail that is a username", "sanvi@828fligth.com", "8"},
		{"an e-mail that is not a username", "john_doe@domain.com", "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantSilentPassword, ClientID: "app",
				ClientSecret: appSecret, Username: tt.username, NoRefreshToken: true})
			require.NoError(t, err)
			c := f.parse(t, tok.AccessToken)
			assert.Equal(t, tt.sub, c["sub"])
			assert.Equal(t, map[string]any{"sub": "app"}, c["act"], "marked as minted by the client, without the password")
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	f := newFixture(t)
	first, err := f.token(t, password("app"))
	require.NoError(t, err)
	f.clock.advance(time.Minute)

	second, err := f.token(t, refresh(first.RefreshToken, nil))
	require.NoError(t, err)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken, "rotated on every use")
	assert.Equal(t, []string{"read", "write"}, second.Scope)
	assert.Equal(t, "7", f.parse(t, second.AccessToken)["sub"])

	third, err := f.token(t, refresh(second.RefreshToken, nil))
	require.NoError(t, err)

	// Replaying the first token revokes the whole family, the live one too.
	_, err = f.token(t, refresh(first.RefreshToken, nil))
	require.ErrorIs(t, err, mint.KindRevokedRefreshToken)
	_, err = f.token(t, refresh(third.RefreshToken, nil))
	require.ErrorIs(t, err, mint.KindRevokedRefreshToken, "family revoked after a replay")

	// Another family of the same user is untouched.
	other, err := f.token(t, password("app"))
	require.NoError(t, err)
	_, err = f.token(t, refresh(other.RefreshToken, nil))
	require.NoError(t, err)
}

func refresh(token string, scope []string) *mint.TokenRequest {
	return &mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app", ClientSecret: appSecret,
		RefreshToken: token, Scope: scope}
}

func TestRefreshStoresOnlyADigest(t *testing.T) {
	f := newFixture(t)
	tok, err := f.token(t, password("app"))
	require.NoError(t, err)
	digest, ok := digestRefreshToken(tok.RefreshToken)
	require.True(t, ok)
	assert.NotEqual(t, tok.RefreshToken, digest)
	rec, err := f.store.RefreshToken(context.Background(), digest)
	require.NoError(t, err)
	assert.Equal(t, "app", rec.ClientID)
	assert.Equal(t, "7", rec.UserID)
	assert.Equal(t, rec.Digest, rec.Family, "first of its family")
	assert.Equal(t, f.clock.now().Add(30*24*time.Hour), rec.ExpiresAt, "30 days by default")
}

func TestRefreshScope(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		scope []string
		want  []string
		err   error
	}{
		{"same scope by default", nil, []string{"read", "write"}, nil},
		{"narrowed", []string{"read"}, []string{"read"}, nil},
		{"widened", []string{"read", "admin"}, nil, mint.KindInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := f.token(t, password("app"))
			require.NoError(t, err)
			tok, err := f.token(t, refresh(first.RefreshToken, tt.scope))
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				// A refused refresh spends nothing.
				_, err = f.token(t, refresh(first.RefreshToken, nil))
				require.NoError(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, tok.Scope)
			// The refresh token keeps the original scope (RFC 6749 section 6).
			again, err := f.token(t, refresh(tok.RefreshToken, nil))
			require.NoError(t, err)
			assert.Equal(t, []string{"read", "write"}, again.Scope)
		})
	}
}

func TestRefreshBoundToClientAndExpiry(t *testing.T) {
	f := newFixture(t, mint.WithRefreshTokenTTL(time.Hour))
	first, err := f.token(t, password("app"))
	require.NoError(t, err)

	stolen := refresh(first.RefreshToken, nil)
	stolen.ClientID = "other"
	_, err = f.token(t, stolen)
	require.ErrorIs(t, err, mint.KindInvalidRefreshToken, "another client presenting it gets invalid_grant")
	_, err = f.token(t, refresh(first.RefreshToken, nil))
	require.NoError(t, err, "and the owner can still use it")

	second, err := f.token(t, password("app"))
	require.NoError(t, err)
	f.clock.advance(time.Hour)
	_, err = f.token(t, refresh(second.RefreshToken, nil))
	require.ErrorIs(t, err, mint.KindExpiredRefreshToken)
}

func TestRefreshOfSilentTokenKeepsActor(t *testing.T) {
	f := newFixture(t)
	tok, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantSilentPassword, ClientID: "app",
		ClientSecret: appSecret, Username: "john_doe"})
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)
	next, err := f.token(t, refresh(tok.RefreshToken, nil))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"sub": "app"}, f.parse(t, next.AccessToken)["act"])
}

func TestRefreshGracePeriod(t *testing.T) {
	tests := []struct {
		name    string
		grace   time.Duration
		wait    time.Duration
		wantErr error
	}{
		{"off by default: replay revokes", 0, 0, mint.KindRevokedRefreshToken},
		{"within grace: a new pair", 10 * time.Second, 5 * time.Second, nil},
		{"after grace: replay revokes", 10 * time.Second, 11 * time.Second, mint.KindRevokedRefreshToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, mint.WithRefreshGracePeriod(tt.grace))
			first, err := f.token(t, password("app"))
			require.NoError(t, err)
			lost, err := f.token(t, refresh(first.RefreshToken, nil)) // the response is lost
			require.NoError(t, err)
			f.clock.advance(tt.wait)
			retry, err := f.token(t, refresh(first.RefreshToken, nil))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				_, err = f.token(t, refresh(lost.RefreshToken, nil))
				require.ErrorIs(t, err, mint.KindRevokedRefreshToken, "the whole family is revoked")
				return
			}
			require.NoError(t, err)
			_, err = f.token(t, refresh(lost.RefreshToken, nil))
			require.ErrorIs(t, err, mint.KindRevokedRefreshToken, "the token never received is spent, its use is a replay")
			_, err = f.token(t, refresh(retry.RefreshToken, nil))
			require.ErrorIs(t, err, mint.KindRevokedRefreshToken, "and that replay revoked the family")
		})
	}

	t.Run("only the immediately previous token", func(t *testing.T) {
		f := newFixture(t, mint.WithRefreshGracePeriod(10*time.Second))
		first, err := f.token(t, password("app"))
		require.NoError(t, err)
		second, err := f.token(t, refresh(first.RefreshToken, nil))
		require.NoError(t, err)
		_, err = f.token(t, refresh(second.RefreshToken, nil))
		require.NoError(t, err)
		_, err = f.token(t, refresh(first.RefreshToken, nil))
		require.ErrorIs(t, err, mint.KindRevokedRefreshToken, "two generations back is a replay even within grace")
	})
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	f := newFixture(t)
	first, err := f.token(t, password("app"))
	require.NoError(t, err)
	const n = 50
	var wins, revoked atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.issuer.Token(context.Background(), refresh(first.RefreshToken, nil))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, mint.KindRevokedRefreshToken):
				revoked.Add(1)
			default:
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, wins.Load())
	assert.EqualValues(t, n-1, revoked.Load())
}

func TestRehashOnLogin(t *testing.T) {
	f := newFixture(t)
	old, err := bcrypt.GenerateFromPassword([]byte("legacy-pass"), bcrypt.MinCost)
	require.NoError(t, err)
	f.store.PutUser(&mint.User{ID: "9", Username: "legacy", PasswordHash: string(old)})
	req := password("app")
	req.Username, req.Password = "legacy", "legacy-pass"
	_, err = f.token(t, req)
	require.NoError(t, err, "bcrypt hashes keep verifying")
	u, err := f.store.User(context.Background(), "9")
	require.NoError(t, err)
	assert.Contains(t, u.PasswordHash, "$argon2id$", "upgraded to argon2id after a successful login")
	_, err = f.token(t, req)
	require.NoError(t, err, "and the new hash verifies")

	// A wrong password never triggers an upgrade.
	f.store.PutUser(&mint.User{ID: "9", Username: "legacy", PasswordHash: string(old)})
	req.Password = "wrong"
	_, err = f.token(t, req)
	require.ErrorIs(t, err, mint.KindPasswordMismatch)
	u, err = f.store.User(context.Background(), "9")
	require.NoError(t, err)
	assert.Equal(t, string(old), u.PasswordHash)
}

// passwordRehashOnly and secretRehashOnly are host stores with one half
// of mint.Rehasher each.
type passwordRehashOnly struct {
	mint.Store
	m *mint.MemoryStore
}

func (s passwordRehashOnly) UpdatePasswordHash(ctx context.Context, id, old, hash string) error {
	return s.m.UpdatePasswordHash(ctx, id, old, hash)
}

type secretRehashOnly struct {
	mint.Store
	m *mint.MemoryStore
}

func (s secretRehashOnly) UpdateSecretHash(ctx context.Context, id, old, hash string) error {
	return s.m.UpdateSecretHash(ctx, id, old, hash)
}

// A store that implements one Rehasher method gets that half's upgrades.
func TestRehashWithHalfARehasher(t *testing.T) {
	outdated := func(plain string) string {
		h, err := mint.Argon2id{Memory: 32, Time: 1, Threads: 1}.Hash(context.Background(), plain)
		require.NoError(t, err)
		return h
	}
	secretHash, passwordHash := outdated("s3cret"), outdated("pw")
	for _, tt := range []struct {
		name                   string
		store                  func(*mint.MemoryStore) mint.Store
		secretNew, passwordNew bool
	}{
		{"UpdatePasswordHash alone", func(m *mint.MemoryStore) mint.Store { return passwordRehashOnly{m, m} }, false, true},
		{"UpdateSecretHash alone", func(m *mint.MemoryStore) mint.Store { return secretRehashOnly{m, m} }, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := mint.NewMemoryStore()
			m.PutClient(&mint.Client{ID: "c", SecretHash: secretHash, Grants: []string{mint.GrantPassword}})
			m.PutUser(&mint.User{ID: "u", Username: "u", PasswordHash: passwordHash})
			key, err := mint.GenerateKey(mint.HS256)
			require.NoError(t, err)
			keys, err := mint.NewKeySet(key)
			require.NoError(t, err)
			iss, err := mint.New(tt.store(m), keys, mint.WithIssuer(issuerURL))
			require.NoError(t, err)
			_, err = iss.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantPassword,
				ClientID: "c", ClientSecret: "s3cret", Username: "u", Password: "pw"})
			require.NoError(t, err)
			c, err := m.Client(context.Background(), "c")
			require.NoError(t, err)
			u, err := m.User(context.Background(), "u")
			require.NoError(t, err)
			assert.Equal(t, tt.secretNew, c.SecretHash != secretHash, "secret upgraded")
			assert.Equal(t, tt.passwordNew, u.PasswordHash != passwordHash, "password upgraded")
		})
	}
}

func TestEqualCost(t *testing.T) {
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithHasher(h))
	cost := func(r *mint.TokenRequest) int32 {
		h.verifies.Store(0)
		_, err := f.token(t, r)
		require.Error(t, err)
		return h.verifies.Load()
	}
	for _, grant := range []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantSilentPassword, mint.GrantRefreshToken} {
		unknown := cost(&mint.TokenRequest{GrantType: grant, ClientID: "ghost", ClientSecret: "x"})
		wrong := cost(&mint.TokenRequest{GrantType: grant, ClientID: "app", ClientSecret: "x"})
		assert.Equal(t, wrong, unknown, "%s: unknown client costs what a wrong secret costs", grant)
		assert.EqualValues(t, 1, unknown, grant)
	}
	unknownUser := password("app")
	unknownUser.Username = "jane"
	wrongPass := password("app")
	wrongPass.Password = "nope"
	assert.Equal(t, cost(wrongPass), cost(unknownUser), "unknown user costs what a wrong password costs")
	assert.EqualValues(t, 2, cost(unknownUser), "client secret + password")
}
