package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/verify"
)

// dpopClient is a DPoP client written from RFC 9449: a key pair whose
// public JWK travels in each proof's header, and whose RFC 7638
// thumbprint the issuer put in the token's cnf.jkt.
type dpopClient struct {
	method jwt.SigningMethod
	priv   crypto.Signer
	jwk    map[string]any
	jkt    string
}

var dpopRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newDPoPClient(t testing.TB, alg string) *dpopClient {
	t.Helper()
	c := &dpopClient{}
	var members []string // RFC 7638 section 3.2: the required members, in lexicographic order
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		raw, err := k.PublicKey.Bytes()
		require.NoError(t, err)
		c.method, c.priv = jwt.SigningMethodES256, k
		members = []string{"crv", "P-256", "kty", "EC", "x", b64url(raw[1:33]), "y", b64url(raw[33:])}
	case "EdDSA":
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		c.method, c.priv = jwt.SigningMethodEdDSA, k
		members = []string{"crv", "Ed25519", "kty", "OKP", "x", b64url(pub)}
	case "PS256":
		k := dpopRSAKey()
		c.method, c.priv = jwt.SigningMethodPS256, k
		members = []string{"e", b64url(big.NewInt(int64(k.E)).Bytes()), "kty", "RSA", "n", b64url(k.N.Bytes())}
	}
	c.jwk = map[string]any{}
	var canon []string
	for i := 0; i < len(members); i += 2 {
		c.jwk[members[i]] = members[i+1]
		canon = append(canon, `"`+members[i]+`":"`+members[i+1]+`"`)
	}
	sum := sha256.Sum256([]byte("{" + strings.Join(canon, ",") + "}"))
	c.jkt = b64url(sum[:])
	return c
}

// proofClaims are the claims of a proof for a request with the token.
func proofClaims(f *rsFixture, method, url, token string) jwt.MapClaims {
	sum := sha256.Sum256([]byte(token))
	return jwt.MapClaims{"jti": b64url([]byte(time.Now().String() + url + method + randomJTI())), "htm": method, "htu": url,
		"iat": f.clock.Now().Unix(), "ath": b64url(sum[:])}
}

func randomJTI() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return b64url(b)
}

// sign makes a proof with golang-jwt: header typ dpop+jwt and the
// client's public jwk.
func (c *dpopClient) sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(c.method, claims)
	tok.Header["typ"] = "dpop+jwt"
	tok.Header["jwk"] = c.jwk
	s, err := tok.SignedString(c.priv)
	require.NoError(t, err)
	return s
}

// boundToken is an access token of the fixture's issuer bound to jkt.
func (f *rsFixture) boundToken(t testing.TB, jkt string, extra ...string) string {
	return f.rawToken(t, "", `,"exp":`+f.exp()+`,"iat":`+jsonInt(f.clock.Now().Unix())+`,"scope":"read","cnf":{"jkt":"`+jkt+`"}`+strings.Join(extra, ""))
}

type dpopAnswer struct {
	status     int
	challenges []string
	nonce      string
	body       map[string]any
}

func dpopDo(t testing.TB, method, url string, headers ...string) dpopAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := dpopAnswer{status: resp.StatusCode, challenges: resp.Header.Values("WWW-Authenticate"), nonce: resp.Header.Get("DPoP-Nonce")}
	require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	if a.status == http.StatusOK {
		assert.Empty(t, a.challenges, "a 200 never carries a challenge")
	} else {
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
	return a
}

const algs = `algs="ES256 PS256 RS256 EdDSA"`

func dpopChallenge(code, desc string) string {
	return `DPoP realm="api", error="` + code + `", error_description="` + desc + `", ` + algs
}

// dpopServer mounts /me behind Bearer and /write behind
// RequireScope("write"); log collects the Verifier's log.
func dpopServer(t testing.TB, f *rsFixture, opts ...verify.Option) (*httptest.Server, *bytes.Buffer) {
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := f.verifier(append([]verify.Option{verify.WithLogger(logger)}, opts...)...)
	require.NoError(t, err)
	mw := verify.Bearer(v, "api")
	mux := http.NewServeMux()
	mux.Handle("/me", mw(meHandler))
	mux.Handle("/write", mw(verify.RequireScope("write")(meHandler)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &log
}

func TestDPoPGoodRequests(t *testing.T) {
	f := newRSFixture(t)
	srv, _ := dpopServer(t, f)
	for _, alg := range []string{"ES256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			c := newDPoPClient(t, alg)
			tok := f.boundToken(t, c.jkt)
			a := dpopDo(t, "GET", srv.URL+"/me", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", srv.URL+"/me", tok)))
			require.Equal(t, http.StatusOK, a.status, "%v", a.body)
			assert.Equal(t, "app", a.body["sub"])
			a = dpopDo(t, "GET", srv.URL+"/me", "Authorization", "dpop "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", srv.URL+"/me", tok)))
			assert.Equal(t, http.StatusOK, a.status, "the scheme is case-insensitive")
		})
	}
	t.Run("POST", func(t *testing.T) {
		c := newDPoPClient(t, "ES256")
		tok := f.boundToken(t, c.jkt)
		a := dpopDo(t, "POST", srv.URL+"/me", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "POST", srv.URL+"/me", tok)))
		assert.Equal(t, http.StatusOK, a.status)
	})
	t.Run("query left out of htu", func(t *testing.T) {
		c := newDPoPClient(t, "ES256")
		tok := f.boundToken(t, c.jkt)
		a := dpopDo(t, "GET", srv.URL+"/me?page=2", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", srv.URL+"/me", tok)))
		assert.Equal(t, http.StatusOK, a.status)
	})
	t.Run("two clients may use the same jti", func(t *testing.T) {
		c1, c2 := newDPoPClient(t, "ES256"), newDPoPClient(t, "EdDSA")
		for _, c := range []*dpopClient{c1, c2} {
			tok := f.boundToken(t, c.jkt)
			claims := proofClaims(f, "GET", srv.URL+"/me", tok)
			claims["jti"] = "shared-jti"
			a := dpopDo(t, "GET", srv.URL+"/me", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, claims))
			assert.Equal(t, http.StatusOK, a.status)
		}
	})
}

func TestDPoPRefusals(t *testing.T) {
	f := newRSFixture(t)
	srv, log := dpopServer(t, f)
	c, other := newDPoPClient(t, "ES256"), newDPoPClient(t, "ES256")
	tok := f.boundToken(t, c.jkt)
	url := srv.URL + "/me"
	good := func() jwt.MapClaims { return proofClaims(f, "GET", url, tok) }
	with := func(kv ...any) jwt.MapClaims {
		cl := good()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(cl, kv[i].(string))
			} else {
				cl[kv[i].(string)] = kv[i+1]
			}
		}
		return cl
	}
	header := func(alg string, jwk any) map[string]any {
		return map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jwk}
	}
	ed := newDPoPClient(t, "EdDSA")
	private := map[string]any{"d": b64url(ed.priv.(ed25519.PrivateKey).Seed())}
	for k, v := range ed.jwk {
		private[k] = v
	}
	edTok := f.boundToken(t, ed.jkt)
	wrongTyp := jwt.NewWithClaims(c.method, good())
	wrongTyp.Header["typ"], wrongTyp.Header["jwk"] = "JWT", c.jwk
	wrongTypProof, err := wrongTyp.SignedString(c.priv)
	require.NoError(t, err)
	expired := f.rawToken(t, "", `,"exp":`+jsonInt(f.clock.Now().Add(-time.Hour).Unix())+`,"cnf":{"jkt":"`+c.jkt+`"}`)
	bearerTok := f.accessToken(t, "app").AccessToken
	replayed := c.sign(t, good())
	require.Equal(t, http.StatusOK, dpopDo(t, "GET", url, "Authorization", "DPoP "+tok, "DPoP", replayed).status)

	for _, tc := range []struct {
		name      string
		headers   []string
		challenge string
	}{
		{"wrong typ", []string{"Authorization", "DPoP " + tok, "DPoP", wrongTypProof},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof typ is not dpop+jwt")},
		{"alg none", []string{"Authorization", "DPoP " + tok, "DPoP", forge(t, header("none", c.jwk), good(), nil, nil)},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof alg is not allowed")},
		{"alg HS256", []string{"Authorization", "DPoP " + tok, "DPoP", forge(t, header("HS256", c.jwk), good(), jwt.SigningMethodHS256, []byte("secret"))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof alg is not allowed")},
		{"private jwk", []string{"Authorization", "DPoP " + edTok, "DPoP", forge(t, header("EdDSA", private), proofClaims(f, "GET", url, edTok), jwt.SigningMethodEdDSA, ed.priv)},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof jwk holds a private key")},
		{"htm mismatch", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, with("htm", "POST"))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof htm does not match the request")},
		{"htu of another path", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, with("htu", srv.URL+"/other"))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof htu does not match the request")},
		{"htu of another origin", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, with("htu", "https://api.example.com/me"))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof htu does not match the request")},
		{"htu with a query", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, with("htu", url+"?a=b"))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof htu does not match the request")},
		{"iat too old", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, with("iat", f.clock.Now().Add(-61*time.Second).Unix()))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof is too old")},
		{"iat ahead", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, with("iat", f.clock.Now().Add(61*time.Second).Unix()))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof is issued in the future")},
		{"replayed jti", []string{"Authorization", "DPoP " + tok, "DPoP", replayed},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof was already used")},
		{"missing ath", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, with("ath", nil))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof has no ath")},
		{"wrong ath", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, proofClaims(f, "GET", url, edTok))},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof ath does not match the access token")},
		{"proof by another key than cnf.jkt", []string{"Authorization", "DPoP " + tok, "DPoP", other.sign(t, good())},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof key is not the one the access token is bound to")},
		{"no proof", []string{"Authorization", "DPoP " + tok},
			dpopChallenge("invalid_dpop_proof", "give exactly one DPoP proof")},
		{"two proofs", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, good()), "DPoP", c.sign(t, good())},
			dpopChallenge("invalid_dpop_proof", "give exactly one DPoP proof")},
		{"two proofs in one header", []string{"Authorization", "DPoP " + tok, "DPoP", c.sign(t, good()) + ", " + c.sign(t, good())},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof is not one compact JWS")},
		{"garbage proof", []string{"Authorization", "DPoP " + tok, "DPoP", "a.b.c"},
			dpopChallenge("invalid_dpop_proof", "the DPoP proof is malformed")},
		{"expired token", []string{"Authorization", "DPoP " + expired, "DPoP", c.sign(t, proofClaims(f, "GET", url, expired))},
			dpopChallenge("invalid_token", "the access token expired")},
		{"bearer token with the DPoP scheme", []string{"Authorization", "DPoP " + bearerTok, "DPoP", c.sign(t, proofClaims(f, "GET", url, bearerTok))},
			dpopChallenge("invalid_token", "the access token is not DPoP-bound")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log.Reset()
			a := dpopDo(t, "GET", url, tc.headers...)
			assert.Equal(t, http.StatusUnauthorized, a.status)
			assert.Equal(t, []string{tc.challenge}, a.challenges)
			assert.Empty(t, a.nonce)
			code, _, _ := strings.Cut(strings.TrimPrefix(tc.challenge, `DPoP realm="api", error="`), `"`)
			assert.Equal(t, code, a.body["error"])
			assert.NotEmpty(t, a.body["error_description"])
			assert.Contains(t, log.String(), "verify: request refused", "every refusal is logged")
			for i := 1; i < len(tc.headers); i += 2 {
				assert.NotContains(t, log.String(), strings.TrimPrefix(tc.headers[i], "DPoP "), "no token or proof in the log")
			}
		})
	}
}

// TestDPoPBoundTokenAsBearer: a bound token sent with the Bearer scheme
// is refused (RFC 9449 section 7.2), and the DPoP scheme offered.
func TestDPoPBoundTokenAsBearer(t *testing.T) {
	f := newRSFixture(t)
	srv, log := dpopServer(t, f)
	c := newDPoPClient(t, "ES256")
	tok := f.boundToken(t, c.jkt)
	a := dpopDo(t, "GET", srv.URL+"/me", "Authorization", "Bearer "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", srv.URL+"/me", tok)))
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Equal(t, []string{
		`Bearer realm="api", error="invalid_token", error_description="the access token is DPoP-bound: send it with the DPoP scheme and a proof"`,
		`DPoP realm="api", ` + algs}, a.challenges)
	assert.Equal(t, "invalid_token", a.body["error"])
	assert.Contains(t, log.String(), "invalid_token")
	assert.NotContains(t, log.String(), tok)

	// Plain bearer tokens are unchanged.
	a = dpopDo(t, "GET", srv.URL+"/me", "Authorization", "Bearer "+f.accessToken(t, "app").AccessToken)
	assert.Equal(t, http.StatusOK, a.status)
}

// TestDPoPChallenges: a DPoP option offers the scheme to a request without
// a token; without one the answer is the Bearer one alone, as before.
func TestDPoPChallenges(t *testing.T) {
	f := newRSFixture(t)
	plain, log := dpopServer(t, f)
	a := dpopDo(t, "GET", plain.URL+"/me")
	assert.Equal(t, []string{`Bearer realm="api"`}, a.challenges)
	assert.Contains(t, log.String(), "no access token", "refusals are logged")

	offered, _ := dpopServer(t, f, verify.WithDPoPWindow(30*time.Second))
	a = dpopDo(t, "GET", offered.URL+"/me")
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Equal(t, []string{`Bearer realm="api"`, `DPoP realm="api", ` + algs}, a.challenges)
	a = dpopDo(t, "GET", offered.URL+"/me", "Authorization", "DPoP")
	assert.Equal(t, []string{`Bearer realm="api"`, `DPoP realm="api", ` + algs}, a.challenges, "the scheme alone is no token")

	// A DPoP token without the scope RequireScope wants: 403 in the DPoP scheme.
	c := newDPoPClient(t, "EdDSA")
	tok := f.boundToken(t, c.jkt)
	a = dpopDo(t, "GET", plain.URL+"/write", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", plain.URL+"/write", tok)))
	assert.Equal(t, http.StatusForbidden, a.status)
	assert.Equal(t, []string{`DPoP realm="api", error="insufficient_scope", error_description="the access token lacks a required scope", scope="write", ` + algs}, a.challenges)
}

func TestDPoPOrigin(t *testing.T) {
	f := newRSFixture(t)
	srv, _ := dpopServer(t, f, verify.WithDPoPOrigin("https://API.example.com:443/"))
	c := newDPoPClient(t, "ES256")
	tok := f.boundToken(t, c.jkt)
	a := dpopDo(t, "GET", srv.URL+"/me", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", "https://api.example.com/me", tok)))
	assert.Equal(t, http.StatusOK, a.status, "%v", a.body)
	a = dpopDo(t, "GET", srv.URL+"/me", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", srv.URL+"/me", tok)))
	assert.Equal(t, http.StatusUnauthorized, a.status, "the request's own host is not the configured origin")

	behindProxy, _ := dpopServer(t, f, verify.WithDPoPOrigin("https://api.example.com/v1/"))
	a = dpopDo(t, "GET", behindProxy.URL+"/me", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", "https://api.example.com/v1/me", tok)))
	assert.Equal(t, http.StatusOK, a.status, "a base URL whose path a proxy strips: %v", a.body)

	for _, bad := range []string{"", "api.example.com", "https://api.example.com?x", "https://u@api.example.com", "ftp://api.example.com", "https://api.example.com#f"} {
		_, err := f.verifier(verify.WithDPoPOrigin(bad))
		assert.Error(t, err, "%q", bad)
	}
	for _, bad := range []verify.Option{verify.WithDPoPWindow(0), verify.WithDPoPWindow(6 * time.Minute), verify.WithReplayStore(nil), verify.WithDPoPNonce([]byte("short"))} {
		_, err := f.verifier(bad)
		assert.Error(t, err)
	}
}

func TestDPoPNonce(t *testing.T) {
	f := newRSFixture(t)
	srv, _ := dpopServer(t, f, verify.WithDPoPNonce([]byte("a nonce key of enough bytes")))
	c := newDPoPClient(t, "ES256")
	tok := f.boundToken(t, c.jkt)
	url := srv.URL + "/me"

	a := dpopDo(t, "GET", url, "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", url, tok)))
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Equal(t, []string{dpopChallenge("use_dpop_nonce", "the DPoP proof needs a fresh server nonce")}, a.challenges)
	assert.Equal(t, "use_dpop_nonce", a.body["error"])
	require.NotEmpty(t, a.nonce)

	claims := proofClaims(f, "GET", url, tok)
	claims["nonce"] = a.nonce
	ok := dpopDo(t, "GET", url, "Authorization", "DPoP "+tok, "DPoP", c.sign(t, claims))
	assert.Equal(t, http.StatusOK, ok.status, "%v", ok.body)
	assert.Equal(t, a.nonce, ok.nonce, "a success carries the current nonce too")

	f.clock.Advance(2*time.Minute + time.Second)
	claims = proofClaims(f, "GET", url, tok)
	claims["nonce"] = a.nonce
	stale := dpopDo(t, "GET", url, "Authorization", "DPoP "+tok, "DPoP", c.sign(t, claims))
	assert.Equal(t, http.StatusUnauthorized, stale.status)
	assert.Equal(t, "use_dpop_nonce", stale.body["error"])
	assert.NotEqual(t, a.nonce, stale.nonce, "a new nonce")

	claims["nonce"] = "not-a-nonce"
	assert.Equal(t, "use_dpop_nonce", dpopDo(t, "GET", url, "Authorization", "DPoP "+tok, "DPoP", c.sign(t, claims)).body["error"])
}

type failingReplay struct{}

func (failingReplay) UseOnce(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("down")
}

func TestDPoPReplayStoreFailing(t *testing.T) {
	f := newRSFixture(t)
	srv, log := dpopServer(t, f, verify.WithReplayStore(failingReplay{}))
	c := newDPoPClient(t, "ES256")
	tok := f.boundToken(t, c.jkt)
	a := dpopDo(t, "GET", srv.URL+"/me", "Authorization", "DPoP "+tok, "DPoP", c.sign(t, proofClaims(f, "GET", srv.URL+"/me", tok)))
	assert.Equal(t, http.StatusServiceUnavailable, a.status, "a broken replay store never lets a proof through")
	assert.Equal(t, "temporarily_unavailable", a.body["error"])
	assert.Contains(t, log.String(), "replay store")
}

func TestVerifyDPoPOutsideTheMiddleware(t *testing.T) {
	f := newRSFixture(t)
	v, err := f.verifier()
	require.NoError(t, err)
	c := newDPoPClient(t, "EdDSA")
	tok := f.boundToken(t, c.jkt)
	req := httptest.NewRequest("DELETE", "http://api.internal/items/7", nil)
	req.Header.Set("Authorization", "DPoP "+tok)
	req.Header.Set("DPoP", c.sign(t, proofClaims(f, "DELETE", "http://api.internal/items/7", tok)))
	claims, err := v.VerifyDPoP(req)
	require.NoError(t, err)
	assert.Equal(t, c.jkt, claims.JKT)

	_, err = v.VerifyDPoP(req)
	assert.ErrorIs(t, err, verify.ErrInvalidProof, "replayed")
	var pe *verify.InvalidProofError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "the DPoP proof was already used", pe.Reason)

	req.Header.Set("Authorization", "Bearer "+tok)
	_, err = v.VerifyDPoP(req)
	assert.ErrorIs(t, err, verify.ErrInvalidToken, "no DPoP scheme")

	claims, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, c.jkt, claims.JKT, "Verify reports the binding")
}
