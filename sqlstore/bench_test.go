package sqlstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mintauth/mint"
)

// BenchmarkRotateRefreshToken measures one rotation (the conditional
// UPDATE and the INSERT in one transaction), each iteration spending the
// token the previous one stored.
func BenchmarkRotateRefreshToken(b *testing.B) {
	ctx := context.Background()
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s := newStore(b, e)
			now := time.Now().UTC()
			rt := func(i int) *mint.RefreshToken {
				return &mint.RefreshToken{Digest: fmt.Sprintf("d%09d", i), Family: "d000000000",
					ClientID: "c", UserID: "u", Grant: mint.GrantPassword, Scope: []string{"read"},
					IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			}
			if err := s.SaveRefreshToken(ctx, rt(0)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				next := rt(i + 1)
				next.Parent = rt(i).Digest
				if err := s.RotateRefreshToken(ctx, rt(i).Digest, next); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkClient measures a client lookup by id.
func BenchmarkClient(b *testing.B) {
	ctx := context.Background()
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s := newStore(b, e)
			c := &mint.Client{ID: "app", SecretHash: "$sha256$x", Name: "App",
				Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}, Scopes: []string{"read", "write"}, Roles: []int{1, 2}}
			if err := s.UpsertClient(ctx, c); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Client(ctx, "app"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIssuerRefresh measures a whole refresh_token grant through the
// Issuer: client lookup, token read, user read, signing and rotation.
func BenchmarkIssuerRefresh(b *testing.B) {
	ctx := context.Background()
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s := newStore(b, e)
			secret, password := seed(b, s)
			iss := newIssuer(b, s)
			tok := login(b, iss, secret, password)
			b.ReportAllocs()
			for b.Loop() {
				next, err := refresh(ctx, iss, secret, tok.RefreshToken)
				if err != nil {
					b.Fatal(err)
				}
				tok = next
			}
		})
	}
}

// BenchmarkPostgresWire measures the token endpoint at production shape:
// mint.TokenHandler over a Store on PostgreSQL (MINT_TEST_POSTGRES_DSN,
// skipped without it), served on a loopback httptest.Server to one
// http.Client with keep-alive, the answer read to its end. Its figures are
// read as ratios to floor/select1, measured in the same run (BENCHMARKS.md):
//
//   - floor/select1: a bare SELECT 1 on the store's own pool, one round
//     trip to the database;
//   - floor/http: a handler answering a fixed JSON body, what net/http and
//     the loopback cost;
//   - client_credentials: a token for a client with a generated secret;
//   - refresh: each request presents the refresh token the previous
//     answer carried, so that every one rotates it.
//
// Each reports the statements and the transactions the store ran per
// request (statements/op, tx/op), counted by a wrapper around the driver:
//
//	go test -run '^$' -bench PostgresWire -count 6 -cpu 1 ./sqlstore
func BenchmarkPostgresWire(b *testing.B) {
	ctx := context.Background()
	pg := engines[1] // postgres
	counter := &statementCounter{}
	db := sql.OpenDB(&countingConnector{dsn: pg.newDSN(b), drv: driverOf(b, pg.driver), counter: counter})
	b.Cleanup(func() { db.Close() })
	s := storeOn(b, pg, db)
	secret, hash, err := mint.GenerateSecret()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.UpsertClient(ctx, &mint.Client{ID: "app", SecretHash: hash,
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken},
		Scopes: []string{"read"}}); err != nil {
		b.Fatal(err)
	}
	pwHash, err := fastHasher.Hash(ctx, "correct horse")
	if err != nil {
		b.Fatal(err)
	}
	if err := s.UpsertUser(ctx, &mint.User{ID: "7", Username: "john", PasswordHash: pwHash}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(mint.TokenHandler{Issuer: newIssuer(b, s)})
	b.Cleanup(srv.Close)
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"x","token_type":"Bearer","expires_in":3600}`)
	}))
	b.Cleanup(floor.Close)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(transport.CloseIdleConnections)
	c := &http.Client{Transport: transport}
	post := func(b *testing.B, url, body string) []byte {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", secret)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %s (%v)", resp.StatusCode, answer, err)
		}
		return answer
	}
	refreshOf := func(b *testing.B, answer []byte) string {
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal(answer, &tok); err != nil || tok.RefreshToken == "" {
			b.Fatalf("no refresh token in %s (%v)", answer, err)
		}
		return tok.RefreshToken
	}
	// measure runs op in b.Loop and reports the store's statements and
	// transactions per op.
	measure := func(b *testing.B, op func()) {
		counter.reset()
		for b.Loop() {
			op()
		}
		b.ReportMetric(float64(len(counter.statements()))/float64(b.N), "statements/op")
		b.ReportMetric(float64(counter.transactions())/float64(b.N), "tx/op")
	}
	b.Run("floor/select1", func(b *testing.B) {
		measure(b, func() {
			var one int
			if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("floor/http", func(b *testing.B) {
		measure(b, func() { post(b, floor.URL+"/token", "grant_type=client_credentials") })
	})
	b.Run("client_credentials", func(b *testing.B) {
		measure(b, func() { post(b, srv.URL+"/token", "grant_type=client_credentials") })
	})
	b.Run("refresh", func(b *testing.B) {
		rt := refreshOf(b, post(b, srv.URL+"/token", "grant_type=password&username=john&password=correct+horse"))
		measure(b, func() {
			rt = refreshOf(b, post(b, srv.URL+"/token", "grant_type=refresh_token&refresh_token="+url.QueryEscape(rt)))
		})
	})
}
