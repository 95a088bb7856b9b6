package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mintauth/mint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cheap keeps the tests fast on a small machine.
var cheap = mint.Argon2id{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

const designConfig = `{
  "issuer": "http://127.0.0.1:8080",
  "audience": "demo-api",
  "access_token_ttl": "1h",
  "refresh_token_ttl": "720h",
  "refresh_grace_period": "0s",
  "key_publish_ahead": "5m",
  "key_sync_interval": "30s",
  "dpop_require_nonce": false,
  "profile": "",
  "clients": [
    {"id": "bb145d5f", "secret": "bb145d5fxyz", "name": "Library app",
     "description": "Back office", "identifier": "library",
     "grants": ["client_credentials", "password", "refresh_token", "silent_password"],
     "scopes": ["read", "write"], "roles": [1, 2], "access_token_ttl": "604800s",
     "audience": ["demo-api"], "resources": ["https://api.example.com/"],
     "claims": {"tenant_id": "acme"}}
  ],
  "users": [
    {"id": "7", "username": "john_doe", "email": "john_doe@domain.com",
     "password": "john_doe_secret", "roles": [3], "claims": {"tenant_id": "acme"},
     "disabled": false}
  ]
}`

func TestParseConfigDesignExample(t *testing.T) {
	cfg, err := ParseConfig(context.Background(), []byte(designConfig), cheap)
	require.NoError(t, err)

	assert.Equal(t, "http://127.0.0.1:8080", cfg.Issuer)
	assert.Equal(t, "demo-api", cfg.Audience)
	assert.Equal(t, time.Hour, time.Duration(cfg.AccessTokenTTL))
	assert.Equal(t, 720*time.Hour, time.Duration(cfg.RefreshTokenTTL))
	assert.Zero(t, cfg.RefreshGracePeriod, "strict rotation")
	assert.False(t, cfg.DPoPRequireNonce)
	assert.Empty(t, cfg.Profile)

	require.Len(t, cfg.Clients, 1)
	c := cfg.MintClients()[0]
	assert.Equal(t, "bb145d5f", c.ID)
	assert.Equal(t, "Library app", c.Name)
	assert.Equal(t, "Back office", c.Description)
	assert.Equal(t, "library", c.Identifier)
	assert.Equal(t, []string{"client_credentials", "password", "refresh_token", "silent_password"}, c.Grants)
	assert.Equal(t, []string{"read", "write"}, c.Scopes)
	assert.Equal(t, []int{1, 2}, c.Roles)
	assert.Equal(t, 604800*time.Second, c.AccessTokenTTL)
	assert.Equal(t, []string{"demo-api"}, c.Audience)
	assert.Equal(t, []string{"https://api.example.com/"}, c.Resources)
	assert.Equal(t, map[string]any{"tenant_id": "acme"}, cfg.Clients[0].Claims)
	assert.Equal(t, map[string]any{"tenant_id": "acme"}, cfg.Users[0].Claims)
	assert.Empty(t, cfg.Clients[0].Secret, "the plaintext secret is dropped at load")
	assert.True(t, strings.HasPrefix(c.SecretHash, "$argon2id$"), "secret hashed with argon2id")
	ok, _, err := cheap.Verify(context.Background(), c.SecretHash, "bb145d5fxyz")
	require.NoError(t, err)
	assert.True(t, ok)

	require.Len(t, cfg.Users, 1)
	u := cfg.MintUsers()[0]
	assert.Equal(t, "7", u.ID)
	assert.Equal(t, "john_doe", u.Username)
	assert.Equal(t, "john_doe@domain.com", u.Email)
	assert.Equal(t, []int{3}, u.Roles)
	assert.Empty(t, cfg.Users[0].Password, "the plaintext password is dropped at load")
	ok, _, err = cheap.Verify(context.Background(), u.PasswordHash, "john_doe_secret")
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestExampleConfigFileIsDesignExample(t *testing.T) {
	b, err := os.ReadFile("config.example.json")
	require.NoError(t, err)
	assert.JSONEq(t, designConfig, string(b))
	_, err = LoadConfig(context.Background(), "config.example.json", cheap)
	require.NoError(t, err)
}

func TestParseConfigRefreshGracePeriod(t *testing.T) {
	tests := []struct {
		name, field string
		want        time.Duration
	}{
		{"absent", ``, 0},
		{"off", `"refresh_grace_period":"0s",`, 0},
		{"half a minute", `"refresh_grace_period":"30s",`, 30 * time.Second},
		{"under a second", `"refresh_grace_period":"500ms",`, 500 * time.Millisecond},
		{"the maximum", `"refresh_grace_period":"1m",`, time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig(context.Background(), []byte(`{"issuer":"https://a",`+tc.field+
				`"clients":[{"id":"a","secret":"s","grants":["client_credentials"]}]}`), cheap)
			require.NoError(t, err)
			assert.Equal(t, tc.want, time.Duration(cfg.RefreshGracePeriod))
		})
	}
}

func TestParseConfigDefaultHasherIsArgon2idDefaults(t *testing.T) {
	cfg, err := ParseConfig(context.Background(), []byte(`{"issuer":"https://auth.example.com","clients":[{"id":"a","secret":"s","grants":["client_credentials"]}]}`), mint.Argon2id{})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(cfg.Clients[0].SecretHash, "$argon2id$v=19$m=19456,t=2,p=1$"), "the hash mint.HashPassword makes")
}

func TestParseConfigPreHashed(t *testing.T) {
	secretHash, err := mint.HashPassword("s3cret")
	require.NoError(t, err)
	generated, generatedHash, err := mint.GenerateSecret()
	require.NoError(t, err)
	pwHash, err := cheap.Hash(context.Background(), "pw")
	require.NoError(t, err)
	js := `{"issuer":"https://auth.example.com","clients":[
	  {"id":"a","secret_hash":"` + secretHash + `","grants":["client_credentials"]},
	  {"id":"b","secret_hash":"` + generatedHash + `","grants":["client_credentials"]}],
	 "users":[{"id":"u","username":"ann","password_hash":"` + pwHash + `"}]}`

	cfg, err := ParseConfig(context.Background(), []byte(js), cheap)
	require.NoError(t, err)
	clients := cfg.MintClients()
	assert.Equal(t, secretHash, clients[0].SecretHash, "a pre-hashed secret is kept as given")
	assert.Equal(t, generatedHash, clients[1].SecretHash)
	assert.Equal(t, pwHash, cfg.MintUsers()[0].PasswordHash)
	for _, tc := range []struct{ hash, plain string }{{secretHash, "s3cret"}, {generatedHash, generated}, {pwHash, "pw"}} {
		ok, _, err := cheap.Verify(context.Background(), tc.hash, tc.plain)
		require.NoError(t, err)
		assert.True(t, ok)
	}
}

func TestParseConfigRejects(t *testing.T) {
	client := `{"id":"a","secret":"s","grants":["client_credentials"]}`
	wrap := func(clients, users string) string {
		return `{"issuer":"https://auth.example.com","clients":[` + clients + `],"users":[` + users + `]}`
	}
	tests := []struct {
		name, json, want string
	}{
		{"empty", ``, "empty file"},
		{"not json", `issuer: x`, "line 1, column 1"},
		{"syntax error names the line", "{\n\"issuer\": \"https://a\",\n\"clients\": [,]}", "line 3"},
		{"unknown top-level field", `{"issuer":"https://a","clients":[` + client + `],"isuer":"x"}`, `unknown field "isuer"`},
		{"unknown client field", wrap(`{"id":"a","secret":"s","grants":["password"],"secrt":"x"}`, ``), `unknown field "secrt"`},
		{"unknown user field", wrap(client, `{"id":"u","username":"x","password":"p","pasword":"p"}`), `unknown field "pasword"`},
		{"trailing data", `{"issuer":"https://a","clients":[` + client + `]} {}`, "after the JSON object"},
		{"wrong type", `{"issuer":"https://a","clients":[{"id":7,"secret":"s","grants":["password"]}]}`, "clients.id"},
		{"duration as number", `{"issuer":"https://a","access_token_ttl":3600,"clients":[` + client + `]}`, `duration string like "1h"`},
		{"bad duration", `{"issuer":"https://a","access_token_ttl":"1 hour","clients":[` + client + `]}`, `bad duration "1 hour"`},
		{"duration under a second", wrap(`{"id":"a","secret":"s","grants":["password"],"access_token_ttl":"10ms"}`, ``), "under one second"},
		{"grace period over a minute", `{"issuer":"https://a","refresh_grace_period":"61s","clients":[` + client + `]}`, "refresh_grace_period 1m1s is out of range"},
		{"negative grace period", `{"issuer":"https://a","refresh_grace_period":"-1s","clients":[` + client + `]}`, "refresh_grace_period -1s is out of range"},
		{"bad grace period", `{"issuer":"https://a","refresh_grace_period":"soon","clients":[` + client + `]}`, `bad duration "soon"`},
		{"no issuer", `{"clients":[` + client + `]}`, "issuer is required"},
		{"relative issuer", `{"issuer":"auth.example.com","clients":[` + client + `]}`, "absolute http(s) URL"},
		{"issuer with query", `{"issuer":"https://a/?x=1","clients":[` + client + `]}`, "without query"},
		{"no clients", `{"issuer":"https://a","clients":[]}`, "at least one client"},
		{"client without id", wrap(`{"secret":"s","grants":["password"]}`, ``), "clients[0]: id is required"},
		{"duplicate client", wrap(client+","+client, ``), `clients[1] ("a"): duplicate id`},
		{"client without secret", wrap(`{"id":"a","grants":["password"]}`, ``), "give secret, secret_hash or secrets"},
		{"client with both", wrap(`{"id":"a","secret":"s","secret_hash":"$sha256$x","grants":["password"]}`, ``), "not both"},
		{"unknown hash format", wrap(`{"id":"a","secret_hash":"5f4dcc3b5aa765d61d8327deb882cf99","grants":["password"]}`, ``), "secret_hash: unrecognised format"},
		{"no grants", wrap(`{"id":"a","secret":"s"}`, ``), "grants is empty"},
		{"unknown grant", wrap(`{"id":"a","secret":"s","grants":["pasword"]}`, ``), `unknown grant "pasword"`},
		{"bad scope", wrap(`{"id":"a","secret":"s","grants":["password"],"scopes":["read write"]}`, ``), `scope "read write"`},
		{"user without id", wrap(client, `{"username":"x","password":"p"}`), "users[0]: id is required"},
		{"duplicate user", wrap(client, `{"id":"u","username":"x","password":"p"},{"id":"u","username":"y","password":"p"}`), "duplicate id"},
		{"duplicate username", wrap(client, `{"id":"u","username":"x","password":"p"},{"id":"v","username":"x","password":"p"}`), `username "x" already belongs to user "u"`},
		{"duplicate email", wrap(client, `{"id":"u","email":"x@y","password":"p"},{"id":"v","email":"x@y","password":"p"}`), `email "x@y" already belongs`},
		{"user without login", wrap(client, `{"id":"u","password":"p"}`), "give a username, an email or both"},
		{"user without password", wrap(client, `{"id":"u","username":"x"}`), "give password or password_hash"},
		{"user with both", wrap(client, `{"id":"u","username":"x","password":"p","password_hash":"$argon2id$x"}`), "not both"},
		{"bad password hash", wrap(client, `{"id":"u","username":"x","password_hash":"plaintext-by-mistake"}`), "password_hash: unrecognised format"},
		{"unknown auth method", wrap(`{"id":"a","secret":"s","grants":["client_credentials"],"token_endpoint_auth_method":"tls_client_auth"}`, ``), `token_endpoint_auth_method "tls_client_auth"`},
		{"private_key_jwt without keys", wrap(`{"id":"a","grants":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt"}`, ``), "needs jwks or jwks_uri"},
		{"private_key_jwt with both", wrap(`{"id":"a","grants":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{}]},"jwks_uri":"https://c/jwks"}`, ``), "needs jwks or jwks_uri, one of them"},
		{"private_key_jwt with a secret", wrap(`{"id":"a","secret":"s","grants":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://c/jwks"}`, ``), "has no secret"},
		{"jwks not a set", wrap(`{"id":"a","grants":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"kty":"EC"}}`, ``), "not a JWK Set"},
		{"relative jwks_uri", wrap(`{"id":"a","grants":["client_credentials"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"/jwks"}`, ``), "not an absolute http(s) URL"},
		{"jwks for a secret client", wrap(`{"id":"a","secret":"s","grants":["client_credentials"],"jwks_uri":"https://c/jwks"}`, ``), "are for token_endpoint_auth_method private_key_jwt"},
		{"unknown profile", `{"issuer":"https://a","profile":"fapi1","clients":[` + client + `]}`, `profile "fapi1"`},
		{"fapi2 with a secret client", `{"issuer":"https://a","profile":"fapi2","clients":[` + client + `]}`, "needs token_endpoint_auth_method private_key_jwt"},
		{"fapi2 with the password grant", `{"issuer":"https://a","profile":"fapi2","clients":[{"id":"a","grants":["password"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://c/jwks"}]}`, "has no password grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(context.Background(), []byte(tc.json), cheap)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "plaintext-by-mistake", "a hash field's value is never echoed")
		})
	}
}

func TestLoadConfigNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mint.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"issuer":"https://a","clients":[],"colour":"red"}`), 0o600))
	_, err := LoadConfig(context.Background(), path, cheap)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), `unknown field "colour"`)

	_, err = LoadConfig(context.Background(), filepath.Join(dir, "missing.json"), cheap)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestDemoConfigCoversEveryDialect(t *testing.T) {
	cfg := demoConfig("http://127.0.0.1:8080")
	require.NoError(t, cfg.prepare(context.Background(), cheap))
	clients := map[string]*mint.Client{}
	for _, c := range cfg.MintClients() {
		clients[c.ID] = c
	}
	tests := []struct {
		name, id, secret string
		grants           []string
	}{
		{"Horus silent password", "bb145d5f", "bb145d5fxyz", []string{"silent_password"}},
		{"Horus client credentials", "6f7503fc-2cc1-4cf1-b45c-e50f324bf8ca.library.apps", "b3209806-42da-402d-92dc-ab2f3ef8608b", []string{"client_credentials"}},
		{"Eventhos", "1", demoEventhosClientSecret, []string{"client_credentials", "password"}},
		{"Django OAuth Toolkit", demoDjangoClientID, demoDjangoClientSecret, []string{"password", "refresh_token"}},
		{"SocialID", "138", "e8b9ca24f1b590af67e6271297d6e1f7226625d61c5b5daa1b2f215464e292cf", []string{"password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := clients[tc.id]
			require.NotNil(t, c)
			for _, g := range tc.grants {
				assert.True(t, c.AllowsGrant(g), g)
			}
			ok, _, err := cheap.Verify(context.Background(), c.SecretHash, tc.secret)
			require.NoError(t, err)
			assert.True(t, ok)
		})
	}
	ev := clients["1"]
	assert.Equal(t, "Subject name", ev.Name)
	assert.Equal(t, "Subject description", ev.Description)
	assert.Equal(t, "clientIdentifier", ev.Identifier)
	assert.Equal(t, []int{1, 2}, ev.Roles)
	assert.Equal(t, []string{"read", "write"}, clients[demoDjangoClientID].Scopes)
	assert.Equal(t, 604800*time.Second, clients["138"].AccessTokenTTL)

	users := map[string]*mint.User{}
	for _, u := range cfg.MintUsers() {
		users[u.Username] = u
	}
	assert.Equal(t, "sanvi@828fligth.com", users["sanvi"].Email)
	john := users["john_doe"]
	require.NotNil(t, john)
	assert.Equal(t, "john_doe@domain.com", john.Email)
	assert.Equal(t, []int{3}, john.Roles)
	ok, _, err := cheap.Verify(context.Background(), john.PasswordHash, "john_doe_secret")
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"memory", "memory", "memory"},
		{"sqlite", "sqlite:/tmp/mint.db", "sqlite:/tmp/mint.db"},
		{"url password", "postgres://mint:hunter2@db:5432/mint?sslmode=disable", "postgres://mint:xxxxx@db:5432/mint?sslmode=disable"},
		{"query password", "postgres://db/mint?password=hunter2&user=mint", "postgres://db/mint?password=xxxxx&user=mint"},
		{"key value", "host=db user=mint password=hunter2 dbname=mint", "host=db user=mint password=xxxxx dbname=mint"},
		{"quoted key value", "host=db password='hunter 2' dbname=mint", "host=db password=xxxxx dbname=mint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redactDSN(tc.in)
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, got, "hunter")
		})
	}
}

// A claim name mint sets itself is an error at start, naming it; so is a
// resource that is not an absolute URI.
func TestConfigRefusesReservedClaimsAndBadResources(t *testing.T) {
	tests := []struct{ name, client, user, want string }{
		{"client claim", `"claims": {"sub": "x"}`, ``, `clients[0] ("a"): claims: "sub" is a claim mint sets itself`},
		{"user claim", ``, `, "claims": {"tenant_id": "t", "scope": "admin"}`, `users[0] ("7"): claims: "scope" is a claim mint sets itself`},
		{"user_id claim", `"claims": {"user_id": "7"}`, ``, `clients[0] ("a"): claims: "user_id" is what /api/me answers`},
		{"relative resource", `"resources": ["/api"]`, ``, `resource "/api" is not an absolute URI`},
		{"resource with a fragment", `"resources": ["https://a.example/#x"]`, ``, `is not an absolute URI without a fragment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			extra := ""
			if tt.client != "" {
				extra = ", " + tt.client
			}
			cfg := `{"issuer": "https://auth.example.com", "clients": [{"id": "a", "secret": "s", "grants": ["client_credentials"]` + extra + `}],
  "users": [{"id": "7", "username": "j", "password": "p"` + tt.user + `}]}`
			_, err := ParseConfig(context.Background(), []byte(cfg), cheap)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// The key timing defaults to a five-minute publish-ahead and a 30-second
// sync, and a publish-ahead that does not exceed the sync interval is
// refused with both named.
func TestConfigKeyTiming(t *testing.T) {
	base := `"issuer":"https://auth.example.com","clients":[{"id":"a","secret":"s","grants":["client_credentials"]}]`
	for _, tc := range []struct {
		name, fields          string
		ahead, sync, lifetime time.Duration
		err                   string
	}{
		{"defaults", ``, 5 * time.Minute, 30 * time.Second, time.Hour, ""},
		{"both set", `,"key_publish_ahead":"2m","key_sync_interval":"10s"`, 2 * time.Minute, 10 * time.Second, time.Hour, ""},
		{"only the interval", `,"key_sync_interval":"1m"`, 5 * time.Minute, time.Minute, time.Hour, ""},
		{"a shorter access-token lifetime", `,"access_token_ttl":"10m"`, 5 * time.Minute, 30 * time.Second, 10 * time.Minute, ""},
		{"ahead equal to the interval", `,"key_publish_ahead":"30s"`, 0, 0, 0, "key_publish_ahead (30s) must exceed key_sync_interval (30s)"},
		{"ahead under the interval", `,"key_publish_ahead":"1m","key_sync_interval":"2m"`, 0, 0, 0, "key_publish_ahead (1m0s) must exceed key_sync_interval (2m0s)"},
		{"interval over the default ahead", `,"key_sync_interval":"10m"`, 0, 0, 0, "key_publish_ahead (5m0s) must exceed key_sync_interval (10m0s)"},
		{"interval under a second", `,"key_sync_interval":"10ms"`, 0, 0, 0, "under one second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig(context.Background(), []byte(`{`+base+tc.fields+`}`), cheap)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.ahead, cfg.keyPolicy().PublishAhead)
			assert.Nil(t, cfg.keyPolicy().Now, "the server runs on the wall clock")
			assert.Equal(t, tc.sync, cfg.keySyncInterval())
			assert.Equal(t, tc.lifetime, cfg.keyPolicy().TokenLifetime, "a retired key is published as long as an access token lives")
		})
	}
	cfg, err := ParseConfig(context.Background(), []byte(designConfig), cheap)
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, time.Duration(cfg.KeyPublishAhead), "the example config spells out the defaults")
	assert.Equal(t, 30*time.Second, time.Duration(cfg.KeySyncInterval))
	assert.Equal(t, 604800*time.Second, cfg.keyPolicy().TokenLifetime, "a client's longer access-token lifetime wins")
}
