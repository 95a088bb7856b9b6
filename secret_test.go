package mint_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/mintauth/mint"
)

func TestHashFormats(t *testing.T) {
	argon, err := fastHasher.Hash(context.Background(), "s3cret")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(argon, "$argon2id$v=19$m=64,t=1,p=1$"), "names algorithm and parameters: %s", argon)
	other, err := fastHasher.Hash(context.Background(), "s3cret")
	require.NoError(t, err)
	assert.NotEqual(t, argon, other, "salted")

	def, err := mint.HashPassword("s3cret")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(def, "$argon2id$v=19$m=19456,t=2,p=1$"), def)

	bc, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	secret, sha, err := mint.GenerateSecret()
	require.NoError(t, err)
	assert.Len(t, secret, 43, "256 bits, base64url")
	assert.True(t, strings.HasPrefix(sha, "$sha256$"))
	assert.Equal(t, sha, mint.HashGeneratedSecret(secret))

	tests := []struct {
		name, hash, plain string
		ok, rehash        bool
	}{
		{"argon2id current", argon, "s3cret", true, true}, // fastHasher params differ from DefaultArgon2id
		{"argon2id wrong", argon, "S3cret", false, false},
		{"argon2id default params", def, "s3cret", true, false},
		{"bcrypt", string(bc), "s3cret", true, true},
		{"bcrypt wrong", string(bc), "nope", false, false},
		{"sha256 generated", sha, secret, true, false},
		{"sha256 wrong", sha, secret + "x", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := mint.Argon2id{}.Verify(context.Background(), tt.hash, tt.plain)
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.rehash, rehash)
		})
	}
	for _, bad := range []string{"", "plaintext", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$argon2id$v=18$m=64,t=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "$sha256$short", "$md5$abc"} {
		ok, _, err := mint.Argon2id{}.Verify(context.Background(), bad, "x")
		assert.Error(t, err, bad)
		assert.False(t, ok, bad)
	}
}

func TestErrorCatalogue(t *testing.T) {
	seen := map[int]bool{}
	for _, c := range mint.Codes() {
		assert.False(t, seen[c.Code], "code %d listed twice", c.Code)
		seen[c.Code] = true
		assert.Equal(t, c.Code/1000, c.Status())
		assert.NotEmpty(t, c.Message, c.Code)
		if c.Code != mint.CodeSuccess {
			assert.NotEmpty(t, c.OAuthError, c.Code)
		}
	}
	for _, code := range []int{200000, 400002, 401122, 403051, 500030, 400001, 400004, 400011, 500000} {
		c, ok := lookupCode(code)
		assert.True(t, ok, "dialect code %d in the catalogue", code)
		assert.Equal(t, code, c.Code)
	}
	_, ok := lookupCode(123456)
	assert.False(t, ok)
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		kind   mint.Kind
		oauth  string
		status int
	}{
		{mint.KindServerError, "server_error", 500},
		{mint.KindMissingField, "invalid_request", 400},
		{mint.KindMalformedRequest, "invalid_request", 400},
		{mint.KindClientNotFound, "invalid_client", 401},
		{mint.KindSecretMismatch, "invalid_client", 401},
		{mint.KindUserNotFound, "invalid_grant", 400},
		{mint.KindPasswordMismatch, "invalid_grant", 400},
		{mint.KindGrantNotAllowed, "unauthorized_client", 400},
		{mint.KindUnsupportedGrant, "unsupported_grant_type", 400},
		{mint.KindInvalidScope, "invalid_scope", 400},
		{mint.KindInvalidRefreshToken, "invalid_grant", 400},
		{mint.KindExpiredRefreshToken, "invalid_grant", 400},
		{mint.KindRevokedRefreshToken, "invalid_grant", 400},
		{mint.KindThrottled, "temporarily_unavailable", 429},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			assert.Equal(t, tt.oauth, tt.kind.OAuthError())
			assert.Equal(t, tt.status, tt.kind.Status())
			e := &mint.Error{Kind: tt.kind}
			assert.NotEmpty(t, e.Message())
			assert.ErrorIs(t, e, &mint.Error{Kind: tt.kind})
		})
	}
	missing := &mint.Error{Kind: mint.KindMissingField, Field: "username"}
	assert.ErrorIs(t, missing, mint.KindMissingField)
	assert.ErrorIs(t, missing, &mint.Error{Kind: mint.KindMissingField, Field: "username"})
	assert.NotErrorIs(t, missing, &mint.Error{Kind: mint.KindMissingField, Field: "password"})
	assert.NotErrorIs(t, missing, mint.KindMalformedRequest)
	assert.Equal(t, "mint: missing_field: missing required field username", missing.Error())
	assert.Equal(t, mint.KindServerError, mint.AsError(assert.AnError).Kind)
	assert.ErrorIs(t, mint.AsError(assert.AnError), assert.AnError)
}
