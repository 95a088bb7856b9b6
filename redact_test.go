package mint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// TestEqualCostEveryGrant counts hash verifications (never time): in
// every grant an unknown client costs what a wrong secret costs, and an
// unknown user what a wrong password costs (RFC 6819 section 4.4.3.6).
func TestEqualCostEveryGrant(t *testing.T) {
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithHasher(h), mint.WithLimiter(mint.NoLimiter()))
	tok, err := f.token(t, password("app"))
	require.NoError(t, err)
	cost := func(r *mint.TokenRequest) (int32, mint.Kind) {
		h.verifies.Store(0)
		_, err := f.token(t, r)
		require.Error(t, err)
		return h.verifies.Load(), mint.AsError(err).Kind
	}
	type pair struct {
		name          string
		a, b          mint.TokenRequest
		kindA, kindB  mint.Kind
		verifications int32
	}
	var tests []pair
	for _, grant := range []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantSilentPassword, mint.GrantRefreshToken} {
		r := mint.TokenRequest{GrantType: grant, Username: "john_doe", Password: johnPass, RefreshToken: tok.RefreshToken, ClientSecret: "guess"}
		unknown, wrong := r, r
		unknown.ClientID, wrong.ClientID = "ghost", "app"
		tests = append(tests, pair{grant + ": unknown client vs wrong secret", unknown, wrong, mint.KindClientNotFound, mint.KindSecretMismatch, 1})
	}
	login := func(user, email, pass string) mint.TokenRequest {
		return mint.TokenRequest{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: user, EmailAddress: email, Password: pass}
	}
	tests = append(tests,
		pair{"password: unknown username vs wrong password", login("jane", "", "guess"), login("john_doe", "", "guess"), mint.KindUserNotFound, mint.KindPasswordMismatch, 2},
		pair{"password: unknown e-mail vs wrong password", login("", "jane@x.com", "guess"), login("", "john_doe@domain.com", "guess"), mint.KindUserNotFound, mint.KindPasswordMismatch, 2},
		pair{"silent_password: unknown vs known user (no password at all)",
			mint.TokenRequest{GrantType: mint.GrantSilentPassword, ClientID: "app", ClientSecret: appSecret, Username: "nobody@x.com"},
			mint.TokenRequest{GrantType: mint.GrantSilentPassword, ClientID: "other", ClientSecret: appSecret, Username: "john_doe"},
			mint.KindUserNotFound, mint.KindGrantNotAllowed, 1},
		pair{"refresh_token: unknown vs other client's token",
			mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "app", ClientSecret: appSecret, RefreshToken: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
			mint.TokenRequest{GrantType: mint.GrantRefreshToken, ClientID: "other", ClientSecret: appSecret, RefreshToken: tok.RefreshToken},
			mint.KindInvalidRefreshToken, mint.KindInvalidRefreshToken, 1},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			costA, kindA := cost(&tt.a)
			costB, kindB := cost(&tt.b)
			assert.Equal(t, tt.kindA, kindA)
			assert.Equal(t, tt.kindB, kindB)
			assert.Equal(t, costB, costA, "same number of hash verifications")
			assert.Equal(t, tt.verifications, costA)
		})
	}
	t.Run("AuthenticateClient: unknown client vs wrong secret", func(t *testing.T) {
		h.verifies.Store(0)
		_, err := f.issuer.AuthenticateClient(context.Background(), "ghost", "guess")
		require.ErrorIs(t, err, mint.KindClientNotFound)
		unknown := h.verifies.Swap(0)
		_, err = f.issuer.AuthenticateClient(context.Background(), "app", "guess")
		require.ErrorIs(t, err, mint.KindSecretMismatch)
		assert.Equal(t, h.verifies.Load(), unknown)
		assert.EqualValues(t, 1, unknown)
	})
}

// The values a leak test looks for: every one is a secret.
const (
	redactSecretHash   = "$sha256$SECRETHASHxyz"
	redactPasswordHash = "$argon2id$PASSHASHxyz"
	redactSecret       = "CLIENTSECRETxyz"
	redactPassword     = "PASSWORDxyz"
	redactRefresh      = "REFRESHTOKENxyz"
	redactAccess       = "ACCESSTOKENxyz"
	redactRefresh2     = "REFRESHTOKEN2xyz"
	redactSecret2Hash  = "$sha256$SECONDHASHxyz"
)

var redactSecrets = []string{"SECRETHASHxyz", "PASSHASHxyz", redactSecret, redactPassword, redactRefresh, redactAccess, redactRefresh2, "SECONDHASHxyz"}

func TestRedactionEverywhere(t *testing.T) {
	sec := mint.Secret{Hash: redactSecret2Hash, ExpiresAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	c := mint.Client{ID: "app", SecretHash: redactSecretHash, Name: "n", Secrets: []mint.Secret{sec}}
	u := mint.User{ID: "7", Username: "john", PasswordHash: redactPasswordHash}
	r := mint.TokenRequest{GrantType: "password", ClientID: "app", ClientSecret: redactSecret, Username: "john",
		Password: redactPassword, RefreshToken: redactRefresh, RequestID: "rid"}
	tok := mint.Token{AccessToken: redactAccess, RefreshToken: redactRefresh2, ID: "jti", Client: &c, User: &u}
	values := map[string]any{
		"Client": c, "*Client": &c, "User": u, "*User": &u, "TokenRequest": r, "*TokenRequest": &r,
		"Token": tok, "*Token": &tok, "Secret": sec, "*Secret": &sec, "[]Secret": c.Secrets,
		"nested": struct {
			C mint.Client
			U *mint.User
			R mint.TokenRequest
			T *mint.Token
		}{c, &u, r, &tok},
		"in slice": []any{c, &u, r, &tok},
		"in map":   map[string]any{"c": c, "r": &r},
	}
	for name, v := range values {
		outputs := map[string]string{}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			outputs["fmt "+verb] = fmt.Sprintf(verb, v)
		}
		if b, err := json.Marshal(v); assert.NoError(t, err, name) {
			outputs["json"] = string(b)
		}
		var jsonLog, textLog bytes.Buffer
		opts := &slog.HandlerOptions{Level: slog.LevelDebug}
		slog.New(slog.NewJSONHandler(&jsonLog, opts)).Debug("m", "v", v)
		slog.New(slog.NewTextHandler(&textLog, opts)).Debug("m", "v", v)
		outputs["slog json"], outputs["slog text"] = jsonLog.String(), textLog.String()
		for how, out := range outputs {
			for _, secret := range redactSecrets {
				assert.NotContains(t, out, secret, "%s via %s", name, how)
			}
		}
	}
	// Redaction must not hide what is needed to debug.
	assert.Contains(t, fmt.Sprint(r), "app")
	assert.Contains(t, fmt.Sprint(tok), "jti")
	assert.Contains(t, fmt.Sprint(sec), "2026-12-01T00:00:00Z", "a secret's expiry is not secret")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("m", "req", r)
	assert.Contains(t, logged.String(), `"client_id":"app"`)
}

// TestErrorsHoldNoSecret runs the failing requests of every grant and
// checks that no error message (nor its %+v form) repeats what was sent.
func TestErrorsHoldNoSecret(t *testing.T) {
	f := newFixture(t)
	reqs := []mint.TokenRequest{
		{GrantType: mint.GrantClientCredentials, ClientID: "app", ClientSecret: redactSecret},
		{GrantType: mint.GrantClientCredentials, ClientID: "ghost", ClientSecret: redactSecret},
		{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: "john_doe", Password: redactPassword},
		{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: "nobody", Password: redactPassword},
		{GrantType: mint.GrantPassword, ClientID: "app", ClientSecret: appSecret, Username: "john_doe", EmailAddress: "x@y", Password: redactPassword},
		{GrantType: mint.GrantRefreshToken, ClientID: "app", ClientSecret: appSecret, RefreshToken: redactRefresh},
		{GrantType: mint.GrantRefreshToken, ClientID: "app", ClientSecret: appSecret, RefreshToken: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{GrantType: "magic", ClientID: "app", ClientSecret: redactSecret, Password: redactPassword},
	}
	for _, r := range reqs {
		_, err := f.token(t, &r)
		require.Error(t, err)
		for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, secret := range append(redactSecrets, appSecret, johnPass, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") {
				assert.NotContains(t, out, secret, "%v", r)
			}
		}
	}
}
