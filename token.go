// Package mint issues OAuth 2.0 access and refresh tokens for a host
// service: an embeddable token endpoint that speaks standard RFC 6749 and
// the legacy wire dialects real clients already use.
//
// The engine is the Issuer: built from a Store (clients, users, refresh
// tokens) and a Signer (a KeySet of JWT keys), it turns a wire-neutral
// TokenRequest into a Token or a typed *Error. Dialects and http.Handlers
// put it on the wire; a host mounts them at its own paths:
//
//	store := mint.NewMemoryStore()
//	store.PutClient(&mint.Client{ID: "svc", SecretHash: hash,
//		Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}})
//	key, _ := mint.GenerateKey(mint.EdDSA)
//	keys, _ := mint.NewKeySet(key)
//	issuer, _ := mint.New(store, keys, mint.WithIssuer("https://auth.example.com"))
//	tok, err := issuer.Token(ctx, &mint.TokenRequest{
//		GrantType: mint.GrantClientCredentials, ClientID: "svc", ClientSecret: secret})
package mint

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"time"
)

// Issuer is the token engine. It authenticates the client, runs the grant,
// applies the client's policy (grants, scopes, lifetimes), signs the access
// token and stores the refresh token. It knows nothing of HTTP or JSON
// shapes. An Issuer is safe for concurrent use.
type Issuer struct {
	store  Store
	signer Signer
	cfg    config
	grants map[string]Grant
	dummy  string // hash verified when the client or user is unknown
	// hashSlots bounds concurrent hash computations (limit.go).
	hashSlots chan struct{}
}

type config struct {
	issuer      string
	audience    []string
	accessTTL   time.Duration
	refreshTTL  time.Duration
	grace       time.Duration
	leeway      time.Duration
	now         func() time.Time
	hasher      Hasher
	logger      *slog.Logger
	extra       map[string]Grant
	dummyClient string
	limiter     Limiter   // limit.go
	hashSlots   int       // limit.go
	audit       AuditFunc // audit.go
}

// Option configures an Issuer. Options validate their arguments and New
// reports the first error.
type Option func(*config) error

// WithIssuer sets the `iss` claim, used byte for byte (no slash is added or
// dropped). Default: "mint".
func WithIssuer(iss string) Option {
	return func(c *config) error {
		if iss == "" {
			return errors.New("mint: empty issuer")
		}
		c.issuer = iss
		return nil
	}
}

// WithAudience sets the `aud` claim. Default: the issuer.
func WithAudience(aud ...string) Option {
	return func(c *config) error {
		if len(aud) == 0 || aud[0] == "" {
			return errors.New("mint: empty audience")
		}
		c.audience = aud
		return nil
	}
}

// WithAccessTokenTTL sets the access-token lifetime for clients that set
// none of their own. Default: one hour.
func WithAccessTokenTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return errors.New("mint: access-token TTL under a second")
		}
		c.accessTTL = d
		return nil
	}
}

// WithRefreshTokenTTL sets how long a refresh token lives. Default: 30 days.
func WithRefreshTokenTTL(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Second {
			return errors.New("mint: refresh-token TTL under a second")
		}
		c.refreshTTL = d
		return nil
	}
}

// WithRefreshGracePeriod lets a client that lost the response to a refresh
// present the immediately previous refresh token again within d of its
// rotation, and get a new pair instead of a revoked family. The token it
// never received is revoked in the process. Default: 0 (off), the strict
// rotation of RFC 9700 section 4.14.2.
func WithRefreshGracePeriod(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > time.Minute {
			return errors.New("mint: refresh grace period must be between 0 and 1m")
		}
		c.grace = d
		return nil
	}
}

// WithClock sets the time source, for tests. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("mint: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithLeeway sets the clock skew tolerated when checking expiry of tokens
// the Issuer verifies itself (introspected access tokens).
// Default: 0; at most 2 minutes.
func WithLeeway(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > 2*time.Minute {
			return errors.New("mint: leeway must be between 0 and 2m")
		}
		c.leeway = d
		return nil
	}
}

// WithHasher sets how secrets and passwords are hashed and verified.
// Default: DefaultArgon2id.
func WithHasher(h Hasher) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("mint: nil hasher")
		}
		c.hasher = h
		return nil
	}
}

// WithUnknownClientHash sets the hash verified, and failed, when a client id
// is unknown, so that an unknown client costs the same as a wrong secret.
// Use a hash of the same algorithm as your clients' secrets: a host whose
// clients all have generated secrets passes HashGeneratedSecret("x").
// Default: an argon2id hash from the Hasher.
func WithUnknownClientHash(hash string) Option {
	return func(c *config) error {
		if hash == "" {
			return errors.New("mint: empty unknown-client hash")
		}
		c.dummyClient = hash
		return nil
	}
}

// WithLogger sets the logger for server-side failures. Secrets never
// reach it. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("mint: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithGrant registers an extension grant (RFC 6749 section 4.5) under its
// grant_type, usually an absolute URI. A client must still list it in
// Client.Grants. The built-in grant names cannot be replaced.
func WithGrant(grantType string, g Grant) Option {
	return func(c *config) error {
		if grantType == "" || g == nil {
			return errors.New("mint: extension grant needs a name and a Grant")
		}
		if _, builtin := builtinGrants[grantType]; builtin || grantType == GrantRefreshToken {
			return errors.New("mint: cannot replace built-in grant " + grantType)
		}
		c.extra[grantType] = g
		return nil
	}
}

// New returns an Issuer over store and signer. Everything else is an
// Option with a documented default.
func New(store Store, signer Signer, opts ...Option) (*Issuer, error) {
	if store == nil || signer == nil {
		return nil, errors.New("mint: New needs a Store and a Signer")
	}
	cfg := config{
		issuer:     "mint",
		accessTTL:  time.Hour,
		refreshTTL: 30 * 24 * time.Hour,
		now:        time.Now,
		hasher:     DefaultArgon2id,
		logger:     slog.Default(),
		extra:      map[string]Grant{},
		hashSlots:  runtime.NumCPU(),
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.audience == nil {
		cfg.audience = []string{cfg.issuer}
	}
	if cfg.limiter == nil {
		cfg.limiter = NewMemoryLimiter(Backoff{})
	}
	if cfg.audit == nil {
		cfg.audit = LogAudit(cfg.logger)
	}
	dummy, err := cfg.hasher.Hash(randomString(16))
	if err != nil {
		return nil, err
	}
	if cfg.dummyClient == "" {
		cfg.dummyClient = dummy
	}
	iss := &Issuer{store: store, signer: signer, cfg: cfg, dummy: dummy, grants: map[string]Grant{},
		hashSlots: make(chan struct{}, cfg.hashSlots)}
	for name, g := range builtinGrants {
		iss.grants[name] = g
	}
	for name, g := range cfg.extra {
		iss.grants[name] = g
	}
	return iss, nil
}

// IssuerURL returns the configured issuer, the `iss` of every token.
func (iss *Issuer) IssuerURL() string { return iss.cfg.issuer }

// Audience returns the `aud` of every token.
func (iss *Issuer) Audience() []string { return iss.cfg.audience }

// Signer returns the signer the Issuer signs with.
func (iss *Issuer) Signer() Signer { return iss.signer }

// Now returns the Issuer's current time (WithClock).
func (iss *Issuer) Now() time.Time { return iss.cfg.now() }

// Leeway returns the configured clock-skew tolerance (WithLeeway).
func (iss *Issuer) Leeway() time.Duration { return iss.cfg.leeway }

// Logger returns the Issuer's logger (WithLogger).
func (iss *Issuer) Logger() *slog.Logger { return iss.cfg.logger }

// Store returns the store the Issuer reads and writes.
func (iss *Issuer) Store() Store { return iss.store }

// GrantTypes returns the names of every grant the Issuer knows.
func (iss *Issuer) GrantTypes() []string {
	names := make([]string, 0, len(iss.grants)+1)
	for name := range iss.grants {
		names = append(names, name)
	}
	return append(names, GrantRefreshToken)
}

// TokenRequest is a parsed, wire-neutral token request (RFC 6749 sections
// 4.3.2, 4.4.2 and 6). Dialects fill it in; the Issuer never sees HTTP.
// Its String, GoString and LogValue hide every secret.
type TokenRequest struct {
	GrantType    string
	ClientID     string
	ClientSecret string
	Username     string
	EmailAddress string
	Password     string
	RefreshToken string
	// Scope is the requested scope, one entry per scope token; nil asks
	// for everything the client (or the refreshed token) may have.
	Scope []string
	// Extra holds the parameters of extension grants.
	Extra url.Values
	// NoRefreshToken says the dialect cannot deliver a refresh token, so
	// none is minted (nothing the client never saw is left in the store),
	// and the refresh_token grant is an unsupported grant type.
	NoRefreshToken bool
	// RequestID and RemoteAddr identify the request in logs and audit events.
	RequestID, RemoteAddr string
}

// String describes the request without its secrets.
func (r TokenRequest) String() string {
	return "mint.TokenRequest{GrantType:" + r.GrantType + " ClientID:" + r.ClientID + " Username:" + r.Username + "}"
}

// GoString hides the secrets from %#v.
func (r TokenRequest) GoString() string { return r.String() }

// LogValue implements slog.LogValuer without secrets.
func (r TokenRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("grant_type", r.GrantType), slog.String("client_id", r.ClientID),
		slog.String("username", r.Username), slog.String("request_id", r.RequestID))
}

// MarshalJSON encodes what LogValue shows, never the secret, password or
// refresh token, so that a request serialized by mistake leaks nothing.
func (r TokenRequest) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		GrantType string `json:"grant_type"`
		ClientID  string `json:"client_id"`
		Username  string `json:"username,omitempty"`
		RequestID string `json:"request_id,omitempty"`
	}{r.GrantType, r.ClientID, r.Username, r.RequestID})
}

// Token is the wire-neutral result of a successful request.
type Token struct {
	AccessToken string
	// TokenType is "Bearer" (RFC 6750); dialects print it in their own case.
	TokenType string
	// ExpiresIn is the access token's lifetime; ExpiresAt its end.
	ExpiresIn time.Duration
	ExpiresAt time.Time
	// RefreshToken is empty when none was issued.
	RefreshToken string
	// Scope is the granted scope.
	Scope []string
	// ID is the access token's jti.
	ID string
	// Client is the authenticated client; User the resource owner, nil for
	// client_credentials. Both may be shared with the Store: read, do not
	// modify.
	Client *Client
	User   *User
	// GrantType is the grant that was run.
	GrantType string
}

// String hides the tokens.
func (t Token) String() string { return "mint.Token{ID:" + t.ID + " GrantType:" + t.GrantType + "}" }

// GoString hides the tokens from %#v.
func (t Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without the tokens.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("jti", t.ID), slog.String("grant_type", t.GrantType))
}

// MarshalJSON encodes what LogValue shows, never the access or refresh
// token: dialects write their own wire shapes, so a Token serialized
// directly can only be one logged or stored by mistake.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        string `json:"jti"`
		GrantType string `json:"grant_type"`
	}{t.ID, t.GrantType})
}

// ScopeString returns the granted scope space-separated, as RFC 6749
// section 3.3 puts it on the wire.
func (t *Token) ScopeString() string { return strings.Join(t.Scope, " ") }

// Token runs a token request: authenticate the client, check it may use
// the grant, run the grant, decide the scope, sign the access token and
// store the refresh token, in that order. Every failure is an *Error.
// Before any secret or password is checked the Limiter is consulted, and
// the outcome is reported to the audit hook.
func (iss *Issuer) Token(ctx context.Context, r *TokenRequest) (*Token, error) {
	// Small enough to be inlined: a caller that only reads the Token, as
	// TokenHandler does, keeps it on its own stack.
	return iss.tokenInto(ctx, r, new(Token))
}

// tokenInto is Token writing the token into into, which it returns.
func (iss *Issuer) tokenInto(ctx context.Context, r *TokenRequest, into *Token) (*Token, error) {
	tok, err := iss.token(ctx, r, into)
	iss.auditToken(ctx, r, tok, err) // audit.go
	return tok, err
}

func (iss *Issuer) token(ctx context.Context, r *TokenRequest, into *Token) (*Token, error) {
	if r.GrantType == "" {
		return nil, missing("grant_type")
	}
	grant, ok := iss.grants[r.GrantType]
	if !ok && r.GrantType != GrantRefreshToken {
		return nil, &Error{Kind: KindUnsupportedGrant}
	}
	// A dialect that cannot deliver a refresh token does not serve the
	// refresh grant: rotating would spend the client's token for a
	// successor it never sees.
	if r.GrantType == GrantRefreshToken && r.NoRefreshToken {
		return nil, &Error{Kind: KindUnsupportedGrant}
	}
	// Throttling (limit.go): refuse a blocked client or login before any
	// hashing. Every hash verification below checks the keys again after
	// waiting for a hashing slot; grants find them in their ctx.
	keys, err := iss.admit(ctx, r.ClientID, loginName(r))
	if err != nil {
		return nil, err
	}
	client, err := iss.authenticateClient(ctx, keys, r.ClientID, r.ClientSecret)
	if err != nil {
		return nil, err
	}
	if !client.AllowsGrant(r.GrantType) {
		return nil, &Error{Kind: KindGrantNotAllowed}
	}
	if r.GrantType == GrantRefreshToken {
		return iss.refresh(ctx, r, client, into)
	}
	auth, err := iss.authorize(ctx, keys, grant, r, client)
	if err == nil && auth == nil { // a host's Grant that decided nothing
		err = serverError(errors.New("mint: grant " + r.GrantType + " returned no Authorization and no error"))
	}
	if err == nil && auth.User != nil {
		iss.limitSucceeded(ctx, keys, userKey) // limit.go; failures are recorded by verify
	}
	if err != nil {
		return nil, AsError(err)
	}
	scope, err := grantScope(r.Scope, client.Scopes)
	if err != nil {
		return nil, err
	}
	tok, err := iss.mint(client, auth, scope, r.GrantType, into)
	if err != nil {
		return nil, err
	}
	if auth.User != nil && !r.NoRefreshToken && client.AllowsGrant(GrantRefreshToken) {
		now := iss.cfg.now()
		secret, rec := iss.newRefreshToken(client, auth.User.ID, r.GrantType, scope, now)
		rec.Family = rec.Digest
		if err := iss.store.SaveRefreshToken(ctx, rec); err != nil {
			return nil, serverError(err)
		}
		tok.RefreshToken = secret
	}
	return tok, nil
}

// authorize runs the grant. A grant that may verify a password gets the
// limiter keys in its ctx (VerifyPassword reads them there); client
// credentials, the hot path, needs neither them nor an allocation for
// them. A host's Grant gets a copy of r, copied back after it returns: a
// TokenRequest passed through the Grant interface is moved to the heap,
// and only this path should pay for that.
func (iss *Issuer) authorize(ctx context.Context, keys limitKeys, g Grant, r *TokenRequest, c *Client) (*Authorization, error) {
	if g == clientCredentialsGrant {
		return clientCredentialsGrant.Authorize(ctx, iss, r, c)
	}
	ctx = withLimitKeys(ctx, keys)
	if b, ok := g.(builtinGrant); ok {
		return b.Authorize(ctx, iss, r, c)
	}
	cp := *r
	auth, err := g.Authorize(ctx, iss, &cp, c)
	*r = cp
	return auth, err
}

// AuthenticateClient checks a client's id and secret (RFC 6749 section
// 2.3.1), for endpoints other than the token endpoint (introspection,
// revocation). An unknown client costs one hash verification, like a wrong
// secret. Failures are *Error of KindMissingField, KindClientNotFound,
// KindSecretMismatch or KindThrottled.
//
// It is throttled by the Limiter like the token endpoint, and failures are
// reported to the audit hook (see ContextWithRequestInfo).
func (iss *Issuer) AuthenticateClient(ctx context.Context, id, secret string) (*Client, error) {
	keys, err := iss.admit(ctx, id, "")
	if err == nil {
		var c *Client
		if c, err = iss.authenticateClient(ctx, keys, id, secret); err == nil {
			return c, nil
		}
	}
	iss.auditClient(ctx, id, err) // audit.go
	return nil, err
}

func (iss *Issuer) authenticateClient(ctx context.Context, keys limitKeys, id, secret string) (*Client, error) {
	if id == "" {
		return nil, missing("client_id")
	}
	if secret == "" {
		return nil, missing("client_secret")
	}
	client, err := found(iss.store.Client(ctx, id))
	if errors.Is(err, ErrNotFound) {
		// Same cost as a wrong secret: one verification, one failure.
		if _, _, err := iss.verify(ctx, keys, iss.cfg.dummyClient, secret, clientKey); errors.Is(err, ErrThrottled) {
			return nil, err
		}
		return nil, &Error{Kind: KindClientNotFound}
	}
	if err != nil {
		return nil, serverError(err)
	}
	ok, rehash, err := iss.verify(ctx, keys, client.SecretHash, secret, clientKey) // limit.go
	if errors.Is(err, ErrThrottled) {
		return nil, err
	}
	if err != nil {
		return nil, serverError(err)
	}
	if !ok {
		return nil, &Error{Kind: KindSecretMismatch}
	}
	iss.limitSucceeded(ctx, keys, clientKey)
	if s, ok := iss.store.(SecretRehasher); ok && rehash {
		iss.rehash(ctx, secret, func(h string) error { return s.UpdateSecretHash(ctx, client.ID, client.SecretHash, h) })
	}
	return client, nil
}

// rehash stores a fresh hash of plain through update. A failure is logged,
// not returned: the login itself succeeded.
func (iss *Issuer) rehash(ctx context.Context, plain string, update func(string) error) {
	if err := iss.acquire(ctx); err != nil {
		return // busy: upgrade the hash at a later login
	}
	h, err := iss.cfg.hasher.Hash(plain)
	iss.release()
	if err == nil {
		err = update(h)
	}
	if err != nil {
		iss.cfg.logger.WarnContext(ctx, "mint: could not upgrade a stored hash", "error", err)
	}
}

// grantScope decides the scope of a new grant: the requested scopes if
// the client may have every one of them (RFC 6749 section 3.3), all of the
// client's if none was requested.
func grantScope(requested, allowed []string) ([]string, error) {
	if len(requested) == 0 {
		return allowed, nil
	}
	for i, s := range requested {
		if !contains(allowed, s) {
			return nil, &Error{Kind: KindInvalidScope}
		}
		if contains(requested[:i], s) {
			return dedupe(requested), nil
		}
	}
	return requested, nil
}

// dedupe returns scope without repeated tokens, in first-seen order: a
// scope is a set (RFC 6749 section 3.3), "read read" grants "read".
func dedupe(scope []string) []string {
	out := make([]string, 0, len(scope))
	for _, s := range scope {
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sign signs c, whose jti is in c.jti, with the scope, and returns the
// token and the jti. With mint's own KeySet the claims stay on the stack,
// the scope is never joined into a string and the jti shares the token's
// allocation; any other Signer gets a copy with Scope and ID filled in.
func (iss *Issuer) sign(c *Claims, scope []string) (token, id string, err error) {
	if ks, ok := iss.signer.(*KeySet); ok {
		c.scopes = scope
		return ks.signWithID(c)
	}
	cp := *c
	cp.Scope = strings.Join(scope, " ")
	cp.ID, cp.hasJTI = string(c.jti[:]), false
	token, err = iss.signer.Sign(&cp)
	return token, cp.ID, err
}

// mint signs the access token (RFC 9068) into into, which it returns.
func (iss *Issuer) mint(client *Client, auth *Authorization, scope []string, grantType string, into *Token) (*Token, error) {
	now := iss.cfg.now()
	ttl := iss.cfg.accessTTL
	if client.AccessTokenTTL > 0 {
		ttl = client.AccessTokenTTL
	}
	c := Claims{
		Issuer:    iss.cfg.issuer,
		Subject:   client.ID,
		Audience:  iss.cfg.audience,
		IssuedAt:  now,
		ExpiresAt: now.Add(ttl),
		ClientID:  client.ID,
		Roles:     client.Roles,
		Actor:     auth.Actor,
	}
	if auth.User != nil {
		c.Subject, c.Roles = auth.User.ID, auth.User.Roles
	}
	randomIDInto(&c.jti)
	c.hasJTI = true
	at, id, err := iss.sign(&c, scope)
	if err != nil {
		return nil, serverError(err)
	}
	*into = Token{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   ttl,
		ExpiresAt:   c.ExpiresAt,
		Scope:       scope,
		ID:          id,
		Client:      client,
		User:        auth.User,
		GrantType:   grantType,
	}
	return into, nil
}
