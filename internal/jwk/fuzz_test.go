package jwk_test

import (
	"encoding/json"
	"testing"

	"github.com/mintauth/mint/internal/jwk"
)

// FuzzParse feeds any document to Parse, ParseSet and Thumbprint: no
// panic, and every key accepted has a public key and one of the four
// algorithms.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		rfc7638Key, `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`,
		`{"kty":"OKP","crv":"Ed25519","x":"a","d":"b"}`, `{"kty":"RSA","n":"AQAB","e":"AQAB","e":"AQAB"}`,
		`{"keys":[{"kty":"oct","k":"AA"}]}`, `[]`, `{"kty":"EC","crv":"P-256","x":"","y":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if k, err := jwk.Parse(json.RawMessage(doc)); err == nil {
			checkKey(t, k)
		}
		if keys, err := jwk.ParseSet(doc); err == nil {
			for _, k := range keys {
				checkKey(t, k)
			}
		}
		if tp, err := jwk.Thumbprint(json.RawMessage(doc)); err == nil && len(tp) != 43 {
			t.Fatalf("thumbprint %q is not 43 characters", tp)
		}
	})
}

func checkKey(t *testing.T, k jwk.Key) {
	t.Helper()
	if k.Public == nil {
		t.Fatal("accepted a key without a public key")
	}
	switch k.Alg {
	case jwk.RS256, jwk.PS256, jwk.ES256, jwk.EdDSA:
	default:
		t.Fatalf("accepted a key for %q", k.Alg)
	}
}
