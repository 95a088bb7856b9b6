package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mintauth/mint"
)

// banner is what the server prints on stdout at start.
type banner struct {
	base, issuer, store string
	key                 *mint.Key
	keysStored          bool // the store keeps the signing keys
	demo                bool
	cfg                 *Config
	routes              []route
}

// example is one ready-to-paste shell command.
type example struct {
	// path is the endpoint it calls.
	path string
	// title says what it shows, and what comes back.
	title string
	// cmd is the shell command (bash or sh).
	cmd string
	// status is the HTTP status the command's `curl -i` prints; 0 when the
	// command prints no status line (it sets a shell variable).
	status int
	// forPaths, when set, prints the example only if one of these paths is
	// mounted too (a command that sets a variable for later ones).
	forPaths []string
}

// printBanner prints where the server listens, the demo credentials and
// ready-to-paste curl commands for every mounted endpoint.
func printBanner(w io.Writer, b banner) {
	fmt.Fprintf(w, "mint reference server\n\n")
	fmt.Fprintf(w, "  listening on  %s\n", b.base)
	fmt.Fprintf(w, "  issuer        %s\n", b.issuer)
	if strings.TrimSuffix(b.issuer, "/") != b.base {
		fmt.Fprintf(w, "                (not the listen address: the metadata's endpoint URLs point at the issuer,\n"+
			"                so clients must reach this server there, e.g. through a proxy)\n")
	}
	fmt.Fprintf(w, "  store         %s\n", b.store)
	keyNote := "generated at start: tokens do not survive a restart"
	if b.keysStored {
		keyNote = "kept in the store, shared by every server on it"
	}
	fmt.Fprintf(w, "  signing key   %s kid=%s (%s)\n\n", b.key.Algorithm(), b.key.ID(), keyNote)

	fmt.Fprintf(w, "Endpoints:\n")
	for _, r := range b.routes {
		fmt.Fprintf(w, "  %-5s %-43s %s\n", r.method, r.path, r.what)
	}
	fmt.Fprintln(w)

	if !b.demo {
		fmt.Fprintf(w, "Clients (from the configuration file; secrets are not printed):\n")
		for _, c := range b.cfg.Clients {
			fmt.Fprintf(w, "  %-52s grants %s\n", c.ID, strings.Join(c.Grants, ","))
		}
		fmt.Fprintln(w)
		return
	}

	fmt.Fprintf(w, "Demo credentials (built-in demo configuration; use -config FILE for your own):\n\n")
	fmt.Fprintf(w, "  %-52s %-68s %s\n", "client id", "client secret", "grants")
	for _, c := range demoClients() {
		fmt.Fprintf(w, "  %-52s %-68s %s\n", c.id, c.secret, c.grants)
	}
	fmt.Fprintf(w, "\n  %-4s %-10s %-22s %-22s %s\n", "id", "username", "email", "password", "roles")
	for _, u := range b.cfg.Users {
		fmt.Fprintf(w, "  %-4s %-10s %-22s %-22s %v\n", u.ID, u.Username, u.Email, demoPassword(u.ID), u.Roles)
	}

	fmt.Fprintf(w, "\nTry it: paste these into a shell (bash, zsh or sh).\n")
	for _, ex := range examples(b.base, b.routes) {
		fmt.Fprintf(w, "\n# %s\n%s\n", ex.title, ex.cmd)
	}
	fmt.Fprintln(w)
}

type demoClient struct{ id, secret, grants string }

// demoClients lists the demo clients with their plaintext secrets, for
// the banner.
func demoClients() []demoClient {
	out := []demoClient{}
	secrets := map[string]string{
		demoSilentClientID:   demoSilentClientSecret,
		demoHorusClientID:    demoHorusClientSecret,
		demoEventhosClientID: demoEventhosClientSecret,
		demoDjangoClientID:   demoDjangoClientSecret,
		demoSocialClientID:   demoSocialClientSecret,
		demoClientID:         demoClientSecret,
	}
	for _, c := range demoConfig("http://x").Clients {
		g := strings.Join(c.Grants, ",")
		if c.AccessTokenTTL != 0 {
			g += fmt.Sprintf(" (token TTL %s)", time.Duration(c.AccessTokenTTL))
		}
		out = append(out, demoClient{c.ID, secrets[c.ID], g})
	}
	return out
}

func demoPassword(userID string) string {
	switch userID {
	case demoSanviID:
		return demoSanviPassword
	case demoJohnID:
		return demoJohnPassword
	}
	return ""
}

// Shell fragments that extract a field from a JSON answer.
const (
	sedAccessToken  = `sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p'`
	sedRefreshToken = `sed -n 's/.*"refresh_token": *"\([^"]*\)".*/\1/p'`
)

// examples returns the demo curl commands for the mounted routes, in the
// order they are printed. Commands that set a shell variable come before
// the ones that use it.
func examples(base string, routes []route) []example {
	u := func(path string) string { return "'" + base + path + "'" }
	all := []example{
		{pathSilentPassword, "Horus silent password: silent password, a user token from a username alone -> 200, code 200000", `curl -i -X POST ` + u(pathSilentPassword) + ` \
  -H 'Content-Type: application/json' -H 'x-usil-request-id: 4512451' \
  -d '{"clientId":"` + demoSilentClientID + `","clientSecret":"` + demoSilentClientSecret + `","grantType":"silent_password","username":"` + demoSanviEmail + `"}'`, 200, nil},
		{pathSilentPassword, "Horus silent password: unknown person -> 500, code 500030", `curl -i -X POST ` + u(pathSilentPassword) + ` \
  -H 'Content-Type: application/json' -H 'x-usil-request-id: 4512452' \
  -d '{"clientId":"` + demoSilentClientID + `","clientSecret":"` + demoSilentClientSecret + `","grantType":"silent_password","username":"nobody@828fligth.com"}'`, 500, nil},

		{pathHorusServer, "Horus client credentials: client credentials -> 200, code 200000, camelCase content", `curl -i -X POST ` + u(pathHorusServer) + ` \
  -H 'Content-Type: application/json' \
  -d '{"grantType":"client_credentials","clientId":"` + demoHorusClientID + `","clientSecret":"` + demoHorusClientSecret + `"}'`, 200, nil},
		{pathHorusServer, "Horus client credentials: wrong secret -> 401, code 401122", `curl -i -X POST ` + u(pathHorusServer) + ` \
  -H 'Content-Type: application/json' \
  -d '{"grantType":"client_credentials","clientId":"` + demoHorusClientID + `","clientSecret":"wrong"}'`, 401, nil},

		{pathEventhos, "Eventhos: client credentials (form) -> 201, code 200000", `curl -i -X POST ` + u(pathEventhos) + ` \
  -d 'client_id=` + demoEventhosClientID + `&client_secret=` + demoEventhosClientSecret + `&grant_type=client_credentials'`, 201, nil},
		{pathEventhos, "Eventhos: password grant (JSON) -> 201, user_id and username", `curl -i -X POST ` + u(pathEventhos) + ` \
  -H 'Content-Type: application/json' \
  -d '{"client_id":"` + demoEventhosClientID + `","client_secret":"` + demoEventhosClientSecret + `","grant_type":"password","username":"` + demoJohnUsername + `","password":"` + demoJohnPassword + `"}'`, 201, nil},
		{pathEventhos, "Eventhos: wrong client secret -> 400, code 400001", `curl -i -X POST ` + u(pathEventhos) + ` \
  -d 'client_id=` + demoEventhosClientID + `&client_secret=wrong&grant_type=client_credentials'`, 400, nil},

		{pathDjango, "Django OAuth Toolkit: password grant, client by HTTP Basic -> 200, access and refresh token", `curl -i -X POST -u ` + demoDjangoClientID + `:` + demoDjangoClientSecret + ` \
  -d 'grant_type=password&username=` + demoJohnUsername + `&password=` + demoJohnPassword + `' ` + u(pathDjango), 200, nil},
		{pathDjango, "Django OAuth Toolkit: refresh (gets a refresh token first, then rotates it) -> 200", `RT=$(curl -s -X POST -u ` + demoDjangoClientID + `:` + demoDjangoClientSecret + ` \
  -d 'grant_type=password&username=` + demoJohnUsername + `&password=` + demoJohnPassword + `' ` + u(pathDjango) + ` | ` + sedRefreshToken + `)
curl -i -X POST -u ` + demoDjangoClientID + `:` + demoDjangoClientSecret + ` \
  -d "grant_type=refresh_token&refresh_token=$RT" ` + u(pathDjango), 200, nil},
		{pathDjango, `Django OAuth Toolkit: wrong password -> 400 invalid_grant "Invalid credentials given."`, `curl -i -X POST -u ` + demoDjangoClientID + `:` + demoDjangoClientSecret + ` \
  -d 'grant_type=password&username=` + demoJohnUsername + `&password=wrong' ` + u(pathDjango), 400, nil},

		{pathSocialID, "SocialID: password grant by username -> 200, expires_in 604800", `curl -iX POST ` + u(pathSocialID) + ` \
  -d 'grant_type=password&username=` + demoJohnUsername + `&password=` + demoJohnPassword + `' \
  --user ` + demoSocialClientID + `:` + demoSocialClientSecret, 200, nil},
		{pathSocialID, "SocialID: password grant by email_address -> 200", `curl -iX POST ` + u(pathSocialID) + ` \
  -d 'grant_type=password&email_address=` + demoJohnEmail + `&password=` + demoJohnPassword + `' \
  --user ` + demoSocialClientID + `:` + demoSocialClientSecret, 200, nil},
		{pathSocialID, "SocialID: both username and email_address -> 400 invalid_request", `curl -iX POST ` + u(pathSocialID) + ` \
  -d 'grant_type=password&username=` + demoJohnUsername + `&email_address=` + demoJohnEmail + `&password=` + demoJohnPassword + `' \
  --user ` + demoSocialClientID + `:` + demoSocialClientSecret, 400, nil},
		{pathSocialID, "SocialID: wrong client secret -> 401 invalid_client", `curl -iX POST ` + u(pathSocialID) + ` \
  -d 'grant_type=password&username=` + demoJohnUsername + `&password=` + demoJohnPassword + `' \
  --user ` + demoSocialClientID + `:wrong`, 401, nil},

		{pathToken, "standard RFC 6749: client credentials -> 200", `curl -i -X POST -u ` + demoClientID + `:` + demoClientSecret + ` \
  -d 'grant_type=client_credentials&scope=read' ` + u(pathToken), 200, nil},
		{pathToken, "standard RFC 6749: password grant -> 200 with a refresh token", `curl -i -X POST -u ` + demoClientID + `:` + demoClientSecret + ` \
  -d 'grant_type=password&username=` + demoJohnUsername + `&password=` + demoJohnPassword + `' ` + u(pathToken), 200, nil},
		{pathToken, "standard RFC 6749: a scope the client may not have -> 400 invalid_scope", `curl -i -X POST -u ` + demoClientID + `:` + demoClientSecret + ` \
  -d 'grant_type=client_credentials&scope=admin' ` + u(pathToken), 400, nil},

		{pathToken, "get an access token into $TOKEN for the commands below (prints nothing)", `TOKEN=$(curl -s -X POST -u ` + demoClientID + `:` + demoClientSecret + ` \
  -d 'grant_type=client_credentials' ` + u(pathToken) + ` | ` + sedAccessToken + `)`, 0,
			[]string{pathMe, pathIntrospect, pathRevoke}},
		{pathMe, "demo resource behind the bearer middleware -> 200 {sub, client_id, scope, tenant_id}: a client token, no user_id", `curl -i -H "Authorization: Bearer $TOKEN" ` + u(pathMe), 200, nil},
		{pathMe, "no token -> 401 with WWW-Authenticate: Bearer", `curl -i ` + u(pathMe), 401, nil},
		{pathIntrospect, "RFC 7662 introspection -> 200 {\"active\":true,...}", `curl -i -X POST -u ` + demoClientID + `:` + demoClientSecret + ` \
  -d "token=$TOKEN" ` + u(pathIntrospect), 200, nil},
		{pathIntrospect, "RFC 7662 introspection without client authentication -> 401", `curl -i -X POST -d "token=$TOKEN" ` + u(pathIntrospect), 401, nil},
		{pathRevoke, "RFC 7009 revocation -> 200 (introspect again: active false)", `curl -i -X POST -u ` + demoClientID + `:` + demoClientSecret + ` \
  -d "token=$TOKEN" ` + u(pathRevoke), 200, nil},
		{pathRevoke, "RFC 7009 revocation with a wrong client secret -> 401", `curl -i -X POST -u ` + demoClientID + `:wrong \
  -d "token=$TOKEN" ` + u(pathRevoke), 401, nil},
		{pathMetadata, "RFC 8414 authorization-server metadata -> 200", `curl -i ` + u(pathMetadata), 200, nil},
		{pathJWKS, "public signing keys (RFC 7517) -> 200", `curl -i ` + u(pathJWKS), 200, nil},
	}
	mounted := map[string]bool{}
	for _, r := range routes {
		mounted[r.path] = true
	}
	return slices.DeleteFunc(all, func(ex example) bool {
		return !mounted[ex.path] || ex.forPaths != nil && !slices.ContainsFunc(ex.forPaths, func(p string) bool { return mounted[p] })
	})
}
