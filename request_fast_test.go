package mint

// White-box differential tests: the allocation-free request parsers must
// agree with the encoding/json and net/url paths they shortcut, so the
// dialects' behaviour (and their error wording) cannot drift.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var paramBodies = []string{
	"", "grant_type=client_credentials", "a=1&b=2", "a=1&a=2", "a=&a=1", "a=1&a=", "&&a=1&&", "a",
	"a=b=c", "scope=read+write", "x=%41%42", "x=%zz", "x=1;y=2", "%3D=1", "a=1&%61=2", "+=+", "=1",
	`{"grant_type":"client_credentials","client_id":"c","client_secret":"s"}`, `{}`, ` { } `, `{"a":"1",}`,
	`{"a":1}`, `{"a":"1","a":"2"}`, `{"a":"","a":"1"}`, `{"a":"1"} x`, `{"a":"\u0041"}`, `{"a":"1","\u0061":"2"}`,
	`{"a":"é"}`, "{\"a\":\"\xff\"}", `[]`, `"a"`, `{"a":"1"`, `{"a" : "1" , "b":"2"}`, `{"a":null}`, "{\"a\":\"\t\"}",
	`{"a":"1"}{}`, `{,}`, `{"a":"1",,"b":"2"}`, `{"":"x"}`, `{"a":"\\"}`,
}

func TestFastParamsAgreeWithSlow(t *testing.T) {
	for _, body := range paramBodies {
		checkFastForm(t, body)
		checkFastJSON(t, body)
	}
}

func FuzzFastParams(f *testing.F) {
	for _, b := range paramBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkFastForm(t, body)
		checkFastJSON(t, body)
	})
}

func checkFastForm(t *testing.T, body string) {
	fast, ok := fastFormParams(body)
	if !ok {
		return
	}
	slow, err := slowFormParams(body)
	require.Nil(t, err, "fast form parser accepted %q", body)
	assert.Equal(t, slow, fast, "form %q", body)
}

func checkFastJSON(t *testing.T, body string) {
	fast, ok := fastJSONParams(body)
	if !ok {
		return
	}
	slow, err := slowJSONParams(body)
	require.Nil(t, err, "fast JSON parser accepted %q", body)
	assert.Equal(t, slow, fast, "JSON %q", body)
}

func TestParseBasicMatchesNetHTTP(t *testing.T) {
	for _, h := range []string{"Basic YTpi", "basic YTpi", "BASIC YTpi", "Basic ", "Basic YQ==", "Basic YTo=",
		"Basic Og==", "Basic !!!", "Bearer YTpi", "Basic  YTpi", "Basic YTpiOmM=", "Basi", ""} {
		r := http.Request{Header: http.Header{"Authorization": {h}}}
		wantID, wantSecret, wantOK := r.BasicAuth()
		id, secret, ok := parseBasic(h)
		assert.Equal(t, wantOK, ok, h)
		if ok {
			assert.Equal(t, formUnescape(wantID), id, h)
			assert.Equal(t, formUnescape(wantSecret), secret, h)
		}
	}
}

// fastFormParams is fastFormParamsInto into a fresh map, nil when it
// declines.
func fastFormParams(body string) (map[string]string, bool) {
	params := make(map[string]string, 8)
	if !fastFormParamsInto(body, params) {
		return nil, false
	}
	return params, true
}

// fastJSONParams is fastJSONParamsInto into a fresh map, nil when it
// declines.
func fastJSONParams(body string) (map[string]string, bool) {
	params := make(map[string]string, 8)
	if !fastJSONParamsInto(body, params) {
		return nil, false
	}
	return params, true
}
