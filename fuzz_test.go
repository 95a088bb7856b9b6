package mint_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mintauth/mint"
)

// Native fuzz targets for each decoder: whatever the input, the mounts
// never panic, never answer a 5xx for the client's mistake (Horus silent password's
// person-not-found 500030 aside), and always answer a well-formed body in
// their dialect's shape. The seed corpus is in testdata/fuzz.

// fuzzMux is the dialect endpoints over a quiet fixture.
func fuzzMux(f *testing.F) http.Handler {
	fx := newFixture(f, mint.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return dialectMux(fx.issuer)
}

// serve runs one request through h in memory.
func serve(h http.Handler, path, contentType, body string, header ...string) answer {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return answer{rec.Code, rec.Header(), rec.Body.String()}
}

// checkFuzzAnswer is checkShape, with Horus silent password's 500030 allowed.
func checkFuzzAnswer(t *testing.T, m mount, a answer) {
	t.Helper()
	if m.name == "horus-silent-password" && a.status == http.StatusInternalServerError {
		assert.Contains(t, a.body, `"code":500030`, "the only 5xx of Horus silent password is person-not-found")
		checkShape(t, m, a, http.StatusInternalServerError)
		return
	}
	checkShape(t, m, a)
}

func FuzzJSONBody(f *testing.F) {
	for _, m := range mounts {
		f.Add(m.good)
	}
	for _, s := range []string{`{}`, `[]`, `{"clientId":1}`, `{"a":"b","a":"b"}`, `{"a":"\ud800"}`, `{"a":"b"}x`, `null`, ""} {
		f.Add(s)
	}
	h := fuzzMux(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, m := range mounts {
			checkFuzzAnswer(t, m, serve(h, m.path, jsonType, body))
		}
	})
}

func FuzzFormBody(f *testing.F) {
	for _, m := range mounts[2:] {
		f.Add(m.good)
	}
	for _, s := range []string{"", "=", "&&", "a=%zz", "a=1;b=2", "grant_type=password&grant_type=password", "scope=%20%20read"} {
		f.Add(s)
	}
	h := fuzzMux(f)
	f.Fuzz(func(t *testing.T, body string) {
		for _, m := range mounts {
			checkFuzzAnswer(t, m, serve(h, m.path, formType, body))
		}
	})
}

func FuzzBasicHeader(f *testing.F) {
	for _, s := range []string{basicAuth("app", appSecret), basicAuth(oddID, oddSecret), "Basic", "Basic ", "Basic Og==",
		"Basic !!!", "Bearer x", "basic YXBwOmFwcC1zZWNyZXQ=", "Basic JXp6OiV6eg=="} {
		f.Add(s)
	}
	// Each mount's good request without the client credentials.
	bodies := map[string]string{
		"horus-silent-password":    `{"grantType":"silent_password","username":"john_doe"}`,
		"horus-client-credentials": `{"grantType":"client_credentials"}`,
		"eventhos":                 "grant_type=client_credentials",
		"django-oauth-toolkit":     "grant_type=password&username=john_doe&password=john_doe_secret",
		"socialid":                 "grant_type=password&username=john_doe&password=john_doe_secret",
		"oauth2":                   "grant_type=client_credentials",
	}
	h := fuzzMux(f)
	f.Fuzz(func(t *testing.T, header string) {
		for _, m := range mounts {
			checkFuzzAnswer(t, m, serve(h, m.path, m.goodType, bodies[m.name], "Authorization", header))
		}
	})
}

func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"4512451", "", "a b", strings.Repeat("x", 129), "é", "a\r\nSet-Cookie: x=y", "<script>"} {
		f.Add(s)
	}
	h := fuzzMux(f)
	f.Fuzz(func(t *testing.T, id string) {
		for _, m := range mounts[:2] {
			for _, body := range []string{m.good, `{}`, `x`} {
				a := serve(h, m.path, jsonType, body, m.requestID, id)
				checkFuzzAnswer(t, m, a)
				got := a.header.Get(m.requestID)
				assert.Regexp(t, saneID, got)
				if saneID.MatchString(id) {
					assert.Equal(t, id, got)
				} else {
					assert.NotEqual(t, id, got, "never reflected raw")
				}
			}
		}
	})
}

// FuzzSenderConstrained feeds the token endpoint any client assertion and
// any DPoP header, beside valid ones: never a panic, never a 5xx, always
// an RFC 6749 error or a token.
func FuzzSenderConstrained(f *testing.F) {
	fx := newFixture(f, mint.WithLogger(slog.New(slog.DiscardHandler)))
	key := newClientKey(f, mint.ES256, "k1")
	fx.store.PutClient(&mint.Client{ID: "pkj", AuthMethod: mint.AuthPrivateKeyJWT, JWKS: jwks(key),
		Grants: []string{mint.GrantClientCredentials}})
	h := mint.TokenHandler{Issuer: fx.issuer}
	now := fx.clock.now()
	f.Add(key.assertion(f, "pkj", issuerURL, now), key.proof(f, http.MethodPost, tokenURL, now))
	f.Add(key.assertion(f, "pkj", issuerURL, now), "")
	f.Add("e30.e30.", "e30.e30.")
	f.Add("", "not a proof")
	f.Fuzz(func(t *testing.T, assertion, proof string) {
		body := "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" +
			url.QueryEscape(assertion)
		var header []string
		if proof != "" {
			header = []string{"DPoP", proof}
		}
		a := serve(h, "/oauth2/token", "application/x-www-form-urlencoded", body, header...)
		assert.Less(t, a.status, 500, a.body)
		assert.Contains(t, a.body, `"`, "a JSON body")
		if a.status != http.StatusOK {
			assert.Contains(t, a.body, `"error":`)
		}
	})
}
