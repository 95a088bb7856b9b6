package dpop_test

import (
	"testing"

	"github.com/mintauth/mint/internal/dpop"
)

// FuzzCheck feeds any string to Check as a proof: no panic, every
// refusal an *Error with a description, and an accepted proof has a
// thumbprint and a jti.
func FuzzCheck(f *testing.F) {
	c := newClient(f, "ES256")
	ed := newClient(f, "EdDSA")
	f.Add(c.proof(f, claims()))
	f.Add(ed.proof(f, claims("nonce", "n")))
	f.Add(c.proof(f, claims("htu", "https://server.example.com/%7Eresource/./x/..")))
	f.Add(c.proof(f, claims(), "typ", "JWT"))
	f.Add(c.sign(f, c.method, c.priv, `{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","kty":"EC"}}`, `{}`))
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.")
	f.Fuzz(func(t *testing.T, proof string) {
		p, err := dpop.Check(proof, params())
		if err != nil {
			de, ok := err.(*dpop.Error)
			if !ok || de.Error() == "" {
				t.Fatalf("refusal %T %v is not an *Error with a description", err, err)
			}
			return
		}
		if len(p.JKT) != 43 || p.JTI == "" {
			t.Fatalf("accepted a proof with thumbprint %q and jti %q", p.JKT, p.JTI)
		}
	})
}
