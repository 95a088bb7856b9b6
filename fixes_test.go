package mint_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// Python's requests and Authlib send Basic credentials raw, never
// form-encoded: a secret holding a valid %XX escape or a '+' authenticates
// as sent as well as form-decoded, and an unknown client costs what a
// wrong secret costs.
func TestRawBasicSecretAuthenticates(t *testing.T) {
	const rawSecret = "sp:3c%41l+ s3cret~B"
	h := &countingHasher{Hasher: fastHasher}
	f := newFixture(t, mint.WithHasher(h))
	f.store.PutClient(&mint.Client{ID: "python", SecretHash: hash(t, rawSecret), Grants: []string{mint.GrantClientCredentials}})
	f.store.PutClient(&mint.Client{ID: "plus", SecretHash: hash(t, "a b"), Grants: []string{mint.GrantClientCredentials}})
	srv := newServer(t, mint.TokenHandler{Issuer: f.issuer})
	raw := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	tests := []struct {
		name, header string
		status       int
		verifies     int32
	}{
		{"raw secret with %41 and +", raw("python", rawSecret), http.StatusOK, 2},
		{"the same secret form-encoded", basicAuth("python", rawSecret), http.StatusOK, 1},
		{"'+' form-decoded as a space", raw("plus", "a+b"), http.StatusOK, 1},
		{"wrong secret, two forms", raw("python", "sp%41+x"), http.StatusUnauthorized, 2},
		{"unknown client, two forms", raw("ghost", "sp%41+x"), http.StatusUnauthorized, 2},
		{"unknown client, one form", raw("ghost", "spx"), http.StatusUnauthorized, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.verifies.Store(0)
			a := (&dialectServer{srv: srv}).post(t, "", formType, "grant_type=client_credentials", "Authorization", tt.header)
			assert.Equal(t, tt.status, a.status, a.body)
			assert.Equal(t, tt.verifies, h.verifies.Load(), "hash verifications")
		})
	}
}

// Media types are compared in ASCII only (RFC 9110 section 8.3.1):
// U+017F LATIN SMALL LETTER LONG S folds to 's' under Unicode rules, but
// "application/j\u017fon" is not JSON.
func TestContentTypeComparedInASCII(t *testing.T) {
	s := newDialectServer(t)
	for _, m := range mounts {
		if m.goodType != jsonType {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			a := s.send(t, m, "", "application/j\u017fon", m.good)
			checkShape(t, m, a)
			status, code := malformedAnswer(m)
			assert.Equal(t, status, a.status, a.body)
			assert.Equal(t, code, errorCode(t, m, a), a.body)
			a = s.send(t, m, "", "Application/JSON; charset=utf-8", m.good)
			assert.Equal(t, http.StatusOK, a.status, "ASCII case does not matter: %s", a.body)
		})
	}
}

// scope is split on SP (%x20) only, and every scope token is made of
// %x21 / %x23-5B / %x5D-7E (RFC 6749 section 3.3): other separators and
// characters are invalid_scope, never read as a space.
func TestScopeSplitOnSpaceOnly(t *testing.T) {
	f := newFixture(t)
	srv := newServer(t, mint.TokenHandler{Issuer: f.issuer})
	tests := []struct {
		name, scope string
		status      int
		granted     string
	}{
		{"space", "read+write", http.StatusOK, "read write"},
		{"NBSP", "read%C2%A0write", http.StatusBadRequest, ""},
		{"TAB", "read%09write", http.StatusBadRequest, ""},
		{"VT", "read%0Bwrite", http.StatusBadRequest, ""},
		{"LINE SEPARATOR", "read%E2%80%A8write", http.StatusBadRequest, ""},
		{"IDEOGRAPHIC SPACE", "read%E3%80%80write", http.StatusBadRequest, ""},
		{"double quote", "read%22", http.StatusBadRequest, ""},
		{"backslash", "read%5C", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := (&dialectServer{srv: srv}).post(t, "", formType, "grant_type=client_credentials&scope="+tt.scope,
				"Authorization", basicAuth("app", appSecret))
			require.Equal(t, tt.status, a.status, a.body)
			if tt.status == http.StatusOK {
				assert.Equal(t, tt.granted, field(t, a.body, "scope"))
			} else {
				assert.Equal(t, "invalid_scope", field(t, a.body, "error"))
			}
		})
	}
}
