package mint

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"
)

var (
	// ErrNotFound is returned by a Store for a client, user or refresh token
	// that does not exist; a Store never wraps a secret in it.
	ErrNotFound = errors.New("mint: not found")
	// ErrTokenUsed is returned by RotateRefreshToken for a token no longer
	// active: the Issuer treats it as a replay (RFC 9700 section 4.14.2).
	ErrTokenUsed = errors.New("mint: refresh token already used")
)

// Store is everything the Issuer needs from persistence: a host's own, a
// MemoryStore or the sqlstore package.
type Store interface {
	ClientStore
	UserStore
	RefreshTokenStore
}

// ClientStore finds registered clients.
type ClientStore interface {
	// Client returns the client with the given id, or ErrNotFound.
	Client(ctx context.Context, id string) (*Client, error)
}

// UserStore finds resource owners by exact match (a store documents its
// case rules); each method returns ErrNotFound for no match.
type UserStore interface {
	User(ctx context.Context, id string) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
}

// RefreshTokenStore keeps refresh tokens by digest only; the token itself is
// never given to the store (RFC 9700 section 4.14).
type RefreshTokenStore interface {
	// SaveRefreshToken stores the first token of a new family.
	SaveRefreshToken(ctx context.Context, t *RefreshToken) error
	// RefreshToken returns the token with this digest, active or not, or
	// ErrNotFound.
	RefreshToken(ctx context.Context, digest string) (*RefreshToken, error)
	// RotateRefreshToken atomically marks the token with digest old as used
	// at next.IssuedAt, records next.Digest as its successor and saves next.
	// If old is not active it changes nothing and returns ErrTokenUsed; of
	// two concurrent calls for the same old token exactly one succeeds.
	RotateRefreshToken(ctx context.Context, old string, next *RefreshToken) error
	// RevokeRefreshFamily revokes every token of the family at once.
	RevokeRefreshFamily(ctx context.Context, family string) error
}

// AccessTokenDenyList is an optional Store capability: revoked access-token
// ids (jti), kept until the token would have expired anyway (RFC 7009).
type AccessTokenDenyList interface {
	// DenyAccessToken records jti as revoked until the given time.
	DenyAccessToken(ctx context.Context, jti string, until time.Time) error
	// AccessTokenDenied reports whether the access token is revoked: its
	// jti, or (with SubjectRevoker) everything of its client or its user
	// ("" for none) issued at or before the revocation; issuedAt is its iat.
	AccessTokenDenied(ctx context.Context, jti, clientID, userID string, issuedAt time.Time) (bool, error)
}

// SubjectRevoker is an optional Store capability: revoking everything of a
// user or client as of at. A call ends all of its refresh families at once,
// and makes AccessTokenDenied true for its access tokens issued at or
// before at; a refresh token issued by then but saved after the call (a
// login racing the revocation) is revoked too. Of two calls for the same
// subject the later at wins, whatever their order.
type SubjectRevoker interface {
	// RevokeUser revokes everything of the user userID as of at.
	RevokeUser(ctx context.Context, userID string, at time.Time) error
	// RevokeClient covers the tokens of the client's users too.
	RevokeClient(ctx context.Context, clientID string, at time.Time) error
}

// ReplayCache is an optional Store capability: the ids of the client
// assertions (RFC 7523) and DPoP proofs (RFC 9449) accepted, each once on
// every replica; without it the Issuer remembers them in its own memory.
type ReplayCache interface {
	// UseOnce records id until expires and reports whether it is new:
	// false while id is recorded and not expired (an expired id may be
	// accepted again); of two concurrent calls for the same id at most one
	// reports true.
	UseOnce(ctx context.Context, id string, expires time.Time) (bool, error)
}

// Rehasher is an optional Store capability: after a login verified a hash
// with outdated parameters, the Issuer hands the store a fresh hash of the
// same password or secret. Each method swaps old, the hash that verified,
// for hash atomically; if the stored hash is no longer old (changed
// meanwhile) it is a no-op returning nil, so a rehash never brings an old
// credential back. An unknown user or client is ErrNotFound. A store may
// implement one of the methods alone: the Issuer calls each one it has.
type Rehasher interface {
	UpdatePasswordHash(ctx context.Context, userID, old, hash string) error
	// UpdateSecretHash swaps SecretHash or the Hash of one of Secrets,
	// keeping that secret's expiry.
	UpdateSecretHash(ctx context.Context, clientID, old, hash string) error
}

// passwordRehasher and secretRehasher are the halves of Rehasher.
type (
	passwordRehasher interface {
		UpdatePasswordHash(ctx context.Context, userID, old, hash string) error
	}
	secretRehasher interface {
		UpdateSecretHash(ctx context.Context, clientID, old, hash string) error
	}
)

// Client is a registered OAuth 2.0 client (RFC 6749 section 2). Its String,
// GoString, LogValue and MarshalJSON leave out every secret hash.
type Client struct {
	// ID is the client identifier; it is not a secret.
	ID string
	// SecretHash is the encoded hash of the secret that never expires
	// (HashPassword, or HashGeneratedSecret for one from GenerateSecret).
	// Empty, with no unexpired Secrets: no secret matches.
	SecretHash string
	// Secrets are further secrets, each with an optional expiry, so that a
	// secret rotates without downtime; a presented secret is checked
	// against SecretHash and every unexpired one. Default: SecretHash alone.
	Secrets []Secret
	// Name, Description and Identifier are informational; the Eventhos
	// dialect prints them.
	Name, Description, Identifier string
	// Grants lists the grant types the client may use, none by default: the
	// legacy password and silent_password (RFC 9700 section 2.4) only if listed.
	Grants []string
	// Scopes lists the scopes the client may be granted; a request that
	// names no scope gets all of them.
	Scopes []string
	// Roles are the client's role ids, the `roles` claim of its own tokens.
	Roles []int
	// AccessTokenTTL, if non-zero, replaces the Issuer's access-token lifetime.
	AccessTokenTTL time.Duration
	// Audience is the `aud` of the client's tokens when it asks for no
	// resource. Default (nil): the Issuer's audience (WithAudience).
	Audience []string
	// Resources are the RFC 8707 resource indicators (absolute URIs) the
	// client may ask for; the ones granted become `aud`. Default: none.
	Resources []string
	// AuthMethod is how the client authenticates (RFC 7591
	// token_endpoint_auth_method): "" for a secret (HTTP Basic or the
	// body), or AuthPrivateKeyJWT, and then no secret is accepted.
	AuthMethod string
	// JWKS is the client's public keys for private_key_jwt, a JWK Set
	// (RFC 7517 section 5); JWKSURI is where to fetch them instead.
	JWKS    json.RawMessage
	JWKSURI string
	// DPoPBound makes every access token of the client DPoP-bound: a
	// token request without a DPoP proof is refused (RFC 9449 section 5.2).
	DPoPBound bool
}

// AllowsGrant reports whether the client may use the grant type.
func (c *Client) AllowsGrant(grant string) bool { return slices.Contains(c.Grants, grant) }

// String returns the client id only.
func (c Client) String() string { return "mint.Client{ID:" + c.ID + "}" }

// GoString is String, for %#v.
func (c Client) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: the client id and name.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.String("name", c.Name))
}

// MarshalJSON omits the secret hashes.
func (c Client) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID          string   `json:"id"`
		Name        string   `json:"name,omitempty"`
		Description string   `json:"description,omitempty"`
		Identifier  string   `json:"identifier,omitempty"`
		Grants      []string `json:"grants,omitempty"`
		Scopes      []string `json:"scopes,omitempty"`
		Roles       []int    `json:"roles,omitempty"`
		Audience    []string `json:"audience,omitempty"`
		Resources   []string `json:"resources,omitempty"`
		AuthMethod  string   `json:"token_endpoint_auth_method,omitempty"`
		JWKSURI     string   `json:"jwks_uri,omitempty"`
		DPoPBound   bool     `json:"dpop_bound_access_tokens,omitempty"`
	}{c.ID, c.Name, c.Description, c.Identifier, c.Grants, c.Scopes, c.Roles, c.Audience,
		c.Resources, c.AuthMethod, c.JWKSURI, c.DPoPBound})
}

// Secret is one of a client's secrets (see Client.Secrets). Its String,
// GoString, LogValue and MarshalJSON show the expiry, never the hash.
type Secret struct {
	// Hash is the encoded hash of the secret, like Client.SecretHash.
	Hash string
	// ExpiresAt is when the secret stops working, on the Issuer's clock
	// (WithClock): from then on it is refused like a wrong one. Zero: never.
	ExpiresAt time.Time
}

// Expired reports whether the secret no longer works at time now.
func (s Secret) Expired(now time.Time) bool { return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt) }

// String returns the expiry only.
func (s Secret) String() string {
	if s.ExpiresAt.IsZero() {
		return "mint.Secret{}"
	}
	return "mint.Secret{ExpiresAt:" + s.ExpiresAt.Format(time.RFC3339) + "}"
}

// GoString is String, for %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: the expiry.
func (s Secret) LogValue() slog.Value { return slog.GroupValue(slog.Time("expires_at", s.ExpiresAt)) }

// MarshalJSON omits the hash.
func (s Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ExpiresAt time.Time `json:"expires_at,omitzero"`
	}{s.ExpiresAt})
}

// User is a resource owner. Its String, GoString, LogValue and MarshalJSON
// leave out the password hash.
type User struct {
	// ID becomes the token's `sub`.
	ID string
	// Username and Email identify the user to the password grants.
	Username, Email string
	// PasswordHash is the encoded hash of the password (see HashPassword).
	// Empty: no password matches (a user reached only by silent_password).
	PasswordHash string
	// Roles are the user's role ids, put in the `roles` claim.
	Roles []int
	// Disabled refuses the user's logins, after the password verified so
	// that it tells nothing to one who does not know it, and refresh tokens,
	// which are not spent and work again once the user is enabled: OAuth 2.0
	// invalid_grant "account disabled", or CodeUserDisabled (envelopes).
	Disabled bool
}

// String returns the user id and username only.
func (u User) String() string { return "mint.User{ID:" + u.ID + " Username:" + u.Username + "}" }

// GoString is String, for %#v.
func (u User) GoString() string { return u.String() }

// LogValue implements slog.LogValuer: the user id and username.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("username", u.Username))
}

// MarshalJSON omits the password hash.
func (u User) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID       string `json:"id"`
		Username string `json:"username,omitempty"`
		Email    string `json:"email,omitempty"`
		Roles    []int  `json:"roles,omitempty"`
		Disabled bool   `json:"disabled,omitempty"`
	}{u.ID, u.Username, u.Email, u.Roles, u.Disabled})
}

// RefreshToken is the stored record of a refresh token. The token itself
// is never stored: Digest is its SHA-256, base64url-encoded.
type RefreshToken struct {
	Digest string // identifies the token
	// Family is the digest of the first token of the rotation chain; a
	// replay revokes the whole family.
	Family string
	// Parent is the digest of the token presented to get this one, "" for
	// the first of a family; Next is that of its successor, "" while active.
	Parent, Next string
	// ClientID is the client the token was issued to; no other may use it.
	ClientID string
	// UserID is the resource owner.
	UserID string
	// Grant is the grant that started the family: password, silent_password or an extension.
	Grant string
	// Scope and Resources (RFC 8707; nil: the client's default audience)
	// are those granted to the family; a refresh may narrow them, never
	// widen them.
	Scope, Resources []string
	// IssuedAt and ExpiresAt bound the token's life; UsedAt is when it was
	// rotated, zero while active.
	IssuedAt, ExpiresAt, UsedAt time.Time
	// Revoked is set when the family was revoked.
	Revoked bool
	// JKT is the RFC 7638 thumbprint of the DPoP key the family is bound
	// to, "" if unbound: each refresh needs a proof by that key (RFC 9449
	// section 5).
	JKT string
}

// Active reports whether the token may still be rotated at time now.
func (t *RefreshToken) Active(now time.Time) bool {
	return !t.Revoked && t.UsedAt.IsZero() && now.Before(t.ExpiresAt)
}

// found makes a lookup that returned neither a value nor an error (a host
// store's bug) read as ErrNotFound, so that the engine never uses nil.
func found[T any](v *T, err error) (*T, error) {
	if err == nil && v == nil {
		return nil, ErrNotFound
	}
	return v, err
}
