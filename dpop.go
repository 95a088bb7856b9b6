package mint

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/dpop"
)

// dpopWindow is how far a DPoP proof's iat may be from now either way
// (RFC 9449 section 11.1), and how long after it its jti is remembered.
const dpopWindow = 60 * time.Second

// WithDPoPNonce makes the token endpoint require a server nonce in every
// DPoP proof (RFC 9449 section 8): a proof without the current one is
// answered use_dpop_nonce, and every answer carries the nonce in a
// DPoP-Nonce header, valid one to two minutes. Replicas must share key
// (at least 32 bytes) to accept each other's nonces. Default: no nonce.
func WithDPoPNonce(key []byte) Option {
	return func(c *config) error {
		if len(key) < 32 {
			return errors.New("mint: a DPoP nonce key needs at least 32 bytes")
		}
		c.dpopNonce = slices.Clone(key)
		return nil
	}
}

// WithFAPI2 applies the FAPI 2.0 Security Profile to client credentials:
// clients authenticate by private_key_jwt only, with the issuer identifier
// alone as aud; every access token is DPoP-bound; the password and
// silent_password grants are neither served nor advertised; tokens,
// assertions and proofs are signed with PS256, ES256 or EdDSA only (New
// fails for a *KeySet with a key of another algorithm; a token that another
// Signer signs with one is a server error).
func WithFAPI2() Option {
	return func(c *config) error {
		c.fapi2 = true
		return nil
	}
}

// checkProfile refuses, under FAPI 2.0, a key set with a key it forbids.
func (c *config) checkProfile(signer Signer) error {
	ks, ok := signer.(*KeySet)
	if !c.fapi2 || !ok {
		return nil
	}
	for _, k := range ks.Keys() {
		if !slices.Contains(fapiAlgs, k.Algorithm()) {
			return fmt.Errorf("mint: the FAPI 2.0 profile allows PS256, ES256 and EdDSA, not %s (key %s)", k.Algorithm(), k.ID())
		}
	}
	return nil
}

// fapiGrant reports whether the FAPI 2.0 profile, when on, serves grant.
func (c *config) fapiGrant(grant string) bool {
	return !c.fapi2 || (grant != GrantPassword && grant != GrantSilentPassword)
}

// checkFAPISigned refuses, under FAPI 2.0, a token in an algorithm it forbids.
func (iss *Issuer) checkFAPISigned(token string) error {
	if !iss.cfg.fapi2 {
		return nil
	}
	t, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil || !slices.Contains(fapiAlgs, t.Method.Alg()) {
		return serverError(errors.New("mint: the Signer signed outside the FAPI 2.0 algorithms"))
	}
	return nil
}

// dpopFailure is the refusal of a DPoP proof.
func dpopFailure(desc string) *Error { return &Error{Kind: KindInvalidDPoPProof, Description: desc} }

// checkDPoP checks the request's DPoP proof (RFC 9449 section 4.3) and
// returns the thumbprint of its key, "" when there is no proof and the
// client need not send one. A proof's jti is accepted once.
func (iss *Issuer) checkDPoP(ctx context.Context, r *TokenRequest, client *Client) (string, error) {
	switch {
	case r.DPoP == "" && (client.DPoPBound || iss.cfg.fapi2):
		return "", dpopFailure("a DPoP proof is required")
	case r.DPoP == "":
		return "", nil
	case r.URL == "":
		return "", dpopFailure("DPoP is not supported at this endpoint")
	}
	p, err := dpop.Check(r.DPoP, dpop.Params{Method: http.MethodPost, URL: r.URL, Algs: iss.algs(),
		Now: iss.cfg.now(), Window: dpopWindow})
	if err != nil {
		return "", dpopFailure(err.Error())
	}
	if iss.nonces != nil && !iss.nonces.Valid(p.Nonce) {
		return "", &Error{Kind: KindUseDPoPNonce, Description: "the DPoP proof must carry the server's nonce"}
	}
	fresh, err := iss.useOnce(ctx, "dpop", p.JKT+"\x00"+p.JTI, p.IssuedAt.Add(dpopWindow+iss.cfg.leeway))
	switch {
	case err != nil:
		return "", serverError(err)
	case !fresh:
		return "", dpopFailure("the DPoP proof was already used")
	}
	return p.JKT, nil
}

// algs are the algorithms of the DPoP proofs and client assertions the
// Issuer accepts: asymmetric only, so that no secret shared with the
// server stands in for a key (an HS256 assertion "signed" with the
// client's public key bytes is refused).
func (iss *Issuer) algs() []string {
	if iss.cfg.fapi2 {
		return fapiAlgs
	}
	return dpop.Algorithms()
}

// setDPoPNonce puts the current DPoP nonce, if any, on an answer.
func (iss *Issuer) setDPoPNonce(w http.ResponseWriter) {
	if iss.nonces != nil {
		w.Header().Set("DPoP-Nonce", iss.nonces.Current())
	}
}

// endpointURL is the URL of the endpoint r reached, without query: the
// issuer identifier's scheme and host with r's path, or, for an issuer
// that is not an http(s) URL, r's own scheme and Host.
func (iss *Issuer) endpointURL(r *http.Request) string {
	if u, err := url.Parse(iss.cfg.issuer); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
		return u.Scheme + "://" + u.Host + r.URL.EscapedPath()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host) + r.URL.EscapedPath()
}
