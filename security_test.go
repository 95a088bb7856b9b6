package mint_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// The password and silent_password grants are legacy (RFC 9700 section
// 2.4) and off unless a client lists them: a client that lists other
// grants, or none, is refused both, at the engine and on the wire.
func TestLegacyGrantsNeedExplicitOptIn(t *testing.T) {
	f := newFixture(t, mint.WithLogger(abuseQuiet))
	f.store.PutClient(&mint.Client{ID: "modern", SecretHash: hash(t, appSecret),
		Grants: []string{mint.GrantClientCredentials, mint.GrantRefreshToken}, Scopes: []string{"read"}})
	f.store.PutClient(&mint.Client{ID: "bare", SecretHash: hash(t, appSecret)})
	srv := abuseServer(t, f.issuer)
	for _, client := range []string{"modern", "bare"} {
		for _, grant := range []string{mint.GrantPassword, mint.GrantSilentPassword} {
			t.Run(client+"/"+grant, func(t *testing.T) {
				_, err := f.token(t, &mint.TokenRequest{GrantType: grant, ClientID: client, ClientSecret: appSecret,
					Username: "john_doe", Password: johnPass})
				require.ErrorIs(t, err, mint.KindGrantNotAllowed)
				a := abuseDo(t, abuseMounts[5].build(srv.URL, map[string]string{"grant_type": grant, "client_id": client,
					"client_secret": appSecret, "username": "john_doe", "password": johnPass}))
				assert.Equal(t, 400, a.status, a.body)
				assert.Equal(t, "unauthorized_client", a.json["error"])
			})
		}
	}
	_, err := f.token(t, &mint.TokenRequest{GrantType: mint.GrantClientCredentials, ClientID: "bare", ClientSecret: appSecret})
	assert.ErrorIs(t, err, mint.KindGrantNotAllowed, "a client that lists no grant may use none")
}

// Every test SECURITY.md names exists, so every row of its threat table
// points at a test that .ci/run runs.
func TestSecurityMDNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	require.NoError(t, err)
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Example)\w*)\(`)
	require.NoError(t, filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			defined[m[1]] = true
		}
		return err
	}))
	named := regexp.MustCompile("`((?:Test|Fuzz)[A-Z]\\w*)`").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, named)
	for _, m := range named {
		assert.True(t, defined[m[1]], "SECURITY.md names %s, which no test defines", m[1])
	}
}
