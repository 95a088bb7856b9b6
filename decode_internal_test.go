package mint

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TokenHandler decodes with mint's own dialects into a TokenRequest on its
// stack (decodeTokenRequest); a host calling DecodeTokenRequest, or a
// Dialect wrapping one of them, gets the request through the exported
// method. Both must see the same request and the same errors.
func TestStackDecodeMatchesDecodeTokenRequest(t *testing.T) {
	dialects := map[string]Dialect{
		"oauth2":            OAuth2Dialect{},
		"oauth2 form only":  OAuth2Dialect{FormOnly: true, NoRefreshToken: true},
		"horus silent":      NewHorusSilentPasswordDialect(),
		"horus credentials": NewHorusClientCredentialsDialect(),
		"eventhos":          NewEventhosDialect(),
	}
	type request struct {
		contentType, body, user, pass, requestID string
	}
	const form, js = "application/x-www-form-urlencoded", "application/json"
	requests := map[string]request{
		"form client_credentials": {form, "grant_type=client_credentials&scope=read+write", "app", "s", ""},
		"form password":           {form, "grant_type=password&username=john&password=p%2Bw&client_id=app&client_secret=s&x=1", "", "", "r1"},
		"form refresh":            {form, "grant_type=refresh_token&refresh_token=abc&client_id=app&client_secret=s", "", "", ""},
		"json oauth2":             {js, `{"grant_type":"client_credentials","client_id":"app","client_secret":"s","scope":"read"}`, "", "", ""},
		"json horus":              {js, `{"grantType":"silent_password","clientId":"app","clientSecret":"s","username":"john"}`, "", "", "abc"},
		"json eventhos":           {js, `{"grant_type":"password","client_id":"app","client_secret":"s","username":"j","password":"p"}`, "", "", ""},
		"malformed json":          {js, `{"grant_type":`, "", "", ""},
		"two client auths":        {form, "grant_type=client_credentials&client_id=app&client_secret=s", "app", "s", ""},
		"no content type":         {"", "grant_type=client_credentials", "", "", ""},
		"repeated parameter":      {form, "grant_type=password&grant_type=password", "", "", ""},
	}
	for dn, d := range dialects {
		for rn, rq := range requests {
			t.Run(dn+"/"+rn, func(t *testing.T) {
				newReq := func() *http.Request {
					r, err := http.NewRequest(http.MethodPost, "http://auth.example.com/token", strings.NewReader(rq.body))
					require.NoError(t, err)
					if rq.contentType != "" {
						r.Header.Set("Content-Type", rq.contentType)
					}
					if rq.user != "" {
						r.SetBasicAuth(rq.user, rq.pass)
					}
					for _, h := range []string{"x-usil-request-id", "x-horus-request-id"} {
						r.Header.Set(h, "req-"+rq.requestID) // a fixed id: a missing one is random
					}
					r.RemoteAddr = "192.0.2.1:1234"
					return r
				}
				w1, w2 := httptest.NewRecorder(), httptest.NewRecorder()
				var stack TokenRequest
				got, gotErr := decodeTokenRequest(d, w1, newReq(), &stack)
				want, wantErr := d.DecodeTokenRequest(w2, newReq())
				assert.Equal(t, wantErr, gotErr)
				assert.Equal(t, want, got)
				assert.Equal(t, w2.Header(), w1.Header())
				if gotErr == nil {
					assert.Same(t, &stack, got, "mint's dialects decode into the caller's request")
				}
			})
		}
	}
}
