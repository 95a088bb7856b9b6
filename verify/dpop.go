package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mintauth/mint/internal/dpop"
)

// DefaultDPoPWindow is how far a DPoP proof's iat may be from now, either
// way, unless WithDPoPWindow says otherwise; a proof's jti is remembered
// that long after its iat.
const DefaultDPoPWindow = dpop.DefaultWindow

// ReplayStore remembers the DPoP proofs a Verifier accepted, so that none
// is accepted twice (RFC 9449 section 11.1). Resource servers that share
// one audience behind a load balancer need one store between them.
type ReplayStore interface {
	// UseOnce records id until expires and reports true when id is new;
	// it reports false when id is recorded and has not expired yet.
	UseOnce(ctx context.Context, id string, expires time.Time) (bool, error)
}

// ErrInvalidProof is matched, through errors.Is, by every error
// VerifyDPoP returns for a DPoP proof that must be refused (RFC 9449
// section 7.1): missing, malformed, badly signed, for another request,
// out of its time window, replayed, by another key than the token's, or
// without a valid server nonce when one is required.
var ErrInvalidProof = errors.New("verify: invalid DPoP proof")

// InvalidProofError is why VerifyDPoP refused a request's DPoP proof: RFC
// 9449 section 7.1's invalid_dpop_proof, or use_dpop_nonce when Nonce is
// set. It matches ErrInvalidProof and the error it came from.
type InvalidProofError struct {
	// Reason is a short, client-safe explanation, used as the
	// error_description. It never contains the proof or the token.
	Reason string
	// Nonce, when set, is the server nonce the proof lacked (RFC 9449
	// section 9): the error is use_dpop_nonce, and Nonce goes to the
	// client in a DPoP-Nonce header.
	Nonce string
	// Err is the underlying cause, if any.
	Err error
}

// Error returns the reason, prefixed.
func (e *InvalidProofError) Error() string { return "verify: invalid DPoP proof: " + e.Reason }

// Unwrap returns ErrInvalidProof and the cause, for errors.Is.
func (e *InvalidProofError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidProof}
	}
	return []error{ErrInvalidProof, e.Err}
}

// VerifyDPoP checks a request made with a DPoP-bound access token (RFC
// 9449 section 7): an `Authorization: DPoP <token>` header whose token
// Verify accepts and that has a cnf.jkt, and exactly one DPoP header
// holding a proof for this request (section 4.3): htm its method, htu
// the origin (WithDPoPOrigin) and its path, ath the hash of the token,
// iat within the window (WithDPoPWindow), a jti not seen within it
// (WithReplayStore), a server nonce if WithDPoPNonce requires one, and
// signed by the key the token is bound to. A refused token gives an
// *InvalidTokenError (a token without cnf.jkt is refused, since there is
// no key for the proof to match), a refused proof an *InvalidProofError;
// any other error is the Verifier's own failure. Bearer calls it for the
// DPoP scheme.
func (v *Verifier) VerifyDPoP(r *http.Request) (*Claims, error) {
	scheme, token, status := authorization(r)
	if status != 0 || scheme != schemeDPoP {
		return nil, &InvalidTokenError{Reason: "the request has no DPoP access token"}
	}
	return v.verifyDPoP(r, token)
}

func (v *Verifier) verifyDPoP(r *http.Request, token string) (*Claims, error) {
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return nil, &InvalidProofError{Reason: "give exactly one DPoP proof"}
	}
	c, err := v.Verify(r.Context(), token)
	if err != nil {
		return nil, err
	}
	if c.JKT == "" {
		return nil, &InvalidTokenError{Reason: "the access token is not DPoP-bound"}
	}
	window := v.cfg.dpopWindow
	p, err := dpop.Check(proofs[0], dpop.Params{Method: r.Method, URL: v.origin(r) + r.URL.EscapedPath(),
		AccessToken: token, Now: v.cfg.now(), Window: window})
	if err != nil {
		reason := "the DPoP proof is invalid"
		if de, ok := errors.AsType[*dpop.Error](err); ok {
			reason = de.Description
		}
		return nil, &InvalidProofError{Reason: reason, Err: err}
	}
	if p.JKT != c.JKT {
		return nil, &InvalidProofError{Reason: "the DPoP proof key is not the one the access token is bound to"}
	}
	if v.nonces != nil && !v.nonces.Valid(p.Nonce) {
		return nil, &InvalidProofError{Reason: "the DPoP proof needs a fresh server nonce", Nonce: v.nonces.Current()}
	}
	// The jti is unique per key: another client's proof may reuse it.
	fresh, err := v.replay.UseOnce(r.Context(), p.JKT+":"+p.JTI, p.IssuedAt.Add(window+time.Second))
	if err != nil {
		return nil, fmt.Errorf("verify: DPoP replay store: %w", err)
	}
	if !fresh {
		return nil, &InvalidProofError{Reason: "the DPoP proof was already used"}
	}
	return c, nil
}

// origin returns the scheme and authority of the request's URL, as the
// client sees it: WithDPoPOrigin's, else https when the request came
// over TLS (http otherwise) and its Host.
func (v *Verifier) origin(r *http.Request) string {
	if v.cfg.dpopOrigin != "" {
		return v.cfg.dpopOrigin
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// dpopAlgs is the algs auth-param of a DPoP challenge (RFC 9449 section
// 7.1): the proof algorithms accepted.
var dpopAlgs = strings.Join(dpop.Algorithms(), " ")
