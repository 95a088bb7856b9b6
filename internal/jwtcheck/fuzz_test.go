package jwtcheck_test

import (
	"encoding/json"
	"testing"

	"github.com/mintauth/mint/internal/jwtcheck"
)

// FuzzClaims feeds any payload to the claims decoder: no panic; what it
// accepts is one valid JSON object, with a valid scope and no reserved
// name among the extra claims, each of which is valid JSON.
func FuzzClaims(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"iss":"a","sub":"b","aud":["c"],"exp":1,"scope":"read write","sub_type":"user","tenant_id":"acme"}`,
		`{"exp":1,"exp":2}`, `{"act":{"sub":"svc","sub":"x"}}`, `{"EXP":1,"Sub_Type":"user","n":1e400}`,
		`{"roles":[1,2],"limits":{"rps":5},"flags":["beta"],"x":null}`, `[]`, `{"scope":"a  b"}`, `{"exp":9007199254740993}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var c jwtcheck.Claims
		if err := c.UnmarshalJSON(payload); err != nil {
			return
		}
		if !json.Valid(payload) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		if c.Scope != "" && !jwtcheck.ValidScope(c.Scope) {
			t.Fatalf("accepted the malformed scope %q", c.Scope)
		}
		for name, raw := range c.Extra {
			if jwtcheck.Reserved(name) {
				t.Fatalf("the reserved claim %q is among the extras", name)
			}
			if !json.Valid(raw) {
				t.Fatalf("extra claim %q is not valid JSON: %q", name, raw)
			}
		}
	})
}
