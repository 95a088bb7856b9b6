package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/mintauth/mint"
)

// The mounted paths: each seed's token endpoint at the seed's own path,
// then the standard surface.
const (
	pathSilentPassword = "/v1/nonspec/oauth2/token/silent-password" // seed 000
	pathHorusServer    = "/v1/nonspec/oauth2/auth/server"           // seed 001
	pathEventhos       = "/auth/token"                              // seed 002
	pathDjango         = "/o/token/"                                // seed 003
	pathSocialID       = "/v2/marketing/oauth/token"                // seed 004
	pathToken          = "/oauth2/token"                            // RFC 6749
	pathIntrospect     = "/oauth2/introspect"                       // RFC 7662
	pathRevoke         = "/oauth2/revoke"                           // RFC 7009
	pathMetadata       = "/.well-known/oauth-authorization-server"  // RFC 8414
	pathJWKS           = "/.well-known/jwks.json"                   // RFC 7517
	pathMe             = "/api/me"                                  // RFC 6750 demo resource
)

// route is one mounted endpoint, as the banner prints it.
type route struct {
	method, path, what string
}

// tokenEndpoint is one token-endpoint mount: a path, the dialect spoken
// there and the grants served there.
type tokenEndpoint struct {
	path, what string
	grants     []string
}

// tokenEndpoints are the token-endpoint mounts, in banner order.
var tokenEndpoints = []tokenEndpoint{
	{pathSilentPassword, "seed 000: Horus silent password (envelope, x-usil-request-id)", []string{mint.GrantSilentPassword}},
	{pathHorusServer, "seed 001: Horus client credentials (envelope, x-horus-request-id)", []string{mint.GrantClientCredentials}},
	{pathEventhos, "seed 002: Eventhos (envelope, HTTP 201)", []string{mint.GrantClientCredentials, mint.GrantPassword}},
	{pathDjango, "seed 003: Django OAuth Toolkit (RFC 6749)", []string{mint.GrantPassword, mint.GrantRefreshToken}},
	{pathSocialID, "seed 004: SocialID (RFC 6749, username or email_address)", []string{mint.GrantPassword}},
	{pathToken, "RFC 6749 token endpoint, every grant", []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken, mint.GrantSilentPassword}},
}

// mux collects the routes it mounts.
type mux struct {
	*http.ServeMux
	routes []route
}

// handle mounts h at path. A path ending in "/" matches only itself, not
// the subtree below it. With a method, the ServeMux answers 405 for the
// others (GET also serves HEAD); without one, h gets every method and
// answers 405 in its own shape (the token endpoints: a JSON body in the
// dialect's format, Cache-Control: no-store).
func (m *mux) handle(method, path, what string, h http.Handler) {
	pattern := path
	if strings.HasSuffix(pattern, "/") {
		pattern += "{$}"
	}
	if method != "" && method != http.MethodPost {
		pattern = method + " " + pattern
	}
	if method == "" {
		method = http.MethodPost
	}
	m.Handle(pattern, h)
	m.routes = append(m.routes, route{method, path, what})
}

// newHandler builds the server's http.Handler over issuer, signing with
// keys, and returns the routes it mounted.
func newHandler(issuer *mint.Issuer, keys *mint.KeySet, log *slog.Logger) (http.Handler, []route, error) {
	m := &mux{ServeMux: http.NewServeMux()}
	_ = issuer
	_ = keys
	_ = log
	return m, m.routes, nil
}
