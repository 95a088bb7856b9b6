package mint

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/mintauth/mint/internal/wire"
)

// JWKSHandler serves keys as an RFC 7517 section 5 JWK Set for GET and
// HEAD (405 otherwise): only public RSA, EC and OKP keys with a kid and an
// alg, each with use "sig", never an HMAC key. The set is read on every
// request, so a rotation shows at once.
func JWKSHandler(keys *KeySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set := JWKS{Keys: []JWK{}}
		for _, k := range keys.JWKS().Keys {
			asymmetric := k.Kty == "RSA" || k.Kty == "EC" || k.Kty == "OKP" // never an "oct" key
			if !asymmetric || k.Kid == "" || k.Alg == "" || (k.Use != "" && k.Use != "sig") {
				continue
			}
			k.Use = "sig"
			set.Keys = append(set.Keys, k)
		}
		body, err := json.Marshal(set)
		if err != nil {
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		}
		serveWellKnown(w, r, body)
	})
}

// Metadata is an RFC 8414 authorization-server metadata document. Hosts
// fill in the absolute URLs of the endpoints they mounted and pass it to
// MetadataHandler, which completes the zero fields; verify.Discover reads it.
type Metadata struct {
	// Issuer is every token's iss, byte for byte. Zero value: WithIssuer's.
	Issuer string `json:"issuer"`
	// TokenEndpoint is the absolute URL of the token endpoint. Required.
	TokenEndpoint string `json:"token_endpoint"`
	// JWKSURI, IntrospectionEndpoint and RevocationEndpoint are the
	// absolute URLs of the JWKSHandler, IntrospectionHandler and
	// RevocationHandler. Zero value: omitted.
	JWKSURI               string `json:"jwks_uri,omitempty"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint    string `json:"revocation_endpoint,omitempty"`
	// ScopesSupported lists the scopes clients may ask for; omitted if nil.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// ResponseTypesSupported is required by RFC 8414; mint has no
	// authorization endpoint, so the zero value publishes an empty list.
	ResponseTypesSupported []string `json:"response_types_supported"`
	// GrantTypesSupported: zero value, every grant the Issuer knows, sorted.
	GrantTypesSupported []string `json:"grant_types_supported,omitempty"`
	// TokenEndpointAuthMethodsSupported lists the client authentication
	// methods. Zero value: client_secret_basic, client_secret_post and
	// private_key_jwt; private_key_jwt alone under the FAPI 2.0 profile.
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// TokenEndpointAuthSigningAlgValuesSupported lists the algorithms of
	// private_key_jwt assertions. Zero value: those the Issuer accepts.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	// IntrospectionEndpointAuthMethodsSupported and
	// RevocationEndpointAuthMethodsSupported: likewise, for the endpoints named.
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	// DPoPSigningAlgValuesSupported lists the algorithms of DPoP proofs
	// (RFC 9449 section 5.1). Zero value: those the Issuer accepts.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
}

// MetadataHandler serves m, completed, as the RFC 8414 metadata of iss for
// GET and HEAD (405 otherwise). It fails if the issuer is not an absolute
// http(s) URL without query or fragment (RFC 8414 section 2), if m.Issuer
// differs from the Issuer's by a single byte, or if an endpoint URL is not
// absolute. Mount it at the path of MetadataURL.
func MetadataHandler(iss *Issuer, m Metadata) (http.Handler, error) {
	m.Issuer = cmp.Or(m.Issuer, iss.cfg.issuer)
	if err := m.check(iss.cfg.issuer); err != nil {
		return nil, err
	}
	m.complete(iss)
	body, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveWellKnown(w, r, body) }), nil
}

func (m *Metadata) check(issuer string) error {
	if m.Issuer != issuer {
		return fmt.Errorf("mint: metadata issuer %q differs from the Issuer's %q", m.Issuer, issuer)
	}
	if err := wire.CheckIssuerURL(m.Issuer); err != nil {
		return fmt.Errorf("mint: issuer %q: %w", m.Issuer, err)
	}
	if m.TokenEndpoint == "" {
		return errors.New("mint: metadata needs the token endpoint")
	}
	for _, u := range []string{m.TokenEndpoint, m.JWKSURI, m.IntrospectionEndpoint, m.RevocationEndpoint} {
		if u == "" {
			continue
		}
		if err := wire.CheckAbsoluteURL(u); err != nil {
			return fmt.Errorf("mint: metadata endpoint %q: %w", u, err)
		}
	}
	return nil
}

// complete fills in the zero fields as their docs say.
func (m *Metadata) complete(iss *Issuer) {
	if m.GrantTypesSupported == nil {
		m.GrantTypesSupported = iss.grantTypes()
		slices.Sort(m.GrantTypesSupported)
	}
	methods := []string{"client_secret_basic", "client_secret_post", AuthPrivateKeyJWT}
	if iss.cfg.fapi2 {
		methods = []string{AuthPrivateKeyJWT}
	}
	orDefault := func(list *[]string, def []string) {
		if *list == nil {
			*list = def
		}
	}
	orDefault(&m.ResponseTypesSupported, []string{})
	orDefault(&m.TokenEndpointAuthSigningAlgValuesSupported, iss.algs())
	orDefault(&m.DPoPSigningAlgValuesSupported, iss.algs())
	orDefault(&m.TokenEndpointAuthMethodsSupported, methods)
	if m.IntrospectionEndpoint != "" {
		orDefault(&m.IntrospectionEndpointAuthMethodsSupported, methods)
	}
	if m.RevocationEndpoint != "" {
		orDefault(&m.RevocationEndpointAuthMethodsSupported, methods)
	}
}

// MetadataURL returns where RFC 8414 section 3.1 puts the metadata of an
// issuer: https://a.example/t1 gives
// https://a.example/.well-known/oauth-authorization-server/t1.
func MetadataURL(issuer string) (string, error) {
	u, err := wire.MetadataURL(issuer)
	if err != nil {
		return "", fmt.Errorf("mint: issuer %q: %w", issuer, err)
	}
	return u, nil
}

// serveWellKnown answers GET with the JSON document body, HEAD with its
// headers only, and another method with 405.
func serveWellKnown(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"method not allowed"}` + "\n"))
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
