package mint_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint"
)

// A client that authenticates with its own key (private_key_jwt) and
// binds its token to a DPoP key, under the FAPI 2.0 profile. The client's
// side, an assertion and a proof, is signed with golang-jwt; a real
// client sends them as the client_assertion parameter and the DPoP header
// of a request to a TokenHandler.
func ExampleWithFAPI2() {
	pub, priv, err := ed25519.GenerateKey(rand.Reader) // the client's key; the server knows only pub
	if err != nil {
		log.Fatal(err)
	}
	jwk := map[string]string{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub)}
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]string{
		"kty": "OKP", "crv": "Ed25519", "x": jwk["x"], "kid": "billing-1", "alg": "EdDSA"}}})

	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: "billing", AuthMethod: mint.AuthPrivateKeyJWT, JWKS: jwks,
		Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"invoices"}})
	key, err := mint.GenerateKey(mint.EdDSA)
	if err != nil {
		log.Fatal(err)
	}
	keys, err := mint.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	const issuerURL = "https://auth.example.com"
	issuer, err := mint.New(store, keys, mint.WithIssuer(issuerURL), mint.WithFAPI2())
	if err != nil {
		log.Fatal(err)
	}

	now := time.Now()
	assertion := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "billing", "sub": "billing",
		"aud": issuerURL, "jti": rand.Text(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
	assertion.Header["kid"] = "billing-1"
	signedAssertion, _ := assertion.SignedString(priv)
	proof := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"jti": rand.Text(), "htm": "POST",
		"htu": issuerURL + "/oauth2/token", "iat": now.Unix()})
	proof.Header["typ"], proof.Header["jwk"] = "dpop+jwt", jwk
	signedProof, _ := proof.SignedString(priv)

	tok, err := issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientAssertion: signedAssertion, DPoP: signedProof, URL: issuerURL + "/oauth2/token"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.ScopeString())

	_, err = issuer.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientAssertion: signedAssertion, DPoP: signedProof, URL: issuerURL + "/oauth2/token"})
	fmt.Println(err)
	// Output:
	// DPoP invoices
	// mint: invalid_client_assertion: client assertion jti was already used
}
