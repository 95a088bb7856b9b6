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
// claims, and the realm for RequireScope's challenge.
type bearerValue struct {
	claims *Claims
	realm  string
}

// Bearer returns middleware for a resource server (RFC 6750): it reads the
// access token from the Authorization header (scheme "Bearer", matched
// case-insensitively; tokens in the query or body are not accepted),
// verifies it with v and passes the request on with the verified claims in
// its context (see FromContext). It answers otherwise:
//
//   - no token: 401 with `WWW-Authenticate: Bearer realm="..."` and no
//     error attribute (RFC 6750 section 3.1);
//   - two Authorization headers: 400 with error="invalid_request";
//   - a token Verify refuses: 401 with error="invalid_token" and an
//     error_description;
//   - a failure of the Verifier itself (keys unreachable, deny list
//     failing): 503, with error="temporarily_unavailable" in the body.
//
// Every error body is JSON: {"error":..., "error_description":...}, with
// Cache-Control: no-store. An empty realm is left out of the challenge.
// Revoked tokens are refused only if v was built WithDenyList. Bearer
// panics if v is nil.
func Bearer(v *Verifier, realm string) func(http.Handler) http.Handler {
	if v == nil {
		panic("verify: Bearer needs a *Verifier, got nil")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, status := bearerToken(r)
			switch status {
			case http.StatusUnauthorized:
				bearerError(w, realm, http.StatusUnauthorized, "", "unauthorized", "an access token is required", "")
				return
			case http.StatusBadRequest:
				bearerError(w, realm, http.StatusBadRequest, "invalid_request", "invalid_request", "give exactly one Authorization header", "")
				return
			}
			c, err := v.Verify(r.Context(), token)
			if err != nil {
				if te, ok := errors.AsType[*InvalidTokenError](err); ok {
					bearerError(w, realm, http.StatusUnauthorized, "invalid_token", "invalid_token", te.Reason, "")
					return
				}
				v.cfg.logger.ErrorContext(r.Context(), "verify: bearer verification failed", "error", err)
				bearerError(w, realm, http.StatusServiceUnavailable, "", "temporarily_unavailable", "the token cannot be checked now", "")
				return
			}
			val := &bearerValue{claims: c, realm: realm}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey{}, val)))
		})
	}
}

// bearerToken extracts the token of an `Authorization: Bearer` header
// (RFC 6750 section 2.1). The status is 0 with a token, 401 without one,
// 400 for a repeated header.
func bearerToken(r *http.Request) (string, int) {
	h := r.Header["Authorization"]
	switch {
	case len(h) == 0:
		return "", http.StatusUnauthorized
	case len(h) > 1:
		return "", http.StatusBadRequest
	}
	const scheme = "Bearer "
	a := h[0]
	if len(a) < len(scheme) || !strings.EqualFold(a[:len(scheme)], scheme) {
		return "", http.StatusUnauthorized // another scheme: no bearer token
	}
	token := strings.Trim(a[len(scheme):], " ")
	if token == "" {
		return "", http.StatusUnauthorized
	}
	return token, 0
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
					bearerError(w, v.realm, http.StatusForbidden, "insufficient_scope", "insufficient_scope",
						"the access token lacks a required scope", need)
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
			bearerError(w, v.realm, http.StatusForbidden, "insufficient_scope", "insufficient_scope",
				"the access token has no user behind it", "")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// bearerError writes an RFC 6750 section 3 error: the challenge, whose
// auth-params are quoted-strings (wire.Quote), with the error attribute
// only when challengeErr is set, and a JSON body.
func bearerError(w http.ResponseWriter, realm string, status int, challengeErr, bodyErr, desc, scope string) {
	var params []string
	if realm != "" {
		params = append(params, "realm="+wire.Quote(realm))
	}
	if challengeErr != "" {
		params = append(params, "error="+wire.Quote(challengeErr), "error_description="+wire.Quote(desc))
		if scope != "" {
			params = append(params, "scope="+wire.Quote(scope))
		}
	}
	challenge := "Bearer"
	if len(params) > 0 {
		challenge += " " + strings.Join(params, ", ")
	}
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{bodyErr, desc})
	h := w.Header()
	h.Set("WWW-Authenticate", challenge)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
