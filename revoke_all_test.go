package mint_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// issued is a token answer from the token endpoint, by who got it.
type issued struct {
	name          string
	access, fresh string // fresh is the refresh token, "" for client_credentials
}

// TestRevokeEverything revokes everything of a user or of a client and
// checks the tokens through the endpoints: introspection answers the old
// ones inactive, their refresh tokens get invalid_grant, a verifier with
// the deny list refuses them, everyone else's tokens live on, and tokens
// issued after the revocation work.
func TestRevokeEverything(t *testing.T) {
	hasher := mint.Argon2id{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	pw, err := hasher.Hash(context.Background(), "pw")
	require.NoError(t, err)
	for _, tc := range []struct {
		name          string
		revoke        func(ctx context.Context, iss *mint.Issuer) error
		event         mint.Event
		revoked, kept []string
	}{{
		name:   "user",
		revoke: func(ctx context.Context, iss *mint.Issuer) error { return iss.RevokeUser(ctx, "u1") },
		event:  mint.Event{Type: mint.EventSubjectRevoked, UserID: "u1", Outcome: "success"},
		// u1 is also a client's id: that client's own token is not the user's.
		revoked: []string{"alice@app", "alice@other"},
		kept:    []string{"bob@app", "app", "u1"},
	}, {
		name:    "client",
		revoke:  func(ctx context.Context, iss *mint.Issuer) error { return iss.RevokeClient(ctx, "app") },
		event:   mint.Event{Type: mint.EventSubjectRevoked, ClientID: "app", Outcome: "success"},
		revoked: []string{"alice@app", "bob@app", "app"},
		kept:    []string{"alice@other", "u1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			var events []mint.Event
			f := newRSFixture(t, mint.WithAudit(func(_ context.Context, e mint.Event) {
				mu.Lock()
				defer mu.Unlock()
				if e.Type == mint.EventSubjectRevoked {
					events = append(events, e)
				}
			}))
			f.store.PutUser(&mint.User{ID: "u2", Username: "bob", PasswordHash: pw})
			secret, hash, err := mint.GenerateSecret()
			require.NoError(t, err)
			f.secrets["u1"] = secret
			f.store.PutClient(&mint.Client{ID: "u1", SecretHash: hash, Grants: []string{mint.GrantClientCredentials}})
			mux := http.NewServeMux()
			mux.Handle("/oauth2/token", mint.TokenHandler{Issuer: f.issuer})
			mux.Handle("/oauth2/introspect", mint.IntrospectionHandler{Issuer: f.issuer})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			verifier, err := verify.New(f.keys, rsIssuer, rsAudience, verify.WithClock(f.clock.Now), verify.WithDenyList(f.store))
			require.NoError(t, err)

			issue := func(name string) issued {
				t.Helper()
				client, form := name, url.Values{"grant_type": {mint.GrantClientCredentials}}
				if user, c, ok := strings.Cut(name, "@"); ok {
					client = c
					form = url.Values{"grant_type": {mint.GrantPassword}, "username": {user}, "password": {"pw"}}
				}
				a := postForm(t, srv.URL+"/oauth2/token", client, f.secrets[client], form)
				require.Equal(t, http.StatusOK, a.status, "%s: %s", name, a.raw)
				tok := issued{name: name, access: a.body["access_token"].(string)}
				tok.fresh, _ = a.body["refresh_token"].(string)
				return tok
			}
			// check asserts that tok is alive or refused everywhere.
			check := func(tok issued, alive bool) {
				t.Helper()
				client := tok.name
				if _, c, ok := strings.Cut(tok.name, "@"); ok {
					client = c
				}
				a := postForm(t, srv.URL+"/oauth2/introspect", "other", f.secrets["other"], url.Values{"token": {tok.access}})
				assert.Equal(t, alive, a.body["active"], "%s: introspection", tok.name)
				_, err := verifier.Verify(ctx, tok.access)
				if alive {
					assert.NoError(t, err, "%s: verifier", tok.name)
				} else {
					assert.ErrorIs(t, err, verify.ErrInvalidToken, "%s: verifier", tok.name)
				}
				if tok.fresh == "" {
					return
				}
				a = postForm(t, srv.URL+"/oauth2/token", client, f.secrets[client],
					url.Values{"grant_type": {mint.GrantRefreshToken}, "refresh_token": {tok.fresh}})
				if alive {
					assert.Equal(t, http.StatusOK, a.status, "%s: refresh: %s", tok.name, a.raw)
				} else {
					assert.Equal(t, http.StatusBadRequest, a.status, "%s: refresh", tok.name)
					assert.Equal(t, "invalid_grant", a.body["error"], "%s: refresh", tok.name)
				}
			}

			var before []issued
			for _, name := range append(tc.revoked, tc.kept...) {
				before = append(before, issue(name))
			}
			require.NoError(t, tc.revoke(ctx, f.issuer))
			for i, tok := range before {
				check(tok, i >= len(tc.revoked))
			}
			mu.Lock()
			tc.event.Time = f.clock.Now()
			assert.Equal(t, []mint.Event{tc.event}, events)
			mu.Unlock()

			// iat has second precision: a token issued in the second of
			// the revocation is refused as well, the next second's works.
			check(issue(tc.revoked[0]), false)
			f.clock.Advance(time.Second)
			for _, name := range tc.revoked {
				check(issue(name), true)
			}
		})
	}
}

func TestRevokeEverythingNeedsSubjectRevoker(t *testing.T) {
	f := newRSFixture(t)
	iss, err := mint.New(storeWithoutDenyList{f.store}, f.keys, mint.WithUnknownClientHash(mint.HashGeneratedSecret("x")))
	require.NoError(t, err)
	ctx := context.Background()
	for name, err := range map[string]error{
		"user without SubjectRevoker":   iss.RevokeUser(ctx, "u1"),
		"client without SubjectRevoker": iss.RevokeClient(ctx, "app"),
		"empty user":                    f.issuer.RevokeUser(ctx, ""),
		"empty client":                  f.issuer.RevokeClient(ctx, ""),
	} {
		assert.Error(t, err, name)
	}
	tok := f.userToken(t, "app")
	in, err := f.issuer.Introspect(ctx, &mint.Client{ID: "app"}, tok.AccessToken, "")
	require.NoError(t, err)
	assert.True(t, in.Active, "an empty id revokes nothing")
}
