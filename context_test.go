package mint_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// traceKey is where a host's middleware keeps a request's trace id.
type traceKey struct{}

// traces records, per method of a Signer or Hasher, the trace id found in
// the context of each call (nil when there was none).
type traces struct {
	mu   sync.Mutex
	seen map[string][]any
}

func (tr *traces) record(ctx context.Context, method string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.seen[method] = append(tr.seen[method], ctx.Value(traceKey{}))
}

func (tr *traces) take() map[string][]any {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	seen := tr.seen
	tr.seen = map[string][]any{}
	return seen
}

// tracingSigner and tracingHasher wrap mint's own, as a host tracing them
// would.
type tracingSigner struct {
	mint.Signer
	tr *traces
}

func (s tracingSigner) Sign(ctx context.Context, c *mint.Claims) (string, error) {
	s.tr.record(ctx, "Sign")
	return s.Signer.Sign(ctx, c)
}

type tracingHasher struct {
	mint.Hasher
	tr *traces
}

func (h tracingHasher) Hash(ctx context.Context, plain string) (string, error) {
	h.tr.record(ctx, "Hash")
	return h.Hasher.Hash(ctx, plain)
}

func (h tracingHasher) Verify(ctx context.Context, encoded, plain string) (bool, bool, error) {
	h.tr.record(ctx, "Verify")
	return h.Hasher.Verify(ctx, encoded, plain)
}

// The context a host's middleware put on the request reaches the Signer
// and the Hasher: verifying the secret and the password, upgrading their
// outdated hashes, signing the access token.
func TestSigningAndHashingSeeTheRequestContext(t *testing.T) {
	tr := &traces{seen: map[string][]any{}}
	outdated := mint.Argon2id{Memory: 32, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}
	outdatedHash := func(plain string) string {
		h, err := outdated.Hash(context.Background(), plain)
		require.NoError(t, err)
		return h
	}
	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: "app", SecretHash: outdatedHash(appSecret),
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}, Scopes: []string{"read"}})
	store.PutUser(&mint.User{ID: "7", Username: "john_doe", PasswordHash: outdatedHash(johnPass)})
	key, err := mint.GenerateKey(mint.EdDSA)
	require.NoError(t, err)
	keys, err := mint.NewKeySet(key)
	require.NoError(t, err)
	iss, err := mint.New(store, tracingSigner{keys, tr}, mint.WithHasher(tracingHasher{fastHasher, tr}))
	require.NoError(t, err)
	assert.Equal(t, map[string][]any{"Hash": {nil}}, tr.take(), "New hashes once, outside any request")

	traced := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), traceKey{}, r.Header.Get("X-Trace"))))
		})
	}
	srv := httptest.NewServer(traced(mint.TokenHandler{Issuer: iss}))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		name  string
		trace string
		form  url.Values
		want  map[string][]any
	}{
		{"client credentials, the secret's hash upgraded", "cc", url.Values{"grant_type": {"client_credentials"}},
			map[string][]any{"Verify": {"cc"}, "Hash": {"cc"}, "Sign": {"cc"}}},
		{"password, the password's hash upgraded", "pw", url.Values{"grant_type": {"password"}, "username": {"john_doe"}, "password": {johnPass}},
			map[string][]any{"Verify": {"pw", "pw"}, "Hash": {"pw"}, "Sign": {"pw"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(tc.form.Encode()))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", basicAuth("app", appSecret))
			req.Header.Set("X-Trace", tc.trace)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, tc.want, tr.take())
		})
	}
}
