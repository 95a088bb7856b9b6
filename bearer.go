package mint

import (
	"context"
	"errors"
	"github.com/mintauth/mint/internal/wire"
	"net/http"
	"strings"
)

// bearerKey is the context key of the verified token; unexported so that
// nothing but this package can set or read it.
type bearerKey struct{}

// bearerValue is what the middleware puts in the request context: the
// verified claims and the realm, for RequireScope's challenge. It is also
// the decoding target of the token, so a request costs one allocation.
type bearerValue struct {
	parsedClaims
	realm string
}

// Bearer returns middleware for a resource server (RFC 6750): it reads the
// access token from the Authorization header (scheme "Bearer", matched
// case-insensitively; tokens in the query or body are not accepted),
// verifies it with v and passes the request on with the verified claims in
// its context (see ClaimsFromContext). It answers otherwise:
//
//   - no token: 401 with `WWW-Authenticate: Bearer realm="..."` and no
//     error attribute (RFC 6750 section 3.1);
//   - two Authorization headers: 400 with error="invalid_request";
//   - a token Verify refuses: 401 with error="invalid_token" and an
//     error_description;
//   - a failure of the Verifier itself (keys unreachable, deny list
//     failing): 503, with error="temporarily_unavailable" in the body.
//
// Every error body is JSON: {"error":..., "error_description":...}. An
// empty realm is left out of the challenge. Revoked tokens are refused only
// if the Verifier was built WithDenyList.
func Bearer(v *Verifier, realm string) func(http.Handler) http.Handler {
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
			val := &bearerValue{realm: realm}
			if err := v.verify(r.Context(), token, &val.parsedClaims); err != nil {
				if te, ok := errors.AsType[*TokenError](err); ok {
					bearerError(w, realm, http.StatusUnauthorized, "invalid_token", "invalid_token", te.Reason, "")
					return
				}
				v.cfg.logger.ErrorContext(r.Context(), "mint: bearer verification failed", "error", err)
				bearerError(w, realm, http.StatusServiceUnavailable, "", "temporarily_unavailable", "the token cannot be checked now", "")
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bearerKey{}, val)))
		})
	}
}

// bearerToken extracts the token of an `Authorization: Bearer` header.
// The status is 0 with a token, 401 without one, 400 for a repeated
// header.
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

// ClaimsFromContext returns the claims of the access token the Bearer
// middleware verified for this request.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	v, ok := ctx.Value(bearerKey{}).(*bearerValue)
	if !ok {
		return nil, false
	}
	return &v.claims, true
}

// RequireScope returns middleware, to put behind Bearer, that lets a
// request through only if its token has every one of the scopes. Otherwise
// it answers 403 with `WWW-Authenticate: Bearer error="insufficient_scope",
// scope="..."` naming the scopes needed (RFC 6750 section 3.1); without
// Bearer in front it answers 401.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
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

// HasScope reports whether the space-separated scope claim contains s
// (RFC 6749 section 3.3).
func (c *Claims) HasScope(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.FieldsSeq(c.Scope) {
		if tok == s {
			return true
		}
	}
	return false
}

// bearerError writes an RFC 6750 section 3 error: the challenge (with the
// error attribute only when challengeErr is set) and a JSON body.
func bearerError(w http.ResponseWriter, realm string, status int, challengeErr, bodyErr, desc, scope string) {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	param := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		writeQuoted(&b, value)
		b.WriteByte('"')
		sep = ", "
	}
	if realm != "" {
		param("realm", realm)
	}
	if challengeErr != "" {
		param("error", challengeErr)
		param("error_description", desc)
		if scope != "" {
			param("scope", scope)
		}
	}
	w.Header().Set("WWW-Authenticate", b.String())
	wire.WriteJSON(w, status, oauthError{Error: bodyErr, Description: desc})
}

// writeQuoted writes s as the inside of an RFC 7230 quoted-string: `"` and
// `\` are escaped, control characters and non-ASCII bytes are dropped, so
// the header stays valid whatever a host passes as realm or scope.
func writeQuoted(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t' || (c >= 0x20 && c < 0x7f):
			b.WriteByte(c)
		}
	}
}
