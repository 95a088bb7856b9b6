package sqlstore_test

import (
	"context"
	"fmt"
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
