package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"

	"github.com/mintauth/mint"
)

// The token_endpoint_auth_method values a client may give (RFC 7591
// section 2).
var authMethods = []string{"client_secret_basic", "client_secret_post", mint.AuthPrivateKeyJWT}

// profileFAPI2 is the profile value of the FAPI 2.0 profile.
const profileFAPI2 = "fapi2"

// authMethod is the mint.Client.AuthMethod of a token_endpoint_auth_method:
// "" for the secret methods.
func authMethod(m string) string {
	if m == mint.AuthPrivateKeyJWT {
		return m
	}
	return ""
}

// validateAuth checks how the client authenticates: a secret, or
// private_key_jwt with jwks or jwks_uri (one of them) and no secret.
func (cl *ClientConfig) validateAuth(where string) error {
	if cl.TokenEndpointAuthMethod != "" && !slices.Contains(authMethods, cl.TokenEndpointAuthMethod) {
		return fmt.Errorf("%s: token_endpoint_auth_method %q: want one of %v", where, cl.TokenEndpointAuthMethod, authMethods)
	}
	if cl.TokenEndpointAuthMethod != mint.AuthPrivateKeyJWT {
		if cl.JWKS != nil || cl.JWKSURI != "" {
			return fmt.Errorf("%s: jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt", where)
		}
		return cl.validateSecrets(where)
	}
	if cl.Secret != "" || cl.SecretHash != "" || len(cl.Secrets) > 0 {
		return fmt.Errorf("%s: a private_key_jwt client has no secret", where)
	}
	return cl.validateKeys(where)
}

// validateKeys checks a private_key_jwt client's keys: a JWK Set with
// keys, or an absolute http(s) URL, one of them.
func (cl *ClientConfig) validateKeys(where string) error {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	switch {
	case (cl.JWKS == nil) == (cl.JWKSURI == ""):
		return fmt.Errorf("%s: a private_key_jwt client needs jwks or jwks_uri, one of them", where)
	case cl.JWKSURI != "":
		if u, err := url.Parse(cl.JWKSURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s: jwks_uri %q is not an absolute http(s) URL", where, cl.JWKSURI)
		}
	case json.Unmarshal(cl.JWKS, &set) != nil || len(set.Keys) == 0:
		return fmt.Errorf("%s: jwks is not a JWK Set with keys (RFC 7517 section 5)", where)
	}
	return nil
}

// validateProfile checks the profile and, for FAPI 2.0, that every client
// authenticates with private_key_jwt and lists no password grant.
func (c *Config) validateProfile() error {
	switch c.Profile {
	case "":
		return nil
	case profileFAPI2:
	default:
		return fmt.Errorf("config: profile %q: want \"\" or %q", c.Profile, profileFAPI2)
	}
	for _, cl := range c.Clients {
		if cl.TokenEndpointAuthMethod != mint.AuthPrivateKeyJWT {
			return fmt.Errorf("config: client %q: the FAPI 2.0 profile needs token_endpoint_auth_method private_key_jwt", cl.ID)
		}
		for _, g := range cl.Grants {
			if g == mint.GrantPassword || g == mint.GrantSilentPassword {
				return fmt.Errorf("config: client %q: the FAPI 2.0 profile has no %s grant", cl.ID, g)
			}
		}
	}
	return nil
}

// senderOptions returns the options of the profile and of DPoP nonces.
func (c *Config) senderOptions() []mint.Option {
	var opts []mint.Option
	if c.Profile == profileFAPI2 {
		opts = append(opts, mint.WithFAPI2())
	}
	if key := c.nonceKey(); key != nil {
		opts = append(opts, mint.WithDPoPNonce(key))
	}
	return opts
}

// nonceKey returns the key of the DPoP nonces, the token endpoint's and
// /api/me's alike, made once at start; nil when dpop_require_nonce is off.
func (c *Config) nonceKey() []byte {
	if c.DPoPRequireNonce && c.dpopNonceKey == nil {
		c.dpopNonceKey = make([]byte, 32)
		_, _ = rand.Read(c.dpopNonceKey) // crypto/rand.Read never fails
	}
	return c.dpopNonceKey
}
