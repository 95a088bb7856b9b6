package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// BenchmarkWire measures a resource request where its users feel it: one
// GET over loopback HTTP with keep-alive carrying `Authorization: Bearer`
// with an EdDSA access token, through Bearer and Verify, beside a floor
// that answers the same body without checking anything, a naive
// middleware of jwt.Parse with MapClaims, and a DPoP request: an EdDSA
// token bound to an ES256 key, with a fresh proof signed by the client
// for every request (client signing included), in one process.
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
	bearer := func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+tok.AccessToken) }
	for _, tc := range []struct {
		name    string
		h       http.Handler
		prepare func(*http.Request)
	}{
		{"floor", answer, bearer},
		{"naive", naiveBearer(key, iss, aud, answer), bearer},
		{"bearer", verify.Bearer(v, "api")(answer), bearer},
		{"dpop", verify.Bearer(v, "api")(answer), benchDPoP(b, key, iss, aud)},
	} {
		srv := httptest.NewServer(tc.h)
		b.Cleanup(srv.Close)
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
				if err != nil {
					b.Fatal(err)
				}
				tc.prepare(req)
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

// benchDPoP returns what a DPoP client adds to each request (RFC 9449):
// an EdDSA access token bound to its ES256 key, and a new proof for the
// request.
func benchDPoP(b *testing.B, key *mint.Key, iss, aud string) func(*http.Request) {
	client, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := client.PublicKey.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:])}
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + b64(pub[1:33]) + `","y":"` + b64(pub[33:]) + `"}`))
	now := time.Now()
	at := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": iss, "sub": "svc", "aud": aud, "client_id": "svc",
		"scope": "read", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "bench", "cnf": map[string]any{"jkt": b64(sum[:])}})
	at.Header["typ"], at.Header["kid"] = "at+jwt", key.ID()
	token, err := at.SignedString(key.Private())
	if err != nil {
		b.Fatal(err)
	}
	ath := sha256.Sum256([]byte(token))
	var n atomic.Int64
	return func(req *http.Request) {
		p := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"jti": strconv.FormatInt(n.Add(1), 36), "htm": req.Method,
			"htu": req.URL.String(), "iat": time.Now().Unix(), "ath": b64(ath[:])})
		p.Header["typ"], p.Header["jwk"] = "dpop+jwt", jwk
		proof, err := p.SignedString(client)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "DPoP "+token)
		req.Header.Set("DPoP", proof)
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
