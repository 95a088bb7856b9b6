package mint_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

func TestFAPI2RefusesKeysOutsideItsAlgorithms(t *testing.T) {
	for _, tc := range []struct {
		alg    string
		wantOK bool
	}{{mint.HS256, false}, {mint.RS256, false}, {mint.PS256, true}, {mint.ES256, true}, {mint.EdDSA, true}} {
		key, err := mint.GenerateKey(tc.alg)
		require.NoError(t, err)
		keys, err := mint.NewKeySet(key)
		require.NoError(t, err)
		_, err = mint.New(mint.NewMemoryStore(), keys, mint.WithFAPI2())
		assert.Equal(t, tc.wantOK, err == nil, "%s: %v", tc.alg, err)
	}
}

func TestFAPI2(t *testing.T) {
	f := newPKJFixture(t, mint.WithFAPI2())
	f.store.PutClient(&mint.Client{ID: "pkj", AuthMethod: mint.AuthPrivateKeyJWT, JWKS: jwks(f.key),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}, Scopes: []string{"read"}})
	rsa := newClientKey(t, mint.RS256, "rs")
	f.store.PutClient(&mint.Client{ID: "rs", AuthMethod: mint.AuthPrivateKeyJWT, JWKS: jwks(rsa),
		Grants: []string{mint.GrantClientCredentials}})
	dpopKey := newClientKey(t, mint.EdDSA, "")
	now := f.clock.now()
	proof := func() map[string]string {
		return map[string]string{"DPoP": dpopKey.proof(t, http.MethodPost, tokenURL, now)}
	}
	for _, tc := range []struct {
		name       string
		form       url.Values
		header     map[string]string
		wantStatus int
		wantError  string
	}{
		{"private_key_jwt with aud the issuer, and DPoP", assertionForm(f.key.assertion(t, "pkj", issuerURL, now)),
			proof(), http.StatusOK, ""},
		{"a client secret", secretForm(), proof(), http.StatusUnauthorized, "invalid_client"},
		{"aud the token endpoint", assertionForm(f.key.assertion(t, "pkj", tokenURL, now)), proof(),
			http.StatusUnauthorized, "invalid_client"},
		{"aud an array naming the issuer", assertionForm(f.key.assertion(t, "pkj", issuerURL, now,
			func(_ map[string]any, c jwt.MapClaims) { c["aud"] = []string{issuerURL, "https://other.example.com"} })),
			proof(), http.StatusUnauthorized, "invalid_client"},
		{"an RS256 assertion", assertionForm(rsa.assertion(t, "rs", issuerURL, now)), proof(),
			http.StatusUnauthorized, "invalid_client"},
		{"no DPoP proof", assertionForm(f.key.assertion(t, "pkj", issuerURL, now)), nil,
			http.StatusBadRequest, "invalid_dpop_proof"},
		{"an RS256 DPoP proof", assertionForm(f.key.assertion(t, "pkj", issuerURL, now)),
			map[string]string{"DPoP": rsa.proof(t, http.MethodPost, tokenURL, now)}, http.StatusBadRequest, "invalid_dpop_proof"},
		{"the password grant", withParam(withParam(withParam(assertionForm(f.key.assertion(t, "pkj", issuerURL, now)),
			"grant_type", mint.GrantPassword), "username", "john_doe"), "password", johnPass), proof(),
			http.StatusBadRequest, "unsupported_grant_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := sendForm(t, f.url+"/oauth2/token", tc.form, tc.header)
			assert.Equal(t, tc.wantStatus, a.status, "%v", a.body)
			if tc.wantError == "" {
				assert.Equal(t, "DPoP", a.body["token_type"])
				return
			}
			assert.Equal(t, tc.wantError, a.body["error"])
		})
	}
	_, err := f.issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantSilentPassword,
		ClientAssertion: f.key.assertion(t, "pkj", issuerURL, now), Username: "john_doe"})
	assert.ErrorIs(t, err, mint.KindUnsupportedGrant, "no silent_password either")
}

func TestFAPI2Metadata(t *testing.T) {
	f := newPKJFixture(t, mint.WithFAPI2())
	h, err := mint.MetadataHandler(f.issuer, mint.Metadata{TokenEndpoint: tokenURL})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.JSONEq(t, `{"issuer":"`+issuerURL+`","token_endpoint":"`+tokenURL+`","response_types_supported":[],
		"grant_types_supported":["client_credentials","refresh_token"],
		"token_endpoint_auth_methods_supported":["private_key_jwt"],
		"token_endpoint_auth_signing_alg_values_supported":["PS256","ES256","EdDSA"],
		"dpop_signing_alg_values_supported":["PS256","ES256","EdDSA"]}`, rec.Body.String())
}
