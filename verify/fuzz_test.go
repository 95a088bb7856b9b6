package verify_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/verify"
)

// Fuzz targets of what a client sends a resource server. Seed corpora:
// testdata/fuzz.

// FuzzVerify: whatever a client sends as a bearer token, Verify neither
// panics nor accepts it, and refuses it as an invalid token.
func FuzzVerify(f *testing.F) {
	fx := newRSFixture(f)
	good := fx.accessToken(f, "app").AccessToken
	parts := strings.Split(good, ".")
	for _, s := range []string{"", ".", "..", "a.b.c", good[:len(good)-2], parts[0] + ".." + parts[2],
		"eyJhbGciOiJub25lIn0.e30.", parts[0] + ".e30." + parts[2], good + "."} {
		f.Add(s)
	}
	v, err := fx.verifier()
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, token string) {
		if token == good {
			return
		}
		c, err := v.Verify(context.Background(), token)
		if err == nil {
			t.Fatalf("accepted a token the issuer did not sign: %+v", c)
		}
		if !errors.Is(err, verify.ErrInvalidToken) {
			t.Fatalf("not an invalid-token error: %v", err)
		}
	})
}

// FuzzBearerHeader feeds any Authorization header (once or twice) to the
// RFC 6750 middleware: no panic, no 5xx, 200 only with a token that
// verifies, otherwise a JSON error and a challenge that stays one
// well-formed header line.
func FuzzBearerHeader(f *testing.F) {
	fx := newRSFixture(f)
	tok := fx.accessToken(f, "app")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	parts := strings.Split(tok.AccessToken, ".")
	for _, s := range []string{
		"Bearer " + tok.AccessToken, "bearer " + tok.AccessToken, "Bearer", "Bearer ", "Basic YXBwOng=", "",
		"Bearer a.b.c", "Bearer " + tok.AccessToken + "x", "Bearer  " + tok.AccessToken + "  ",
		// alg confusion: none, and HS256 over the same claims (RFC 8725 section 2.1).
		"Bearer " + b64(`{"alg":"none","typ":"at+jwt"}`) + "." + parts[1] + ".",
		"Bearer " + b64(`{"alg":"HS256","typ":"at+jwt","kid":"x"}`) + "." + parts[1] + "." + parts[2],
		"Bearer " + parts[0] + "." + b64(`{"iss":"https://auth.example.com","exp":1e99}`) + "." + parts[2],
		"Bearer \x00\r\n", "Bearer " + strings.Repeat("a.", 5000),
	} {
		f.Add(s, false)
	}
	f.Add("Bearer "+tok.AccessToken, true)
	v, err := fx.verifier()
	require.NoError(f, err)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, found := verify.FromContext(r.Context())
		if !found {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": c.Subject})
	})
	h := verify.Bearer(v, "api")(ok)
	f.Fuzz(func(t *testing.T, header string, twice bool) {
		r := httptest.NewRequest(http.MethodGet, "/me", nil)
		r.Header["Authorization"] = []string{header}
		if twice {
			r.Header["Authorization"] = append(r.Header["Authorization"], header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Less(t, rec.Code, 500, rec.Body.String())
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "a JSON object: %q", rec.Body.String())
		if rec.Code == http.StatusOK {
			assert.False(t, twice)
			assert.Equal(t, "app", body["sub"])
			assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			return
		}
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnauthorized}, rec.Code)
		assert.NotEmpty(t, body["error"])
		challenge := rec.Header().Get("WWW-Authenticate")
		assert.True(t, strings.HasPrefix(challenge, "Bearer") || strings.HasPrefix(challenge, "DPoP"), challenge)
		assert.NotContains(t, challenge, "\n")
		assert.NotContains(t, challenge, "\r")
		if token := strings.TrimSpace(header[min(len(header), 7):]); looksSecret(token) {
			assert.NotContains(t, rec.Body.String(), token, "an error never repeats the token")
		}
	})
}

// FuzzDPoPProof feeds any DPoP header to the middleware beside a bound
// token with the DPoP scheme: no panic, no 5xx, 200 only for the one
// good proof (and only once), otherwise 401 with a JSON error and a DPoP
// challenge that stays one header line and never repeats the proof.
func FuzzDPoPProof(f *testing.F) {
	fx := newRSFixture(f)
	c := newDPoPClient(f, "ES256")
	tok := fx.boundToken(f, c.jkt)
	good := c.sign(f, proofClaims(fx, "GET", "http://example.com/me", tok))
	parts := strings.Split(good, ".")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{good, "", "a.b.c", parts[0] + "." + parts[1] + ".", good + ", " + good,
		b64(`{"typ":"dpop+jwt","alg":"none","jwk":{"kty":"EC"}}`) + "." + parts[1] + ".",
		b64(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"","y":"","d":""}}`) + "." + parts[1] + "." + parts[2],
		strings.Repeat("a.", 5000), "\x00\r\n"} {
		f.Add(s)
	}
	v, err := fx.verifier()
	require.NoError(f, err)
	h := verify.Bearer(v, "api")(meHandler)
	f.Fuzz(func(t *testing.T, proof string) {
		r := httptest.NewRequest(http.MethodGet, "http://example.com/me", nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header["Dpop"] = []string{proof} // the canonical form of DPoP
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			assert.Equal(t, good, proof, "only the client's own proof passes")
			return
		}
		assert.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "a JSON object: %q", rec.Body.String())
		assert.Contains(t, []any{"invalid_dpop_proof", "invalid_token"}, body["error"])
		challenge := rec.Header().Get("WWW-Authenticate")
		assert.True(t, strings.HasPrefix(challenge, `DPoP realm="api", error=`), challenge)
		assert.NotContains(t, challenge, "\n")
		if looksSecret(proof) {
			assert.NotContains(t, rec.Body.String(), proof, "an error never repeats the proof")
		}
	})
}

// looksSecret reports whether s is long enough, and free enough of spaces,
// that finding it in an answer means it was copied there, not that it
// happens to be a word of the answer's own text.
func looksSecret(s string) bool { return len(s) >= 32 && !strings.ContainsAny(s, " \t") }
