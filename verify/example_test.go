package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// A second service verifies mint's tokens knowing only the issuer's URL:
// Discover reads the RFC 8414 metadata, then the JWKS it names.
func ExampleDiscover() {
	ctx := context.Background()

	// The authorization server: an Issuer with an EdDSA key, its metadata
	// and its JWKS.
	mux := http.NewServeMux()
	auth := httptest.NewServer(mux)
	defer auth.Close()
	key, _ := mint.GenerateKey(mint.EdDSA)
	keys, _ := mint.NewKeySet(key)
	store := mint.NewMemoryStore()
	secret, hash, _ := mint.GenerateSecret()
	store.PutClient(&mint.Client{ID: "billing", SecretHash: hash,
		Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"invoices:read"}})
	issuer, _ := mint.New(store, keys, mint.WithIssuer(auth.URL), mint.WithAudience("invoices-api"),
		mint.WithLogger(slog.New(slog.DiscardHandler)))
	meta, _ := mint.MetadataHandler(issuer, mint.Metadata{
		TokenEndpoint: auth.URL + "/oauth2/token",
		JWKSURI:       auth.URL + "/.well-known/jwks.json",
	})
	mux.Handle("/.well-known/oauth-authorization-server", meta)
	mux.Handle("/.well-known/jwks.json", mint.JWKSHandler(keys))
	tok, _ := issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientID: "billing", ClientSecret: secret})

	// The resource server, in another process: the issuer's URL and its
	// own audience are all it needs.
	verifier, err := verify.Discover(ctx, auth.URL, "invoices-api")
	if err != nil {
		fmt.Println(err)
		return
	}
	invoices := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verify.FromContext(r.Context())
		fmt.Fprintln(w, claims.ClientID, claims.Scope)
	})
	api := httptest.NewServer(verify.Bearer(verifier, "invoices")(verify.RequireScope("invoices:read")(invoices)))
	defer api.Close()

	req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, _ := http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))

	resp, _ = http.Get(api.URL)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	// Output:
	// 200 billing invoices:read
	// 401 Bearer realm="invoices"
}

// A user's endpoint refuses a client's own token, even when the client's
// id equals a user's id, and reads the host's claims.
func ExampleRequireUser() {
	ctx := context.Background()
	key, _ := mint.GenerateKey(mint.EdDSA)
	keys, _ := mint.NewKeySet(key)
	store := mint.NewMemoryStore()
	secret, hash, _ := mint.GenerateSecret()
	store.PutClient(&mint.Client{ID: "1", SecretHash: hash,
		Grants: []string{mint.GrantClientCredentials}})
	issuer, _ := mint.New(store, keys, mint.WithIssuer("https://auth.example.com"), mint.WithAudience("api"),
		mint.WithLogger(slog.New(slog.DiscardHandler)),
		mint.WithClaims(func(context.Context, *mint.ClaimsRequest) (map[string]any, error) {
			return map[string]any{"tenant_id": "acme"}, nil
		}))
	tok, _ := issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "1", ClientSecret: secret})

	verifier, _ := verify.New(keys, "https://auth.example.com", "api")
	claims, _ := verifier.Verify(ctx, tok.AccessToken)
	fmt.Printf("sub=%s sub_type=%s user=%q tenant=%v\n", claims.Subject, claims.SubjectType, claims.UserID, claims.Extra["tenant_id"])

	profile := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.FromContext(r.Context())
		fmt.Fprintln(w, "profile of user", c.UserID)
	})
	api := httptest.NewServer(verify.Bearer(verifier, "api")(verify.RequireUser(profile)))
	defer api.Close()
	req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// sub=1 sub_type=client user="" tenant=acme
	// 403
}

// A resource that takes DPoP-bound access tokens (RFC 9449): the client
// sends `Authorization: DPoP <token>` and, in a DPoP header, a proof for
// this request signed by the key the token is bound to (cnf.jkt). The
// same token sent as Bearer is refused.
func ExampleVerifier_VerifyDPoP() {
	// The issuer's key, and a token bound to the client's key (an issuer
	// that mints bound tokens puts its RFC 7638 thumbprint in cnf.jkt).
	key, _ := mint.GenerateKey(mint.EdDSA)
	keys, _ := mint.NewKeySet(key)
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := clientKey.PublicKey.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := map[string]any{"kty": "EC", "crv": "P-256", "x": b64(pub[1:33]), "y": b64(pub[33:])}
	jkt := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + b64(pub[1:33]) + `","y":"` + b64(pub[33:]) + `"}`))
	now := time.Now()
	at := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "https://auth.example.com", "sub": "billing",
		"aud": "invoices-api", "client_id": "billing", "exp": now.Add(time.Hour).Unix(), "jti": "t1",
		"cnf": map[string]any{"jkt": b64(jkt[:])}})
	at.Header["typ"], at.Header["kid"] = "at+jwt", key.ID()
	token, _ := at.SignedString(key.Private())

	// The resource server, reached by its clients at https://api.example.com.
	verifier, _ := verify.New(keys, "https://auth.example.com", "invoices-api",
		verify.WithDPoPOrigin("https://api.example.com"))
	invoices := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := verify.FromContext(r.Context())
		fmt.Fprintln(w, "invoices of", claims.ClientID)
	})
	api := httptest.NewServer(verify.Bearer(verifier, "invoices")(invoices))
	defer api.Close()

	// The client: a fresh proof for each request.
	ath := sha256.Sum256([]byte(token))
	proof := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"jti": "p1", "htm": "GET",
		"htu": "https://api.example.com/invoices", "iat": time.Now().Unix(), "ath": b64(ath[:])})
	proof.Header["typ"], proof.Header["jwk"] = "dpop+jwt", jwk
	signed, _ := proof.SignedString(clientKey)
	req, _ := http.NewRequest(http.MethodGet, api.URL+"/invoices", nil)
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", signed)
	resp, _ := http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))

	req, _ = http.NewRequest(http.MethodGet, api.URL+"/invoices", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Values("WWW-Authenticate")[1])
	// Output:
	// 200 invoices of billing
	// 401 DPoP realm="invoices", algs="ES256 PS256 RS256 EdDSA"
}
