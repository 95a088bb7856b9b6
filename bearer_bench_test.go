package mint_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the middleware rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkBearer compares the Bearer middleware's verification path (a
// request through Bearer to a handler that does nothing) with a baseline
// that only calls jwt.Parse with the key. Target: middleware <= 1.2x.
func BenchmarkBearer(b *testing.B) {
	for _, alg := range []string{mint.HS256, mint.EdDSA} {
		key, err := mint.GenerateKey(alg)
		if err != nil {
			b.Fatal(err)
		}
		keys, _ := mint.NewKeySet(key)
		store := mint.NewMemoryStore()
		secret, hash, _ := mint.GenerateSecret()
		store.PutClient(&mint.Client{ID: "app", SecretHash: hash, Scopes: []string{"read"},
			Grants: []string{mint.GrantClientCredentials}})
		iss, err := mint.New(store, keys, mint.WithIssuer(rsIssuer), mint.WithAudience(rsAudience),
			mint.WithUnknownClientHash(mint.HashGeneratedSecret("x")))
		if err != nil {
			b.Fatal(err)
		}
		tok, err := iss.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
			ClientID: "app", ClientSecret: secret})
		if err != nil {
			b.Fatal(err)
		}
		v, err := iss.Verifier()
		if err != nil {
			b.Fatal(err)
		}
		verifyKey := key.VerifyKey()

		b.Run(alg+"/baseline-jwt.Parse", func(b *testing.B) {
			b.ReportAllocs()
			kf := func(*jwt.Token) (any, error) { return verifyKey, nil }
			for b.Loop() {
				if _, err := jwt.Parse(tok.AccessToken, kf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/middleware", func(b *testing.B) {
			b.ReportAllocs()
			ok := false
			h := mint.Bearer(v, "api")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ok = true }))
			req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			w := &discardWriter{h: http.Header{}}
			for b.Loop() {
				ok = false
				h.ServeHTTP(w, req)
				if !ok {
					b.Fatal("refused")
				}
			}
		})
		b.Run(alg+"/baseline-jwt.Parse-parallel", func(b *testing.B) {
			b.ReportAllocs()
			kf := func(*jwt.Token) (any, error) { return verifyKey, nil }
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := jwt.Parse(tok.AccessToken, kf); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run(alg+"/middleware-parallel", func(b *testing.B) {
			b.ReportAllocs()
			h := mint.Bearer(v, "api")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					h.ServeHTTP(w, req)
				}
			})
		})
		b.Run(alg+"/Verify", func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
