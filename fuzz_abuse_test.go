package mint_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// Fuzz targets for the decoders fuzz_test.go does not cover: the refresh
// token format and the introspection and revocation bodies (the bearer
// header's target, FuzzBearerHeader, is the verify package's). Seed
// corpora: testdata/fuzz.

// FuzzRefreshToken feeds any string to DigestRefreshToken and, as the
// refresh_token parameter, to every mount that serves the refresh_token
// grant: no panic, no 5xx, a well-formed answer.
func FuzzRefreshToken(f *testing.F) {
	fx := newFixture(f, mint.WithLogger(abuseQuiet))
	tok, err := fx.token(f, password("app"))
	require.NoError(f, err)
	for _, s := range []string{tok.RefreshToken, "", strings.Repeat("A", 43), strings.Repeat("A", 42) + "=",
		strings.Repeat("/", 43), strings.Repeat("A", 44), tok.RefreshToken[:42] + "\x00", "é" + tok.RefreshToken[2:]} {
		f.Add(s)
	}
	h := dialectMux(fx.issuer)
	refreshMounts := []mount{}
	for _, m := range mounts {
		if m.name == "django-oauth-toolkit" || m.name == "oauth2" {
			refreshMounts = append(refreshMounts, m)
		}
	}
	require.Len(f, refreshMounts, 2)
	f.Fuzz(func(t *testing.T, token string) {
		digest, ok := digestRefreshToken(token)
		if ok {
			assert.Len(t, token, 43)
			raw, err := base64.RawURLEncoding.DecodeString(token)
			assert.NoError(t, err)
			assert.Len(t, raw, 32)
			assert.Len(t, digest, 43)
			assert.NotEqual(t, token, digest)
		} else {
			assert.Empty(t, digest)
		}
		body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token},
			"client_id": {"app"}, "client_secret": {appSecret}}.Encode()
		for _, m := range refreshMounts {
			a := serve(h, m.path, formType, body)
			checkFuzzAnswer(t, m, a)
			if a.status != http.StatusOK && looksSecret(token) {
				assert.NotContains(t, a.body, token, "an error never repeats the token")
			}
		}
	})
}

// looksSecret reports whether s is long enough, and free enough of spaces,
// that finding it in an answer means it was copied there, not that it
// happens to be a word of the answer's own text.
func looksSecret(s string) bool { return len(s) >= 32 && !strings.ContainsAny(s, " \t") }

// FuzzIntrospectRevokeBody feeds any form body, with or without HTTP
// Basic, to the RFC 7662 and RFC 7009 endpoints: no panic, no 5xx, an RFC
// 6749 section 5.2 error or the endpoint's success shape.
func FuzzIntrospectRevokeBody(f *testing.F) {
	fx := newFixture(f, mint.WithLogger(abuseQuiet))
	tok, err := fx.token(f, password("app"))
	require.NoError(f, err)
	for _, s := range []string{"token=" + tok.AccessToken, "token=" + tok.RefreshToken + "&token_type_hint=refresh_token",
		"token=" + tok.AccessToken + "&client_id=app&client_secret=" + appSecret, "", "token=", "token=a&token=b",
		"token=%zz", "token_type_hint=access_token", "token=" + strings.Repeat("x", 70000)} {
		f.Add(s, true)
		f.Add(s, false)
	}
	mux := http.NewServeMux()
	mux.Handle("/introspect", mint.IntrospectionHandler{Issuer: fx.issuer})
	mux.Handle("/revoke", mint.RevocationHandler{Issuer: fx.issuer})
	f.Fuzz(func(t *testing.T, body string, basic bool) {
		for _, path := range []string{"/introspect", "/revoke"} {
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			r.Header.Set("Content-Type", formType)
			if basic {
				r.SetBasicAuth("app", appSecret)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, r)
			assert.Less(t, rec.Code, 500, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			var answer map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer), "a JSON object: %q", rec.Body.String())
			switch {
			case rec.Code != http.StatusOK:
				assert.NotEmpty(t, answer["error"], rec.Body.String())
			case path == "/introspect":
				assert.IsType(t, true, answer["active"], rec.Body.String())
			default:
				assert.Empty(t, answer, "revocation answers {}")
			}
		}
	})
}
