package mint

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// ErrNotFound is returned by a Store when the client, user or refresh token
// asked for does not exist. The Issuer turns it into the right typed error;
// a Store should never wrap a secret in it.
var ErrNotFound = errors.New("mint: not found")

// ErrTokenUsed is returned by RefreshTokenStore.RotateRefreshToken when the
// token to rotate is no longer active: already rotated or revoked. The
// Issuer treats it as a replay (RFC 9700 section 4.14.2).
var ErrTokenUsed = errors.New("mint: refresh token already used")

// Store is everything the Issuer needs from persistence. A host implements
// it over its own database, or uses NewMemoryStore or the sqlstore package.
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

// UserStore finds resource owners for the password and silent_password
// grants. Lookups are exact matches; a store documents its own case rules.
type UserStore interface {
	// User returns the user with this id, or ErrNotFound.
	User(ctx context.Context, id string) (*User, error)
	// UserByUsername returns the user with this username, or ErrNotFound.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UserByEmail returns the user with this e-mail address, or ErrNotFound.
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
	// If old is not active (used or revoked) it changes nothing and returns
	// ErrTokenUsed. Of two concurrent calls for the same old token exactly
	// one succeeds.
	RotateRefreshToken(ctx context.Context, old string, next *RefreshToken) error
	// RevokeRefreshFamily revokes every token of the family in one
	// set-based operation.
	RevokeRefreshFamily(ctx context.Context, family string) error
}

// AccessTokenDenyList is an optional Store capability: revoked access-token
// ids (jti), kept until the token would have expired anyway (RFC 7009).
type AccessTokenDenyList interface {
	// DenyAccessToken records jti as revoked until the given time.
	DenyAccessToken(ctx context.Context, jti string, until time.Time) error
	// AccessTokenDenied reports whether the access token was revoked: its
	// jti, or everything of its client (clientID) or of its user (userID,
	// "" for a token with no user behind it) issued at or before the
	// revocation (issuedAt is the token's iat). A store without
	// SubjectRevoker looks at jti only.
	AccessTokenDenied(ctx context.Context, jti, clientID, userID string, issuedAt time.Time) (bool, error)
}

// SubjectRevoker is an optional Store capability, beside
// AccessTokenDenyList: revoking everything of a user or of a client at
// once. Each call ends every refresh-token family of that user or client
// in one set-based operation, however many there are, and makes
// AccessTokenDenied report true for their access tokens issued at or
// before at; a refresh token of theirs issued at or before at but saved
// after the call (a login racing the revocation) is revoked as well. Of
// two calls for the same user or client, the later at bounds the access
// tokens refused, whatever the order of the calls.
type SubjectRevoker interface {
	// RevokeUser revokes everything of the user userID as of at.
	RevokeUser(ctx context.Context, userID string, at time.Time) error
	// RevokeClient revokes everything issued to the client clientID, its
	// users' tokens too, as of at.
	RevokeClient(ctx context.Context, clientID string, at time.Time) error
}

// ReplayCache is an optional Store capability: the ids of the client
// assertions (RFC 7523) and DPoP proofs (RFC 9449) already accepted, so
// that each is accepted once, on every replica sharing the store. Without
// it the Issuer remembers them in its own memory.
type ReplayCache interface {
	// UseOnce records id until expires and reports whether it is new:
	// false when id is already recorded and has not expired. Of two
	// concurrent calls for the same id at most one reports true.
	UseOnce(ctx context.Context, id string, expires time.Time) (bool, error)
}

// PasswordRehasher is an optional Store capability: when a user logs in
// with a password whose stored hash uses outdated parameters, the Issuer
// hands the store a fresh hash of the same password.
type PasswordRehasher interface {
	// UpdatePasswordHash replaces the user's password hash old, the one
	// the login verified, by hash, atomically: if the stored hash is no
	// longer old (the password was changed meanwhile), it is kept and the
	// call is a no-op returning nil, so a rehash never brings an old
	// password back. An unknown user is ErrNotFound.
	UpdatePasswordHash(ctx context.Context, userID, old, hash string) error
}

// SecretRehasher is an optional Store capability, the client-secret
// counterpart of PasswordRehasher.
type SecretRehasher interface {
	// UpdateSecretHash replaces the client's secret hash old, the one
	// the authentication matched (SecretHash or the Hash of one of
	// Secrets), by hash, keeping that secret's expiry, with the same
	// compare-and-swap rule as UpdatePasswordHash.
	UpdateSecretHash(ctx context.Context, clientID, old, hash string) error
}

// Client is a registered OAuth 2.0 client (RFC 6749 section 2).
type Client struct {
	// ID is the client identifier; it is not a secret.
	ID string
	// SecretHash is the encoded hash of the client secret (see HashPassword for a secret a
	// person chose, GenerateSecret and HashGeneratedSecret for generated ones).
	// It never expires; Secrets adds secrets that do. Empty, with no
	// unexpired Secrets: no secret matches. It is never logged or
	// serialized.
	SecretHash string
	// Secrets are further secrets of the client, each with an optional
	// expiry, so that a secret rotates without downtime: add the new one,
	// give the old one an expiry, and both work until it passes. A
	// presented secret is checked against SecretHash and every unexpired
	// entry. Default (nil): SecretHash alone.
	Secrets []Secret
	// Name, Description and Identifier are informational; the Eventhos
	// dialect prints them.
	Name, Description, Identifier string
	// Grants lists the grant types the client may use. Nothing is allowed
	// by default; the password and silent_password grants are legacy
	// (RFC 9700 section 2.4) and need to be listed explicitly.
	Grants []string
	// Scopes lists the scopes the client may be granted. A request that
	// names no scope gets all of them.
	Scopes []string
	// Roles are the client's role ids, put in the `roles` claim of
	// client_credentials tokens.
	Roles []int
	// AccessTokenTTL overrides the Issuer's access-token lifetime for this
	// client when non-zero.
	AccessTokenTTL time.Duration
	// Audience is the `aud` of the client's tokens when it asks for no
	// resource. Default (nil): the Issuer's audience (WithAudience).
	Audience []string
	// Resources are the RFC 8707 resource indicators (absolute URIs) the
	// client may ask for with `resource`; the ones granted become the
	// token's `aud`. Default (nil): none.
	Resources []string
	// AuthMethod is how the client authenticates at the token,
	// introspection and revocation endpoints (RFC 7591
	// token_endpoint_auth_method): "" for a secret (HTTP Basic or the
	// body), or AuthPrivateKeyJWT for a JWT signed with one of its keys
	// (RFC 7523 section 2.2), and then no secret is accepted.
	AuthMethod string
	// JWKS is the client's public keys for private_key_jwt, a JWK Set
	// (RFC 7517 section 5); JWKSURI is where to fetch them instead.
	JWKS    json.RawMessage
	JWKSURI string
	// DPoPBound makes every access token of the client DPoP-bound (RFC
	// 9449 section 5.2, dpop_bound_access_tokens): a token request
	// without a DPoP proof is refused.
	DPoPBound bool
}

// AllowsGrant reports whether the client may use the grant type.
func (c *Client) AllowsGrant(grant string) bool { return slices.Contains(c.Grants, grant) }

// String returns the client id only, so that a Client printed by mistake
// leaks no secret hash.
func (c Client) String() string { return "mint.Client{ID:" + c.ID + "}" }

// GoString redacts the secret hash for %#v.
func (c Client) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: the client id and name, never the
// secret hash.
func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.String("name", c.Name))
}

// MarshalJSON omits the secret hash.
func (c Client) MarshalJSON() ([]byte, error) {
	type public struct {
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
	}
	return json.Marshal(public{c.ID, c.Name, c.Description, c.Identifier, c.Grants, c.Scopes, c.Roles, c.Audience,
		c.Resources, c.AuthMethod, c.JWKSURI, c.DPoPBound})
}

// Secret is one of a client's secrets (see Client.Secrets).
type Secret struct {
	// Hash is the encoded hash of the secret, like Client.SecretHash.
	// It is never logged or serialized.
	Hash string
	// ExpiresAt is when the secret stops working, on the Issuer's clock
	// (WithClock): from that instant on it is refused like a wrong one.
	// Zero: it never expires.
	ExpiresAt time.Time
}

// Expired reports whether the secret no longer works at time now.
func (s Secret) Expired(now time.Time) bool {
	return !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt)
}

// String returns the expiry only, so that a Secret printed by mistake
// leaks no hash.
func (s Secret) String() string {
	if s.ExpiresAt.IsZero() {
		return "mint.Secret{}"
	}
	return "mint.Secret{ExpiresAt:" + s.ExpiresAt.Format(time.RFC3339) + "}"
}

// GoString redacts the hash for %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer: the expiry, never the hash.
func (s Secret) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("expires_at", s.ExpiresAt))
}

// MarshalJSON omits the hash.
func (s Secret) MarshalJSON() ([]byte, error) {
	type public struct {
		ExpiresAt *time.Time `json:"expires_at,omitempty"`
	}
	if s.ExpiresAt.IsZero() {
		return json.Marshal(public{})
	}
	return json.Marshal(public{&s.ExpiresAt})
}

// User is a resource owner.
type User struct {
	// ID becomes the token's `sub`.
	ID string
	// Username and Email identify the user to the password grants.
	Username, Email string
	// PasswordHash is the encoded hash of the password (see HashPassword).
	// Empty: no password matches (a user reached only by silent_password).
	// It is never logged or serialized.
	PasswordHash string
	// Roles are the user's role ids, put in the `roles` claim.
	Roles []int
	// Disabled refuses the user: a disabled user's logins are refused even
	// with the right password (checked after the password, so that the
	// answer tells nothing to someone who does not know it), and refresh
	// tokens of that user are refused too while disabled, without being
	// spent or revoked: enabling the user again makes them work. The
	// refusal is invalid_grant "account disabled" in the OAuth 2.0
	// dialects, CodeUserDisabled in the envelope dialects. Default
	// (false): the user may log in.
	Disabled bool
}

// String returns the user id and username only.
func (u User) String() string { return "mint.User{ID:" + u.ID + " Username:" + u.Username + "}" }

// GoString redacts the password hash for %#v.
func (u User) GoString() string { return u.String() }

// LogValue implements slog.LogValuer without the password hash.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("username", u.Username))
}

// MarshalJSON omits the password hash.
func (u User) MarshalJSON() ([]byte, error) {
	type public struct {
		ID       string `json:"id"`
		Username string `json:"username,omitempty"`
		Email    string `json:"email,omitempty"`
		Roles    []int  `json:"roles,omitempty"`
		Disabled bool   `json:"disabled,omitempty"`
	}
	return json.Marshal(public{u.ID, u.Username, u.Email, u.Roles, u.Disabled})
}

// RefreshToken is the stored record of a refresh token. The token itself
// is never stored: Digest is its SHA-256, base64url-encoded.
type RefreshToken struct {
	// Digest identifies the token (see DigestRefreshToken).
	Digest string
	// Family is the digest of the first token of the rotation chain; a
	// replay revokes the whole family.
	Family string
	// Parent is the digest of the token the client presented to get this
	// one, "" for the first of a family.
	Parent string
	// Next is the digest of the token that replaced this one, "" while it
	// is active.
	Next string
	// ClientID is the client the token was issued to; no other client may
	// use it.
	ClientID string
	// UserID is the resource owner.
	UserID string
	// Grant is the grant that started the family (password,
	// silent_password or an extension grant).
	Grant string
	// Scope is the scope granted to the family; a refresh may narrow it.
	Scope []string
	// Resources are the RFC 8707 resource indicators granted to the
	// family (nil: the client's default audience); a refresh may narrow
	// them, never widen them.
	Resources []string
	// IssuedAt and ExpiresAt bound the token's life.
	IssuedAt, ExpiresAt time.Time
	// UsedAt is when the token was rotated; zero while active.
	UsedAt time.Time
	// Revoked is set when the family was revoked.
	Revoked bool
	// JKT is the RFC 7638 thumbprint of the DPoP key the family is bound
	// to, "" for an unbound family: each refresh needs a DPoP proof by
	// that key (RFC 9449 section 5).
	JKT string
}

// Active reports whether the token may still be rotated at time now.
func (t *RefreshToken) Active(now time.Time) bool {
	return !t.Revoked && t.UsedAt.IsZero() && now.Before(t.ExpiresAt)
}

// found makes a Store lookup that returned neither a value nor an error
// (a host store's bug) read as ErrNotFound, so that the engine never
// dereferences nil.
func found[T any](v *T, err error) (*T, error) {
	if err == nil && v == nil {
		return nil, ErrNotFound
	}
	return v, err
}
