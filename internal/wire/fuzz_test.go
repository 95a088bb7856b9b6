package wire_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint/internal/wire"
)

// DecodeObject agrees with encoding/json on every object it accepts, and
// refuses exactly the objects with a repeated member name among those
// encoding/json accepts.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"b"}`, `{"a":1,"a":2}`, `{"a":{"a":1,"a":2}}`, `[]`, `{"a":"b"} x`, `{"\u0061":1,"a":2}`, `{"A":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		obj, err := wire.DecodeObject([]byte(s))
		var std map[string]json.RawMessage
		stdErr := json.Unmarshal([]byte(s), &std)
		if err == nil {
			if stdErr != nil {
				t.Fatalf("accepted what encoding/json refuses: %v", stdErr)
			}
			if len(obj) != len(std) {
				t.Fatalf("%d members, encoding/json %d", len(obj), len(std))
			}
			for k := range obj {
				if _, ok := std[k]; !ok {
					t.Fatalf("member %q unknown to encoding/json", k)
				}
			}
		}
	})
}

// ReadParamLists never panics, and what it accepts from a form is what
// url.ParseQuery reads, each non-repeatable name at most once.
func FuzzReadParamLists(f *testing.F) {
	for _, s := range []string{"a=b", "resource=x&resource=y", "a=1&a=2", "a=%zz", "a;b", `{"resource":["x","y"],"a":"b"}`, `{"a":["x"]}`} {
		f.Add(s, strings.HasPrefix(s, "{"))
	}
	f.Fuzz(func(t *testing.T, body string, isJSON bool) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", map[bool]string{true: "application/json", false: "application/x-www-form-urlencoded"}[isJSON])
		p, lists, err := wire.ReadParamLists(httptest.NewRecorder(), r, wire.Form|wire.JSON, "resource")
		if err != nil || isJSON {
			return
		}
		q, qerr := url.ParseQuery(body)
		if qerr != nil {
			t.Fatalf("accepted a form url.ParseQuery refuses")
		}
		for k, v := range p {
			if len(q[k]) != 1 || q[k][0] != v {
				t.Fatalf("%q = %q, url.ParseQuery %q", k, v, q[k])
			}
		}
		for _, v := range lists["resource"] {
			if v == "" {
				t.Fatal("an empty resource kept")
			}
		}
	})
}

func TestReadParamLists(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		one                     map[string]string
		many                    []string
		err                     string
	}{
		{"form", "application/x-www-form-urlencoded", "grant_type=x&resource=a&resource=b&scope=", map[string]string{"grant_type": "x"}, []string{"a", "b"}, ""},
		{"json", "application/json", `{"grant_type":"x","resource":["a","b"]}`, map[string]string{"grant_type": "x"}, []string{"a", "b"}, ""},
		{"json single", "application/json", `{"resource":"a"}`, map[string]string{}, []string{"a"}, ""},
		{"repeat", "application/x-www-form-urlencoded", "a=1&a=2", nil, nil, "more than once"},
		{"json array elsewhere", "application/json", `{"a":["x"]}`, nil, nil, "string values"},
		{"json repeat", "application/json", `{"a":"1","a":"2"}`, nil, nil, "more than once"},
		{"long S", "application/j\u017fon", `{}`, nil, nil, "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.contentType)
			one, lists, err := wire.ReadParamLists(httptest.NewRecorder(), r, wire.Form|wire.JSON, "resource")
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.one, one)
			assert.Equal(t, tt.many, lists["resource"])
		})
	}
}
