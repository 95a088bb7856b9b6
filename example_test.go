package mint_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// A client_credentials token from the engine alone: a store, a key set and
// an Issuer. A service in the same process verifies it with the verify
// package over the key set.
func Example() {
	secret, hash, err := mint.GenerateSecret() // 256 bits; give secret to the client once
	if err != nil {
		log.Fatal(err)
	}
	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: "reports", SecretHash: hash,
		Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}})

	key, err := mint.GenerateKey(mint.EdDSA)
	if err != nil {
		log.Fatal(err)
	}
	keys, err := mint.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	issuer, err := mint.New(store, keys, mint.WithIssuer("https://auth.example.com"), mint.WithAudience("reports-api"))
	if err != nil {
		log.Fatal(err)
	}

	tok, err := issuer.Token(context.Background(), &mint.TokenRequest{
		GrantType: mint.GrantClientCredentials, ClientID: "reports", ClientSecret: secret})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.ExpiresIn, tok.ScopeString())

	verifier, err := verify.New(keys, "https://auth.example.com", "reports-api")
	if err != nil {
		log.Fatal(err)
	}
	claims, err := verifier.Verify(context.Background(), tok.AccessToken)
	fmt.Println(err, claims.Subject, claims.ClientID)
	// Output:
	// Bearer 1h0m0s read
	// <nil> reports reports
}

// Password login with a refresh token, then a refresh: the refresh token is
// rotated, and presenting the old one again revokes the family.
func ExampleIssuer_Token_refresh() {
	store := mint.NewMemoryStore()
	clientHash, _ := mint.HashPassword("app-secret")
	store.PutClient(&mint.Client{ID: "app", SecretHash: clientHash,
		Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}, Scopes: []string{"read", "write"}})
	userHash, _ := mint.HashPassword("john_doe_secret")
	store.PutUser(&mint.User{ID: "7", Username: "john_doe", PasswordHash: userHash})
	key, _ := mint.GenerateKey(mint.EdDSA)
	keys, _ := mint.NewKeySet(key)
	issuer, _ := mint.New(store, keys)
	ctx := context.Background()

	login, err := issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantPassword,
		ClientID: "app", ClientSecret: "app-secret", Username: "john_doe", Password: "john_doe_secret"})
	fmt.Println(err, login.User.ID, login.RefreshToken != "")

	next, err := issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken,
		ClientID: "app", ClientSecret: "app-secret", RefreshToken: login.RefreshToken, Scope: []string{"read"}})
	fmt.Println(err, next.ScopeString(), next.RefreshToken != login.RefreshToken)

	_, err = issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken,
		ClientID: "app", ClientSecret: "app-secret", RefreshToken: login.RefreshToken})
	fmt.Println(err)
	// Output:
	// <nil> 7 true
	// <nil> read true
	// mint: revoked_refresh_token: the refresh token was already used
}

// An extension grant (RFC 6749 section 4.5) registered by the host.
func ExampleWithGrant() {
	const grantType = "urn:example:grant-type:kiosk"
	kiosk := mint.GrantFunc(func(ctx context.Context, iss *mint.Issuer, r *mint.TokenRequest, c *mint.Client) (*mint.Authorization, error) {
		if r.Extra.Get("kiosk_id") == "" {
			return nil, &mint.Error{Kind: mint.KindMissingField, Field: "kiosk_id"}
		}
		return &mint.Authorization{}, nil // the client acts for itself
	})
	store := mint.NewMemoryStore()
	secret, hash, _ := mint.GenerateSecret()
	store.PutClient(&mint.Client{ID: "kiosk", SecretHash: hash, Grants: []string{grantType}})
	key, _ := mint.GenerateKey(mint.HS256)
	keys, _ := mint.NewKeySet(key)
	issuer, err := mint.New(store, keys, mint.WithGrant(grantType, kiosk))
	if err != nil {
		log.Fatal(err)
	}
	_, err = issuer.Token(context.Background(), &mint.TokenRequest{GrantType: grantType, ClientID: "kiosk", ClientSecret: secret})
	fmt.Println(err)
	// Output: mint: missing_field: missing required field kiosk_id
}

// Rotating signing keys: tokens signed by the previous key keep verifying
// until it is retired.
func ExampleKeySet_Rotate() {
	old, _ := mint.GenerateKey(mint.EdDSA)
	keys, _ := mint.NewKeySet(old)
	next, _ := mint.GenerateKey(mint.EdDSA)
	_ = keys.Rotate(next)
	fmt.Println(keys.Active() == next, len(keys.JWKS().Keys))
	_ = keys.Retire(old.ID())
	fmt.Println(len(keys.JWKS().Keys))
	// Output:
	// true 2
	// 1
}

// kmsKey stands in for a key kept in a KMS or HSM: a client library's
// crypto.Signer, whose private material never leaves the service.
type kmsKey struct{ key *rsa.PrivateKey }

func (k kmsKey) Public() crypto.PublicKey { return k.key.Public() }

func (k kmsKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.key.Sign(r, digest, opts) // a call to the KMS
}

// A KMS or HSM key signs as any crypto.Signer does: NewKey takes the
// algorithm, checked against the signer's public key, and mint calls Sign
// once per token. The JWKS publishes the public key with its alg; the
// key itself cannot be stored, since its material cannot be exported.
func ExampleNewKey() {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	key, err := mint.NewKey(mint.PS256, "kms-2026-01", kmsKey{priv})
	if err != nil {
		log.Fatal(err)
	}
	keys, err := mint.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	jwk := keys.JWKS().Keys[0]
	fmt.Println(key, jwk.Kty, jwk.Alg)
	_, err = key.Stored(1, time.Now())
	fmt.Println(err != nil)
	// Output:
	// mint.Key{PS256 kms-2026-01} RSA PS256
	// true
}
