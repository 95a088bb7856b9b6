package main

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// denied reports whether the store refuses an access token of clientID
// and userID issued at issuedAt.
func denied(t *testing.T, spec, clientID, userID string, issuedAt time.Time) bool {
	t.Helper()
	s, closeStore, err := openStore(context.Background(), spec, false)
	require.NoError(t, err)
	defer closeStore()
	d, err := s.AccessTokenDenied(context.Background(), "jti", clientID, userID, issuedAt)
	require.NoError(t, err)
	return d
}

func TestUsersAndRevoke(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			spec := migrated(t, e)
			r := mintRun(t, spec, "s3cret pass\n", "users", "add", "7", "-username", "john", "-email", "john@example.org")
			require.Equal(t, 0, r.code, r.stderr)
			assert.NotContains(t, r.stdout+r.stderr, "s3cret", "the password is never printed")
			s, closeStore, err := openStore(ctx, spec, false)
			require.NoError(t, err)
			u, err := s.User(ctx, "7")
			require.NoError(t, err)
			closeStore()
			assert.Equal(t, "john", u.Username)
			assert.Equal(t, "john@example.org", u.Email)
			ok, _, err := mint.Argon2id{}.Verify(ctx, u.PasswordHash, "s3cret pass")
			require.NoError(t, err)
			assert.True(t, ok, "the password from standard input, without its newline, is the one stored")

			before := snapshot(t, spec, "7", "8")
			for _, tc := range []struct {
				name, stdin string
				args        []string
				stderr      string
			}{
				{"existing user", "x\n", []string{"users", "add", "7", "-username", "other"}, `user "7" already exists`},
				{"no password", "", []string{"users", "add", "8", "-username", "mia"}, "nothing on standard input"},
				{"taken username", "x\n", []string{"users", "add", "8", "-username", "john"}, "upsert user"},
				{"revoke an unknown user", "", []string{"revoke", "-user", "8"}, `no user "8"`},
				{"revoke an unknown client", "", []string{"revoke", "-client", "nope"}, `no client "nope"`},
			} {
				r := mintRun(t, spec, tc.stdin, tc.args...)
				assert.Equal(t, 1, r.code, tc.name)
				assert.Contains(t, r.stderr, tc.stderr, tc.name)
				assert.Equal(t, before, snapshot(t, spec, "7", "8"), "%s: nothing changed", tc.name)
			}
			assert.False(t, denied(t, spec, "svc", "7", time.Now().Add(-time.Minute)), "nothing revoked by the failures")

			r = mintRun(t, spec, "", "revoke", "-user", "7")
			require.Equal(t, 0, r.code, r.stderr)
			assert.True(t, denied(t, spec, "svc", "7", time.Now().Add(-time.Minute)), "the user's earlier tokens are refused")
			assert.False(t, denied(t, spec, "svc", "8", time.Now().Add(-time.Minute)), "another user's are not")

			require.Equal(t, 0, mintRun(t, spec, "", "clients", "add", "svc").code)
			r = mintRun(t, spec, "", "revoke", "-client", "svc")
			require.Equal(t, 0, r.code, r.stderr)
			assert.True(t, denied(t, spec, "svc", "", time.Now().Add(-time.Minute)), "the client's earlier tokens are refused")
		})
	}
}

// disabled reports whether the stored user id is disabled.
func disabled(t *testing.T, spec, id string) bool {
	t.Helper()
	s, closeStore, err := openStore(context.Background(), spec, false)
	require.NoError(t, err)
	defer closeStore()
	u, err := s.User(context.Background(), id)
	require.NoError(t, err)
	return u.Disabled
}

// users disable and enable flip the stored user's Disabled, each as often
// as asked; an unknown user is a failure that changes nothing.
func TestUsersDisableAndEnable(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			spec := migrated(t, e)
			require.Equal(t, 0, mintRun(t, spec, "pw\n", "users", "add", "7", "-username", "john").code)
			require.Equal(t, 0, mintRun(t, spec, "pw\n", "users", "add", "8", "-username", "mia").code)
			for _, step := range []struct {
				args     []string
				stdout   string
				disabled bool
			}{
				{[]string{"users", "disable", "7"}, "disabled user 7\n", true},
				{[]string{"users", "disable", "7"}, "disabled user 7\n", true},
				{[]string{"users", "enable", "7", "-store", spec}, "enabled user 7\n", false},
				{[]string{"-store", spec, "users", "disable", "7"}, "disabled user 7\n", true},
				{[]string{"users", "enable", "7"}, "enabled user 7\n", false},
			} {
				r := mintRun(t, spec, "", step.args...)
				require.Equal(t, 0, r.code, "%v: %s", step.args, r.stderr)
				assert.Equal(t, step.stdout, r.stdout, "%v", step.args)
				assert.Equal(t, step.disabled, disabled(t, spec, "7"), "%v", step.args)
				assert.False(t, disabled(t, spec, "8"), "%v: another user is left alone", step.args)
			}

			require.Equal(t, 0, mintRun(t, spec, "", "users", "disable", "8").code)
			before := snapshot(t, spec, "7", "8", "9")
			for _, args := range [][]string{{"users", "disable", "9"}, {"users", "enable", "9"}, {"users", "enable", "john"}} {
				r := mintRun(t, spec, "", args...)
				assert.Equal(t, 1, r.code, "%v", args)
				assert.Contains(t, r.stderr, "no user", "%v", args)
				assert.Empty(t, r.stdout, "%v", args)
				assert.Equal(t, before, snapshot(t, spec, "7", "8", "9"), "%v: nothing changed", args)
			}
		})
	}
}

func TestHash(t *testing.T) {
	for _, tc := range []struct{ name, stdin, secret string }{
		{"a line", "hunter2\n", "hunter2"},
		{"CRLF", "hunter2\r\n", "hunter2"},
		{"no newline", "pass phrase", "pass phrase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mintRun(t, "", tc.stdin, "hash")
			require.Equal(t, 0, r.code, r.stderr)
			ok, _, err := mint.Argon2id{}.Verify(context.Background(), r.lastLine(), tc.secret)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.NotContains(t, r.stdout, tc.secret)
		})
	}
	r := mintRun(t, "", "", "hash")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "nothing on standard input")
}

func TestTokenInspect(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	token := enc([]byte(`{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}`)) + "." +
		enc([]byte(`{"sub":"7","aud":"demo-api","scope":"read"}`)) + ".c2ln"
	r := mintRun(t, "", "", "token", "inspect", token)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "header:\n{\n  \"alg\": \"EdDSA\",\n  \"kid\": \"k1\",\n  \"typ\": \"at+jwt\"\n}\n"+
		"claims:\n{\n  \"sub\": \"7\",\n  \"aud\": \"demo-api\",\n  \"scope\": \"read\"\n}\n", r.stdout)

	for _, tc := range []struct{ name, token, stderr string }{
		{"two parts", "a.b", "want 3 dot-separated parts, got 2"},
		{"bad base64", "!!.e30.x", "header: not base64url"},
		{"claims not an object", enc([]byte(`{}`)) + "." + enc([]byte(`[1]`)) + ".x", "claims: not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mintRun(t, "", "", "token", "inspect", tc.token)
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, tc.stderr)
		})
	}
	r = mintRun(t, "", "", "token", "inspect", "-issuer", "http://127.0.0.1:1", token)
	assert.Equal(t, 1, r.code, "an issuer that cannot be reached verifies nothing")
	assert.Empty(t, r.stdout, "no claims shown for a token that failed verification")
}
