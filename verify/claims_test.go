package verify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// hostClaims is a claims hook adding a tenant and a few JSON shapes, as a
// host with its own users table would.
func hostClaims(_ context.Context, r *mint.ClaimsRequest) (map[string]any, error) {
	claims := map[string]any{"tenant_id": "acme", "limits": map[string]any{"rps": 5}, "flags": []string{"beta"}}
	if r.User != nil {
		claims["department"] = "sales"
	}
	return claims, nil
}

// TestVerifierReportsUserAndHostClaims: the verifier returns the host's
// claims under their exact names and tells a client's own token from a
// user's, whose ids may be equal (RFC 9700 section 4.15).
func TestVerifierReportsUserAndHostClaims(t *testing.T) {
	f := newRSFixture(t, mint.WithClaims(hostClaims))
	srv, _ := f.jwksServer(t)
	local, err := f.verifier()
	require.NoError(t, err)
	remote, err := verify.NewRemote(srv.URL, rsIssuer, rsAudience, verify.WithClock(f.clock.Now))
	require.NoError(t, err)
	for name, v := range map[string]*verify.Verifier{"local": local, "remote": remote} {
		t.Run(name+"/client token", func(t *testing.T) {
			c, err := v.Verify(context.Background(), f.accessToken(t, "app").AccessToken)
			require.NoError(t, err)
			assert.Equal(t, "app", c.Subject)
			assert.Equal(t, mint.SubjectClient, c.SubjectType)
			assert.Empty(t, c.UserID, "a client's own token has no user")
			assert.Equal(t, map[string]any{"tenant_id": "acme", "limits": map[string]any{"rps": float64(5)},
				"flags": []any{"beta"}}, c.Extra)
		})
		t.Run(name+"/user token", func(t *testing.T) {
			c, err := v.Verify(context.Background(), f.userToken(t, "app").AccessToken)
			require.NoError(t, err)
			assert.Equal(t, "u1", c.Subject)
			assert.Equal(t, mint.SubjectUser, c.SubjectType)
			assert.Equal(t, "u1", c.UserID)
			assert.Equal(t, "sales", c.Extra["department"])
			assert.Equal(t, "acme", c.Extra["tenant_id"])
		})
	}
	for name, tc := range map[string]struct {
		claims    string
		extra     map[string]any
		wantUser  string
		wantSType string
	}{
		"no sub_type is no user":            {claims: ``},
		"sub_type user":                     {claims: `,"sub_type":"user"`, wantUser: "app", wantSType: "user"},
		"sub_type client":                   {claims: `,"sub_type":"client"`, wantSType: "client"},
		"another sub_type is no user":       {claims: `,"sub_type":"robot"`, wantSType: "robot"},
		"Sub_Type is not sub_type":          {claims: `,"Sub_Type":"user"`, extra: map[string]any{"Sub_Type": "user"}},
		"reserved names never reach Extra":  {claims: `,"nbf":1,"cnf":{"jkt":"x"},"roles":[1]`},
		"an unknown claim is kept verbatim": {claims: `,"n":12.5,"nil":null`, extra: map[string]any{"n": 12.5, "nil": nil}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := local.Verify(context.Background(), f.rawToken(t, "", `,"exp":`+f.exp()+tc.claims))
			require.NoError(t, err)
			assert.Equal(t, tc.wantUser, c.UserID)
			assert.Equal(t, tc.wantSType, c.SubjectType)
			assert.Equal(t, tc.extra, c.Extra)
		})
	}
	t.Run("sub_type of the wrong type is refused", func(t *testing.T) {
		_, err := local.Verify(context.Background(), f.rawToken(t, "", `,"exp":`+f.exp()+`,"sub_type":true`))
		assert.ErrorIs(t, err, verify.ErrInvalidToken)
	})
}

// TestRequireUser: a client's own token is refused where a user is
// needed, a user's passes, and without Bearer in front nothing passes.
func TestRequireUser(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/user", verify.Bearer(v, "api")(verify.RequireUser(meHandler)))
	mux.Handle("/unprotected-user", verify.RequireUser(meHandler))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	a := bearerGet(t, srv.URL+"/user", "Bearer "+f.userToken(t, "app").AccessToken)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "u1", a.body["sub"])

	a = bearerGet(t, srv.URL+"/user", "Bearer "+f.accessToken(t, "app").AccessToken)
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", error_description="the access token has no user behind it"`, a.challenge)
	assert.Equal(t, "insufficient_scope", a.body["error"])

	a = bearerGet(t, srv.URL+"/unprotected-user", "Bearer "+f.userToken(t, "app").AccessToken)
	assert.Equal(t, http.StatusUnauthorized, a.status)
}
