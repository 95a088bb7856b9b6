package dpop_test

import (
	"strconv"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/dpop"
)

// BenchmarkCheck is the resource server's share of a DPoP request in
// process: Check of an ES256 proof with ath.
func BenchmarkCheck(b *testing.B) {
	c := newClient(b, "ES256")
	proof := c.proof(b, claims())
	p := params()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dpop.Check(proof, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign is the client's share: a new ES256 proof signed with
// golang-jwt, as BenchmarkWire/dpop in ./verify makes one per request.
func BenchmarkSign(b *testing.B) {
	c := newClient(b, "ES256")
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		tok := jwt.NewWithClaims(c.method, jwt.MapClaims{"jti": strconv.Itoa(n), "htm": "GET",
			"htu": "https://server.example.com/resource", "iat": now.Unix(), "ath": dpop.ATH("token")})
		tok.Header["typ"], tok.Header["jwk"] = "dpop+jwt", c.jwk
		if _, err := tok.SignedString(c.priv); err != nil {
			b.Fatal(err)
		}
	}
}
