package mint

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
)

// EventType names what an audit Event records.
type EventType string

// The audit events the Issuer reports (RFC 6819 section 5.1.4.2 and
// RFC 9700 section 4.14.2 ask for detection of these).
const (
	// EventTokenIssued: a token request succeeded.
	EventTokenIssued EventType = "token_issued"
	// EventAuthFailed: a client secret or assertion, a password, a
	// refresh token or a DPoP proof was refused; Event.Kind says which,
	// and Event.Reason why for an assertion or a proof.
	EventAuthFailed EventType = "auth_failed"
	// EventThrottled: the Limiter refused the request before any secret
	// was checked, or the server was too busy hashing; Event.RetryAfter
	// says for how long.
	EventThrottled EventType = "throttled"
	// EventRefreshReuse: an already rotated refresh token was presented
	// again and its whole family revoked (RFC 9700 section 4.14.2).
	EventRefreshReuse EventType = "refresh_token_reuse"
	// EventTokenRevoked: a token was revoked on request (RFC 7009).
	EventTokenRevoked EventType = "token_revoked"
	// EventSubjectRevoked: everything of a user (Event.UserID) or client
	// (Event.ClientID) was revoked as of Event.Time (Issuer.RevokeUser,
	// Issuer.RevokeClient).
	EventSubjectRevoked EventType = "subject_revoked"
	// EventRefused: an authenticated client's request was refused for
	// another reason than a bad credential (the host's refusal, a grant,
	// scope or resource the client may not have), with Event.Reason.
	EventRefused EventType = "refused"
)

// Event is one audit record. It identifies who asked for what and how it
// ended, and never holds a secret, a password or a token: TokenID is the
// access token's jti, an identifier that grants nothing.
type Event struct {
	Type EventType
	Time time.Time
	// ClientID is the client id the request named. Use it as a metrics
	// label only when ClientAuthenticated (the client proved it), or
	// strangers can grow the label set without bound.
	ClientID            string
	ClientAuthenticated bool // the client proved its identity
	// UserID is the resource owner's id, when one was identified.
	UserID string
	// Grant is the grant_type of a token request.
	Grant string
	// RequestID and RemoteAddr come from the TokenRequest, or from the
	// request at the introspection and revocation endpoints.
	RequestID, RemoteAddr string
	// Outcome is "success", or the failure's Kind name ("secret_mismatch").
	Outcome string
	// Kind is the failure's kind; meaningless when Outcome is "success".
	Kind Kind
	// TokenID is the jti of the access token issued or revoked, if any.
	TokenID string
	// RetryAfter is how long a throttled client must wait.
	RetryAfter time.Duration
	// Scope, Audience, Actor and ExpiresAt describe the access token
	// issued: its scope, its aud, the client that acted for the user
	// (silent_password), and its expiry.
	Scope, Audience []string
	Actor           string
	ExpiresAt       time.Time
	// Reason is the client-safe description of a refusal.
	Reason string
}

// LogValue implements slog.LogValuer: every non-empty field.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("event", string(e.Type)), slog.String("outcome", e.Outcome)}
	for _, kv := range [][2]string{
		{"client_id", e.ClientID}, {"user_id", e.UserID}, {"grant_type", e.Grant},
		{"request_id", e.RequestID}, {"remote_addr", e.RemoteAddr}, {"jti", e.TokenID},
		{"scope", strings.Join(e.Scope, " ")}, {"aud", strings.Join(e.Audience, " ")},
		{"actor", e.Actor}, {"reason", e.Reason},
	} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	if e.ClientAuthenticated {
		attrs = append(attrs, slog.Bool("client_authenticated", true))
	}
	if !e.ExpiresAt.IsZero() {
		attrs = append(attrs, slog.Time("exp", e.ExpiresAt))
	}
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	return slog.GroupValue(attrs...)
}

// WithAudit sets the audit hook, which receives every audit event. It is
// called synchronously on the request's goroutine: it must be quick and
// safe for concurrent use. Default: every event is logged to the
// Issuer's logger (WithLogger) as "mint: audit" with the event's fields
// under "audit": token_issued at Debug, token_revoked and
// subject_revoked at Info, the others at Warn.
func WithAudit(f func(ctx context.Context, e Event)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("mint: nil audit hook")
		}
		c.audit = f
		return nil
	}
}

// logAudit is the default audit hook (WithAudit), logging to l.
func logAudit(l *slog.Logger) func(context.Context, Event) {
	return func(ctx context.Context, e Event) {
		level := slog.LevelWarn
		switch e.Type {
		case EventTokenIssued:
			level = slog.LevelDebug
		case EventTokenRevoked, EventSubjectRevoked:
			level = slog.LevelInfo
		}
		if l.Enabled(ctx, level) {
			l.LogAttrs(ctx, level, "mint: audit", slog.Any("audit", e))
		}
	}
}

type requestInfoCtx struct{}

type requestInfo struct{ id, remote string }

// Audit reports an event through the audit hook, filling in Time, Outcome,
// and the request id and remote address of the introspection and
// revocation endpoints when they are empty. Extension grants use it.
func (iss *Issuer) Audit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = iss.cfg.now()
	}
	if info, ok := ctx.Value(requestInfoCtx{}).(requestInfo); ok {
		e.RequestID, e.RemoteAddr = cmp.Or(e.RequestID, info.id), cmp.Or(e.RemoteAddr, info.remote)
	}
	if e.Outcome == "" {
		e.Outcome = "success"
		if e.Type != EventTokenIssued && e.Type != EventTokenRevoked && e.Type != EventSubjectRevoked {
			e.Outcome = e.Kind.String()
		}
	}
	iss.cfg.audit(ctx, e)
}

// auditKind returns the event a failure of this kind is worth, if any.
func auditKind(k Kind) (EventType, bool) {
	switch k {
	case KindClientNotFound, KindSecretMismatch, KindUnsupportedAuthMethod, KindUserNotFound, KindPasswordMismatch,
		KindInvalidRefreshToken, KindExpiredRefreshToken, KindRevokedRefreshToken,
		KindInvalidClientAssertion, KindInvalidDPoPProof, KindUseDPoPNonce:
		return EventAuthFailed, true
	case KindThrottled:
		return EventThrottled, true
	case KindRefused, KindGrantNotAllowed, KindInvalidScope, KindInvalidTarget, KindInvalidGrant:
		return EventRefused, true
	}
	return "", false
}

// auditToken reports the outcome of a token request; client is the
// authenticated client, nil when authentication failed or never ran.
func (iss *Issuer) auditToken(ctx context.Context, r *TokenRequest, client *Client, tok *Token, err error) {
	e := Event{ClientID: r.ClientID, ClientAuthenticated: client != nil, Grant: r.GrantType,
		RequestID: r.RequestID, RemoteAddr: r.RemoteAddr}
	if err != nil {
		iss.auditFailure(ctx, e, err)
		return
	}
	e.Type, e.TokenID = EventTokenIssued, tok.ID
	e.Scope, e.Audience, e.Actor, e.ExpiresAt = tok.Scope, tok.Audience, tok.Actor, tok.ExpiresAt
	if tok.User != nil {
		e.UserID = tok.User.ID
	}
	iss.Audit(ctx, e)
}

// auditFailure reports e failed with err, if err's kind is worth an event.
// A refusal carries its reason, and so do the failed checks of an
// assertion or a DPoP proof, which have many.
func (iss *Issuer) auditFailure(ctx context.Context, e Event, err error) {
	me := asError(err)
	typ, ok := auditKind(me.Kind)
	if me.replay {
		typ, ok = EventRefreshReuse, true
	}
	if !ok {
		return
	}
	e.Type, e.Kind, e.UserID, e.RetryAfter = typ, me.Kind, me.userID, me.RetryAfter
	switch {
	case typ == EventRefused, me.Kind == KindInvalidClientAssertion, me.Kind == KindInvalidDPoPProof, me.Kind == KindUseDPoPNonce:
		e.Reason = me.Message()
	}
	iss.Audit(ctx, e)
}
