package verify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// BenchmarkWire measures a resource request where its users feel it: one
// GET over loopback HTTP with keep-alive carrying `Authorization: Bearer`
// with an EdDSA access token, through Bearer and Verify, beside a floor
// that answers the same body without checking anything and a naive
// middleware of jwt.Parse with MapClaims, in one process.
func BenchmarkWire(b *testing.B) {
	secret, hash, err := mint.GenerateSecret()
	if err != nil {
		b.Fatal(err)
	}
	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: "svc", SecretHash: hash, Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}})
	key, err := mint.GenerateKey(mint.EdDSA)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := mint.NewKeySet(key)
	if err != nil {
		b.Fatal(err)
	}
	const iss, aud = "https://auth.example.com", "https://api.example.com"
	issuer, err := mint.New(store, keys, mint.WithIssuer(iss), mint.WithAudience(aud))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "svc", ClientSecret: secret})
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(keys, iss, aud)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"sub":"svc","scope":"read"}` + "\n")
	answer := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	b.Cleanup(t.CloseIdleConnections)
	c := &http.Client{Transport: t}
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"floor", answer},
		{"naive", naiveBearer(key, iss, aud, answer)},
		{"bearer", verify.Bearer(v, "api")(answer)},
	} {
		srv := httptest.NewServer(tc.h)
		b.Cleanup(srv.Close)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, %v", resp.StatusCode, err)
				}
			}
		})
	}
}

// naiveBearer is the middleware a Go developer writes with golang-jwt alone.
func naiveBearer(key *mint.Key, iss, aud string, next http.Handler) http.Handler {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{mint.EdDSA}), jwt.WithIssuer(iss), jwt.WithAudience(aud),
		jwt.WithExpirationRequired())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if _, err := parser.ParseWithClaims(token, jwt.MapClaims{}, func(*jwt.Token) (any, error) { return key.Public(), nil }); err != nil {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
