package main

import (
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/verify"
)

// The mounted paths: each legacy token endpoint at its system's own path,
// then the standard surface.
const (
	pathSilentPassword = "/v1/nonspec/oauth2/token/silent-password" // Horus silent password
	pathHorusServer    = "/v1/nonspec/oauth2/auth/server"           // Horus client credentials
	pathEventhos       = "/auth/token"                              // Eventhos
	pathDjango         = "/o/token/"                                // Django OAuth Toolkit
	pathSocialID       = "/v2/marketing/oauth/token"                // SocialID
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
	dialect    func() mint.Dialect
}

// tokenEndpoints are the token-endpoint mounts, in banner order. Each
// dialect keeps its system's literal values (token_type spelling, Django
// OAuth Toolkit's error description).
var tokenEndpoints = []tokenEndpoint{
	{pathSilentPassword, "Horus silent password (envelope, x-usil-request-id)",
		[]string{mint.GrantSilentPassword},
		func() mint.Dialect { return mint.NewHorusSilentPasswordDialect() }},
	{pathHorusServer, "Horus client credentials (envelope, x-horus-request-id)",
		[]string{mint.GrantClientCredentials},
		func() mint.Dialect { return mint.NewHorusClientCredentialsDialect() }},
	{pathEventhos, "Eventhos (envelope, HTTP 201, form or JSON)",
		[]string{mint.GrantClientCredentials, mint.GrantPassword},
		func() mint.Dialect { return mint.NewEventhosDialect() }},
	{pathDjango, "Django OAuth Toolkit (RFC 6749, token_type Bearer)",
		[]string{mint.GrantPassword, mint.GrantRefreshToken},
		func() mint.Dialect {
			return mint.OAuth2Dialect{TokenType: "Bearer", InvalidGrantDescription: "Invalid credentials given."}
		}},
	{pathSocialID, "SocialID (RFC 6749, username or email_address)",
		[]string{mint.GrantPassword},
		func() mint.Dialect { return mint.OAuth2Dialect{TokenType: "bearer", OmitScope: true} }},
	{pathToken, "RFC 6749 token endpoint, every grant",
		nil, // every grant the Issuer knows
		func() mint.Dialect { return mint.OAuth2Dialect{} }},
}

// mux is an http.ServeMux that remembers what it mounted, for the banner.
type mux struct {
	*http.ServeMux
	routes []route
}

// handle mounts h at path for method. A path ending in "/" matches only
// itself, not the subtree below it. When h answers other methods itself
// (the token endpoints answer 405 in their dialect's shape, with
// Cache-Control: no-store), the pattern names no method; otherwise the
// ServeMux answers 405 with Allow (GET also serves HEAD).
func (m *mux) handle(method, path, what string, h http.Handler, ownMethods bool) {
	pattern := path
	if strings.HasSuffix(pattern, "/") {
		pattern += "{$}"
	}
	if !ownMethods {
		pattern = method + " " + pattern
	}
	m.Handle(pattern, h)
	m.routes = append(m.routes, route{method, path, what})
}

// site is what the server's handler is built over: the issuer and its
// store and keys, the issuer identifier and audience, and the scopes to
// advertise.
type site struct {
	issuer    *mint.Issuer
	store     mint.Store
	keys      *mint.KeySet
	issuerURL string
	audience  string
	scopes    []string
	dpopNonce []byte // the key of DPoP nonces, nil when none are required
}

// newHandler builds the server's http.Handler over s and returns the
// routes it mounted: the token endpoints, then introspection, revocation,
// metadata, JWKS and the demo resource.
func newHandler(s site, log *slog.Logger) (http.Handler, []route, error) {
	issuer, keys, scopes := s.issuer, s.keys, s.scopes
	m := &mux{ServeMux: http.NewServeMux()}
	for _, ep := range tokenEndpoints {
		h := mint.TokenHandler{Issuer: issuer, Dialect: ep.dialect(), Grants: ep.grants, Logger: log}
		m.handle(http.MethodPost, ep.path, ep.what, h, true)
	}
	m.handle(http.MethodPost, pathIntrospect, "RFC 7662 introspection (client-authenticated)",
		mint.IntrospectionHandler{Issuer: issuer, Logger: log}, true)
	m.handle(http.MethodPost, pathRevoke, "RFC 7009 revocation (client-authenticated)",
		mint.RevocationHandler{Issuer: issuer, Logger: log}, true)

	// RFC 8414: the endpoints are absolute URLs under the issuer, which is
	// where clients reach this server (directly, or through a proxy).
	base := strings.TrimSuffix(s.issuerURL, "/")
	metadata, err := mint.MetadataHandler(issuer, mint.Metadata{
		TokenEndpoint:         base + pathToken,
		JWKSURI:               base + pathJWKS,
		IntrospectionEndpoint: base + pathIntrospect,
		RevocationEndpoint:    base + pathRevoke,
		ScopesSupported:       scopes,
	})
	if err != nil {
		return nil, nil, err
	}
	metadataURL, err := mint.MetadataURL(s.issuerURL)
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(metadataURL)
	if err != nil {
		return nil, nil, err
	}
	m.handle(http.MethodGet, u.Path, "RFC 8414 authorization-server metadata", metadata, false)
	m.handle(http.MethodGet, pathJWKS, "public signing keys (RFC 7517)", mint.JWKSHandler(keys), false)

	// The demo resource verifies as a resource server in this process
	// would: the issuer's own key set, its identifier and audience. A
	// DPoP proof (RFC 9449) names it under the issuer's base URL.
	opts := []verify.Option{verify.WithDPoPOrigin(base)}
	if s.dpopNonce != nil {
		opts = append(opts, verify.WithDPoPNonce(s.dpopNonce))
	}
	if deny, ok := s.store.(verify.DenyList); ok {
		opts = append(opts, verify.WithDenyList(deny)) // revoked access tokens are refused
	}
	verifier, err := verify.New(keys, s.issuerURL, s.audience, opts...)
	if err != nil {
		return nil, nil, err
	}
	m.handle(http.MethodGet, pathMe, "demo resource behind the bearer middleware (RFC 6750, RFC 9449 DPoP)",
		verify.Bearer(verifier, "mint")(http.HandlerFunc(me)), false)
	return underIssuerPath(m, s.issuerURL), m.routes, nil
}

// underIssuerPath serves h at its own paths and, when the issuer has a
// path (https://a.example/t1), under that path too: the metadata
// advertises its endpoints there (RFC 8414 section 3.1), and they must
// answer at exactly that URL for a client that reaches this server
// directly, while a proxy that strips the prefix keeps working.
func underIssuerPath(h http.Handler, issuer string) http.Handler {
	u, err := url.Parse(issuer)
	prefix := ""
	if err == nil {
		prefix = strings.TrimSuffix(u.EscapedPath(), "/")
	}
	if prefix == "" {
		return h
	}
	outer := http.NewServeMux()
	outer.Handle("/", h)
	outer.Handle(prefix+"/", http.StripPrefix(prefix, h))
	return outer
}

// me is the demo protected resource: it answers who the access token is
// for, at the top level of one object: sub, client_id, scope, user_id
// for a user's token only, and the token's extra claims. The Bearer
// middleware in front has verified the token.
func me(w http.ResponseWriter, r *http.Request) {
	c, ok := verify.FromContext(r.Context())
	if !ok { // unreachable behind Bearer
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	answer := make(map[string]any, len(c.Extra)+4)
	maps.Copy(answer, c.Extra) // checkClaims keeps the names below out of them
	answer["sub"], answer["client_id"], answer["scope"] = c.Subject, c.ClientID, c.Scope
	if c.UserID != "" {
		answer[meUserID] = c.UserID
	}
	body, _ := json.Marshal(answer)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n'))
}

// meUserID is the member of the /api/me answer that names the user, which
// no claim may take.
const meUserID = "user_id"
