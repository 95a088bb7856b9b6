package mint_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// clientKey is a client's key pair as the RFCs describe it: the public
// half as a JWK (RFC 7517, RFC 7518 section 6, RFC 8037), the private
// half signing client assertions (RFC 7523) and DPoP proofs (RFC 9449)
// through golang-jwt.
type clientKey struct {
	alg, kid string
	priv     crypto.Signer
}

func newClientKey(t testing.TB, alg, kid string) *clientKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case mint.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case mint.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case mint.RS256, mint.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("no test key for %s", alg)
	}
	require.NoError(t, err)
	return &clientKey{alg: alg, kid: kid, priv: priv}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// required are the members of the public JWK (RFC 7638 section 3.2).
func (k *clientKey) required() map[string]string {
	switch pub := k.priv.Public().(type) {
	case *ecdsa.PublicKey:
		raw, _ := pub.Bytes() // 0x04 || X || Y
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	}
	panic("unreachable")
}

// jwk is the public JWK with kid (when set) and alg.
func (k *clientKey) jwk() map[string]any {
	m := map[string]any{"alg": k.alg}
	for name, v := range k.required() {
		m[name] = v
	}
	if k.kid != "" {
		m["kid"] = k.kid
	}
	return m
}

// jwks is a JWK Set of keys.
func jwks(keys ...*clientKey) json.RawMessage {
	set := struct {
		Keys []map[string]any `json:"keys"`
	}{Keys: []map[string]any{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	b, _ := json.Marshal(set)
	return b
}

// thumbprint is the RFC 7638 thumbprint, computed as section 3 says:
// SHA-256 of the required members in lexicographic order, no whitespace.
// encoding/json sorts map keys, which is that order.
func (k *clientKey) thumbprint() string {
	b, _ := json.Marshal(k.required())
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

func (k *clientKey) method() jwt.SigningMethod { return jwt.GetSigningMethod(k.alg) }

// sign signs claims with header members added (or removed, when nil).
func (k *clientKey) sign(t testing.TB, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(k.method(), claims)
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(k.priv)
	require.NoError(t, err)
	return s
}

// proof is a DPoP proof (RFC 9449 section 4.2) for method and htu at now;
// edit changes its header and claims before signing.
func (k *clientKey) proof(t testing.TB, method, htu string, now time.Time, edit ...func(h map[string]any, c jwt.MapClaims)) string {
	t.Helper()
	h := map[string]any{"typ": "dpop+jwt", "jwk": k.publicJWK()}
	c := jwt.MapClaims{"jti": randomID(t), "htm": method, "htu": htu, "iat": now.Unix()}
	for _, e := range edit {
		if e != nil {
			e(h, c)
		}
	}
	return k.sign(t, h, c)
}

// publicJWK is the jwk header of a proof: the public key alone.
func (k *clientKey) publicJWK() map[string]any {
	m := map[string]any{}
	for name, v := range k.required() {
		m[name] = v
	}
	return m
}

// assertion is a private_key_jwt client assertion (RFC 7523 section 3)
// of client for aud at now; edit changes it before signing.
func (k *clientKey) assertion(t testing.TB, client, aud string, now time.Time, edit ...func(h map[string]any, c jwt.MapClaims)) string {
	t.Helper()
	h := map[string]any{"kid": k.kid}
	c := jwt.MapClaims{"iss": client, "sub": client, "aud": aud, "jti": randomID(t),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	for _, e := range edit {
		e(h, c)
	}
	return k.sign(t, h, c)
}

func randomID(t testing.TB) string {
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b64(b)
}

// answer is an HTTP answer, its JSON body decoded.
type senderAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

// sendForm POSTs form to url with extra headers (a "DPoP" value of
// several lines sends several headers).
func sendForm(t testing.TB, url string, form url.Values, header map[string]string) senderAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for name, v := range header {
		for line := range strings.SplitSeq(v, "\n") {
			req.Header.Add(name, line)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := senderAnswer{status: resp.StatusCode, header: resp.Header}
	require.NoError(t, json.Unmarshal(raw, &a.body), "body %s", raw)
	return a
}

// senderServer mounts the token, introspection and revocation endpoints
// of f's Issuer; their URLs as clients name them are issuerURL's.
func senderServer(t testing.TB, iss *mint.Issuer) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/oauth2/token", mint.TokenHandler{Issuer: iss})
	mux.Handle("/oauth2/introspect", mint.IntrospectionHandler{Issuer: iss})
	mux.Handle("/oauth2/revoke", mint.RevocationHandler{Issuer: iss})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const (
	tokenURL      = issuerURL + "/oauth2/token"
	introspectURL = issuerURL + "/oauth2/introspect"
)

// assertionForm is a client_credentials request authenticated by
// assertion.
func assertionForm(assertion string) url.Values {
	return url.Values{"grant_type": {mint.GrantClientCredentials},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion}}
}
