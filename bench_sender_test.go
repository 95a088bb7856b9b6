package mint_test

import (
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mintauth/mint"
)

// BenchmarkWireSenderConstrained sets client_credentials with
// private_key_jwt and a DPoP proof beside the plain-secret path, over
// loopback HTTP with keep-alive in one run (BENCHMARKS.md):
//
//		go test -run '^$' -bench WireSenderConstrained -count 6 -cpu 1 .
//
//	  - EdDSA/client_secret: a generated secret in HTTP Basic, a bearer
//	    token signed with EdDSA;
//	  - floor/CLIENTALG: a net/http handler replaying mint's DPoP answer to
//	    a client doing the same work as below;
//	  - EdDSA/private_key_jwt_dpop/CLIENTALG: a client assertion and a DPoP
//	    proof, both signed by the client with a CLIENTALG key for each
//	    request, as a real client does, and a DPoP-bound token;
//	  - client_signing/CLIENTALG: the client's part alone, in process (the
//	    assertion and the proof signed), to be told from the server's.
func BenchmarkWireSenderConstrained(b *testing.B) {
	c := wireClient(b)
	iss, store, secret := newBenchIssuer(b, mint.EdDSA, mint.WithHasher(mint.Argon2id{}))
	mintURL := wireServer(b, mint.TokenHandler{Issuer: iss})
	b.Run("EdDSA/client_secret", func(b *testing.B) {
		for b.Loop() {
			wireDrain(b, wirePost(b, c, mintURL, "grant_type=client_credentials", secret))
		}
	})
	for _, alg := range []string{mint.ES256, mint.EdDSA} {
		key := newClientKey(b, alg, "k1")
		id := "pkj-" + alg
		store.PutClient(&mint.Client{ID: id, AuthMethod: mint.AuthPrivateKeyJWT, JWKS: jwks(key),
			Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read", "write"}})
		signed := func() (body string, header map[string]string) {
			now := time.Now()
			return assertionFormFor(key.assertion(b, id, benchIssuer, now)),
				map[string]string{"DPoP": key.proof(b, http.MethodPost, benchIssuer+"/token", now)}
		}
		b.Run("floor/"+alg, func(b *testing.B) {
			body, header := signed()
			floorURL := wireFloorOf(b, wireSend(b, c, mintURL, body, header))
			for b.Loop() {
				body, header := signed()
				wireDrain(b, wireSend(b, c, floorURL, body, header))
			}
		})
		b.Run("EdDSA/private_key_jwt_dpop/"+alg, func(b *testing.B) {
			for b.Loop() {
				body, header := signed()
				wireDrain(b, wireSend(b, c, mintURL, body, header))
			}
		})
		b.Run("client_signing/"+alg, func(b *testing.B) {
			for b.Loop() {
				signed()
			}
		})
	}
}

func assertionFormFor(assertion string) string {
	return url.Values{"grant_type": {mint.GrantClientCredentials},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion}}.Encode()
}

// wireSend POSTs a form body with header and fails unless the answer is
// 200; the caller reads and closes the body.
func wireSend(b *testing.B, c *http.Client, url, body string, header map[string]string) *http.Response {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.Fatalf("status %d: %s", resp.StatusCode, msg)
	}
	return resp
}

// wireFloorOf serves, on a server of its own, the answer resp, replayed.
func wireFloorOf(b *testing.B, resp *http.Response) string {
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	headers := resp.Header.Clone()
	headers.Del("Date")
	headers.Del("Content-Length")
	return wireServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		maps.Copy(w.Header(), headers)
		_, _ = w.Write(answer)
	}))
}
