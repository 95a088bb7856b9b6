package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mintauth/mint/internal/jwtcheck"
	"github.com/mintauth/mint/internal/wire"
)

// bearerKey is the context key of the verified token; unexported so that
// nothing but this package can set or read it.
type bearerKey struct{}

// bearerValue is what Bearer puts in the request context: the verified
// claims, the realm for RequireScope's challenge, and whether the token
// came with the DPoP scheme, whose challenges RequireScope then uses.
type bearerValue struct {
	claims *Claims
	realm  string
	dpop   bool
}

// The authorization schemes Bearer reads.
const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

// Bearer returns middleware for a resource server (RFC 6750, RFC 9449
// section 7): it reads the access token from the Authorization header
// (scheme "Bearer" or "DPoP", matched case-insensitively; tokens in the
// query or body are not accepted), verifies it with v (Verify, or
// VerifyDPoP for the DPoP scheme) and passes the request on with the
// verified claims in its context (see FromContext). It answers otherwise:
//
//   - no token: 401 with `WWW-Authenticate: Bearer realm="..."` and no
//     error attribute (RFC 6750 section 3.1), followed by a second
//     challenge `DPoP realm="...", algs="..."` when v was given a DPoP
//     option (WithDPoPOrigin, WithDPoPWindow, WithReplayStore,
//     WithDPoPNonce);
//   - two Authorization headers: 400 with error="invalid_request";
//   - a token Verify refuses: 401 with error="invalid_token" and an
//     error_description;
//   - a DPoP-bound token (Claims.JKT) sent with the Bearer scheme: 401
//     with error="invalid_token" (RFC 9449 section 7.2), and the DPoP
//     challenge beside;
//   - with the DPoP scheme, a refused token or a token that is not
//     DPoP-bound: 401 with `WWW-Authenticate: DPoP error="invalid_token",
//     error_description="...", algs="..."`; a refused proof: the same
//     with error="invalid_dpop_proof"; a proof without a valid server
//     nonce (WithDPoPNonce): error="use_dpop_nonce" and the nonce in a
//     DPoP-Nonce header (RFC 9449 sections 7.1 and 9);
//   - a failure of the Verifier itself (keys unreachable, deny list or
//     replay store failing): 503, with error="temporarily_unavailable"
//     in the body.
//
// Every error body is JSON: {"error":..., "error_description":...}, with
// Cache-Control: no-store. An empty realm is left out of the challenge.
// Refusals are logged at debug level, failures at error level, through
// WithLogger's logger, never with a token or a proof. Revoked tokens are
// refused only if v was built WithDenyList. Bearer panics if v is nil.
func Bearer(v *Verifier, realm string) func(http.Handler) http.Handler {
	if v == nil {
		panic("verify: Bearer needs a *Verifier, got nil")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, token, status := authorization(r)
			switch {
			case status == http.StatusUnauthorized:
				v.refused(r, "", "unauthorized", "no access token")
				challenges := []string{challenge(schemeBearer, realm, "", "")}
				if v.cfg.dpopOffer {
					challenges = append(challenges, challenge(schemeDPoP, realm, "", "", "algs", dpopAlgs))
				}
				writeError(w, http.StatusUnauthorized, challenges, "unauthorized", "an access token is required")
			case status == http.StatusBadRequest:
				v.refused(r, "", "invalid_request", "Authorization given more than once")
				bearerError(w, realm, http.StatusBadRequest, "invalid_request", "invalid_request", "give exactly one Authorization header", "")
			case scheme == schemeDPoP:
				v.serveDPoP(w, r, next, realm, token)
			default:
				v.serveBearer(w, r, next, realm, token)
			}
		})
	}
}

// serveBearer serves a request with `Authorization: Bearer`.
func (v *Verifier) serveBearer(w http.ResponseWriter, r *http.Request, next http.Handler, realm, token string) {
	c, err := v.Verify(r.Context(), token)
	if te, ok := errors.AsType[*InvalidTokenError](err); ok {
		v.refused(r, schemeBearer, "invalid_token", te.Reason)
		bearerError(w, realm, http.StatusUnauthorized, "invalid_token", "invalid_token", te.Reason, "")
		return
	}
	if err != nil {
		v.failed(w, r, realm, schemeBearer, err)
		return
	}
	if c.JKT != "" { // RFC 9449 section 7.2: no downgrade of a bound token
		const reason = "the access token is DPoP-bound: send it with the DPoP scheme and a proof"
		v.refused(r, schemeBearer, "invalid_token", reason)
		writeError(w, http.StatusUnauthorized, []string{challenge(schemeBearer, realm, "invalid_token", reason),
			challenge(schemeDPoP, realm, "", "", "algs", dpopAlgs)}, "invalid_token", reason)
		return
	}
	val := &bearerValue{claims: c, realm: realm}
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey{}, val)))
}

// serveDPoP serves a request with `Authorization: DPoP` (RFC 9449
// section 7).
func (v *Verifier) serveDPoP(w http.ResponseWriter, r *http.Request, next http.Handler, realm, token string) {
	if v.nonces != nil {
		w.Header().Set("DPoP-Nonce", v.nonces.Current())
	}
	c, err := v.verifyDPoP(r, token)
	code, reason := dpopRefusal(err)
	switch {
	case code != "":
		v.refused(r, schemeDPoP, code, reason)
		writeError(w, http.StatusUnauthorized, []string{challenge(schemeDPoP, realm, code, reason, "algs", dpopAlgs)}, code, reason)
	case err != nil:
		v.failed(w, r, realm, schemeDPoP, err)
	default:
		val := &bearerValue{claims: c, realm: realm, dpop: true}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey{}, val)))
	}
}

// dpopRefusal returns the RFC 9449 section 7.1 error code and the reason
// of a refusal by VerifyDPoP, or "" for no error or a failure of the
// Verifier's own.
func dpopRefusal(err error) (code, reason string) {
	if te, ok := errors.AsType[*InvalidTokenError](err); ok {
		return "invalid_token", te.Reason
	}
	if pe, ok := errors.AsType[*InvalidProofError](err); ok {
		if pe.Nonce != "" {
			return "use_dpop_nonce", pe.Reason
		}
		return "invalid_dpop_proof", pe.Reason
	}
	return "", ""
}

// refused logs a refusal, without the token or the proof.
func (v *Verifier) refused(r *http.Request, scheme, code, reason string) {
	v.cfg.logger.DebugContext(r.Context(), "verify: request refused", "scheme", scheme, "error", code, "reason", reason)
}

// failed logs a failure of the Verifier itself and answers 503.
func (v *Verifier) failed(w http.ResponseWriter, r *http.Request, realm, scheme string, err error) {
	v.cfg.logger.ErrorContext(r.Context(), "verify: bearer verification failed", "scheme", scheme, "error", err)
	const desc = "the token cannot be checked now"
	if scheme == schemeDPoP {
		writeError(w, http.StatusServiceUnavailable, []string{challenge(schemeDPoP, realm, "", "", "algs", dpopAlgs)},
			"temporarily_unavailable", desc)
		return
	}
	bearerError(w, realm, http.StatusServiceUnavailable, "", "temporarily_unavailable", desc, "")
}

// authorization extracts the scheme and token of an `Authorization:
// Bearer` (RFC 6750 section 2.1) or `Authorization: DPoP` (RFC 9449
// section 7.1) header. The status is 0 with a token, 401 without one (or
// with another scheme), 400 for a repeated header.
func authorization(r *http.Request) (scheme, token string, status int) {
	h := r.Header["Authorization"]
	switch {
	case len(h) == 0:
		return "", "", http.StatusUnauthorized
	case len(h) > 1:
		return "", "", http.StatusBadRequest
	}
	for _, scheme := range []string{schemeBearer, schemeDPoP} {
		a := h[0]
		if len(a) <= len(scheme) || a[len(scheme)] != ' ' || !strings.EqualFold(a[:len(scheme)], scheme) {
			continue
		}
		if token := strings.Trim(a[len(scheme)+1:], " "); token != "" {
			return scheme, token, 0
		}
	}
	return "", "", http.StatusUnauthorized // another scheme, or no token
}

// FromContext returns the claims of the access token that Bearer verified
// for this request, and false outside Bearer.
func FromContext(ctx context.Context) (*Claims, bool) {
	v, ok := ctx.Value(bearerKey{}).(*bearerValue)
	if !ok {
		return nil, false
	}
	return v.claims, true
}

// RequireScope returns middleware, to put behind Bearer, that lets a
// request through only if its token has every one of the scopes.
// Otherwise it answers 403 with `WWW-Authenticate: Bearer
// error="insufficient_scope", scope="..."` naming the scopes needed (RFC
// 6750 section 3.1); without Bearer in front it answers 401. It panics
// if no scope is given, or one is not an RFC 6749 section 3.3 scope-token.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	if len(scopes) == 0 {
		panic("verify: RequireScope needs at least one scope")
	}
	for _, s := range scopes {
		if !jwtcheck.ScopeToken(s) {
			panic(fmt.Sprintf("verify: RequireScope: %q is not a scope-token (RFC 6749 section 3.3)", s))
		}
	}
	need := strings.Join(scopes, " ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, ok := r.Context().Value(bearerKey{}).(*bearerValue)
			if !ok {
				bearerError(w, "", http.StatusUnauthorized, "", "unauthorized", "an access token is required", "")
				return
			}
			for _, s := range scopes {
				if !v.claims.HasScope(s) {
					v.forbidden(w, "the access token lacks a required scope", need)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireUser is middleware, to put behind Bearer, that lets a request
// through only if a user is behind its token (Claims.UserID is set): a
// client's own token, whose sub is the client id, is answered 403 with
// `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750 section
// 3.1: the request needs more than the token grants), so that a client
// whose id equals a user's id never acts as that user (RFC 9700 section
// 4.15). Without Bearer in front it answers 401.
func RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := r.Context().Value(bearerKey{}).(*bearerValue)
		switch {
		case !ok:
			bearerError(w, "", http.StatusUnauthorized, "", "unauthorized", "an access token is required", "")
		case v.claims.UserID == "":
			v.forbidden(w, "the access token has no user behind it", "")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// forbidden answers 403 error="insufficient_scope" (RFC 6750 section
// 3.1) in the scheme the token came with.
func (v *bearerValue) forbidden(w http.ResponseWriter, desc, scope string) {
	if !v.dpop {
		bearerError(w, v.realm, http.StatusForbidden, "insufficient_scope", "insufficient_scope", desc, scope)
		return
	}
	writeError(w, http.StatusForbidden, []string{challenge(schemeDPoP, v.realm, "insufficient_scope", desc,
		"scope", scope, "algs", dpopAlgs)}, "insufficient_scope", desc)
}

// bearerError writes an RFC 6750 section 3 error: the Bearer challenge,
// with the error attribute only when challengeErr is set, and a JSON
// body.
func bearerError(w http.ResponseWriter, realm string, status int, challengeErr, bodyErr, desc, scope string) {
	writeError(w, status, []string{challenge(schemeBearer, realm, challengeErr, desc, "scope", scope)}, bodyErr, desc)
}

// challenge returns one RFC 7235 challenge whose auth-params are
// quoted-strings (wire.Quote): realm when set; error and
// error_description when code is set; then the extra name and value
// pairs whose value is set.
func challenge(scheme, realm, code, desc string, extra ...string) string {
	var params []string
	if realm != "" {
		params = append(params, "realm="+wire.Quote(realm))
	}
	if code != "" {
		params = append(params, "error="+wire.Quote(code), "error_description="+wire.Quote(desc))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			params = append(params, extra[i]+"="+wire.Quote(extra[i+1]))
		}
	}
	if len(params) == 0 {
		return scheme
	}
	return scheme + " " + strings.Join(params, ", ")
}

// writeError writes an error answer: one WWW-Authenticate header per
// challenge, and a JSON body.
func writeError(w http.ResponseWriter, status int, challenges []string, bodyErr, desc string) {
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{bodyErr, desc})
	h := w.Header()
	h.Del("WWW-Authenticate")
	for _, c := range challenges {
		h.Add("WWW-Authenticate", c)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
