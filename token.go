// Package mint issues OAuth 2.0 access and refresh tokens for a host
// service: an embeddable token endpoint that speaks standard RFC 6749 and
// the legacy wire dialects real clients already use (Horus, Eventhos,
// Django OAuth Toolkit, SocialID).
//
// The engine is the Issuer: built from a Store (clients, users, refresh
// tokens) and a Signer (a KeySet of JWT keys), it turns a wire-neutral
// TokenRequest into a Token or a typed *Error. Dialects and http.Handlers
// put it on the wire; a host mounts them at its own paths. Resource
// servers verify the tokens with the verify package, which links no
// password hashing.
//
//	package main
//
//	import (
//		"log"
//		"net/http"
//
//		"github.com/mintauth/mint"
//	)
//
//	func main() {
//		secret, hash, _ := mint.GenerateSecret()
//		log.Printf("client svc, secret %s", secret)
//		store := mint.NewMemoryStore()
//		store.PutClient(&mint.Client{ID: "svc", SecretHash: hash,
//			Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}})
//		key, _ := mint.GenerateKey(mint.EdDSA)
//		keys, _ := mint.NewKeySet(key)
//		issuer, err := mint.New(store, keys, mint.WithIssuer("http://127.0.0.1:8080"))
//		if err != nil {
//			log.Fatal(err)
//		}
//		http.Handle("/oauth2/token", mint.TokenHandler{Issuer: issuer})
//		http.Handle("/.well-known/jwks.json", mint.JWKSHandler(keys))
//		log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
//	}
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

	"github.com/mintauth/mint/internal/dpop"
	"github.com/mintauth/mint/internal/wire"
)

// Issuer is the token engine. It authenticates the client, runs the grant,
// applies the client's policy (grants, scopes, lifetimes), signs the access
// token and stores the refresh token. It knows nothing of HTTP or JSON
// shapes. An Issuer is safe for concurrent use.
type Issuer struct {
	store     Store
	signer    Signer
	cfg       config
	grants    map[string]Grant
	dummy     string        // hash verified when the user is unknown
	hashSlots chan struct{} // bounds concurrent hash computations

	clientKeys *clientKeys  // private_key_jwt clients' keys
	replay     *dpop.Memory // used ids, when the Store is no ReplayCache
	nonces     *dpop.Nonces // DPoP nonces, when required
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
	grants      map[string]Grant
	dummyClient string
	limiter     Limiter
	hashSlots   int
	audit       AuditFunc
	claims      ClaimsFunc
	fapi2       bool
	dpopNonce   []byte // key of the DPoP nonces; nil: none required
}

// Option configures an Issuer. Options validate their arguments and New
// reports the first error.
type Option func(*config) error

// WithIssuer sets the issuer identifier, the `iss` claim of every token,
// used byte for byte (no slash is added or dropped). Default: "mint".
func WithIssuer(iss string) Option {
	return func(c *config) error {
		if iss == "" {
			return errors.New("mint: empty issuer")
		}
		c.issuer = iss
		return nil
	}
}

// WithAudience sets the `aud` claim. Default: the issuer identifier.
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
// the Issuer reads back itself (introspection, revocation).
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
		hasher:     Argon2id{},
		logger:     slog.Default(),
		grants:     builtinGrants(),
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
		cfg.audit = logAudit(cfg.logger)
	}
	dummy, err := cfg.hasher.Hash(context.Background(), randomString(16)) // at start, outside any request
	if err != nil {
		return nil, err
	}
	if cfg.dummyClient == "" {
		cfg.dummyClient = dummy
	}
	if err := cfg.checkProfile(signer); err != nil {
		return nil, err
	}
	iss := &Issuer{store: store, signer: signer, cfg: cfg, grants: cfg.grants, dummy: dummy,
		hashSlots:  make(chan struct{}, cfg.hashSlots),
		clientKeys: newClientKeys(cfg.now),
		replay:     &dpop.Memory{Now: cfg.now}}
	if cfg.dpopNonce != nil {
		iss.nonces = dpop.NewNonces(cfg.dpopNonce, 0, cfg.now)
	}
	return iss, nil
}

// TokenRequest is a parsed, wire-neutral token request (RFC 6749 sections
// 4.3.2, 4.4.2 and 6). Dialects fill it in; the Issuer never sees HTTP.
// Its String, GoString, LogValue and MarshalJSON hide every secret.
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
	// Resource are the RFC 8707 resource indicators asked for: absolute
	// URIs the client lists in Client.Resources, granted as the token's
	// `aud`. Nil asks for the client's default audience (or, on a
	// refresh, what the refreshed token was granted).
	Resource []string
	// ClientAssertion is a private_key_jwt client assertion (RFC 7523
	// section 2.2), sent instead of a secret.
	ClientAssertion string
	// DPoP is the request's DPoP proof (RFC 9449 section 4), "" if none.
	DPoP string
	// URL is the token endpoint's URL without query, as clients address
	// it: the htu a DPoP proof must name, and an aud a client assertion
	// may name besides the issuer identifier.
	URL string
	// Extra holds the parameters of extension grants.
	Extra url.Values
	// NoRefreshToken says the dialect cannot deliver a refresh token, so
	// none is minted (nothing the client never saw is left in the store),
	// and the refresh_token grant is an unsupported grant type.
	NoRefreshToken bool
	// RequestID and RemoteAddr identify the request in logs and audit events.
	RequestID, RemoteAddr string

	// rawSecret is the HTTP Basic secret as sent, when it differs from
	// its form-decoded ClientSecret: either may match.
	rawSecret string
	// jkt is the thumbprint of the checked DPoP proof's key, once the
	// Issuer has checked it.
	jkt string
}

// secrets returns the client secrets to try.
func (r *TokenRequest) secrets() []string {
	if r.rawSecret != "" {
		return []string{r.ClientSecret, r.rawSecret}
	}
	return []string{r.ClientSecret}
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
	// Audience is the token's aud; Actor the client that acted for the
	// user (silent_password), "" otherwise.
	Audience []string
	Actor    string
	// Answer are the grant's extra answer fields (Authorization.Answer).
	Answer map[string]any
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

// Token runs a token request: check the Limiter, authenticate the client,
// check it may use the grant, run the grant, decide the scope, sign the
// access token and store the refresh token, in that order. Every failure
// is an *Error, and the outcome is reported to the audit hook.
func (iss *Issuer) Token(ctx context.Context, r *TokenRequest) (*Token, error) {
	grant, client, keys, err := iss.admit(ctx, r)
	if err == nil {
		r.jkt, err = iss.checkDPoP(ctx, r, client)
	}
	var tok *Token
	switch {
	case err != nil:
	case r.GrantType == GrantRefreshToken:
		tok, err = iss.refresh(ctx, r, client)
	default:
		tok, err = iss.authorize(ctx, r, grant, client, keys)
	}
	iss.auditToken(ctx, r, client, tok, err)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// authorize runs a grant other than refresh_token for an authenticated
// client and mints its tokens.
func (iss *Issuer) authorize(ctx context.Context, r *TokenRequest, grant Grant, client *Client, keys limitKeys) (*Token, error) {
	auth, err := grant.Authorize(withLimitKeys(ctx, keys), iss, r, client)
	if err = decided(r.GrantType, auth, err); err != nil {
		return nil, AsError(err)
	}
	if auth.User != nil {
		iss.limitSucceeded(ctx, keys.key(userKey))
	}
	for name := range auth.Answer {
		if standardAnswerField(name) {
			return nil, serverError(errors.New("mint: grant " + r.GrantType + " set the standard answer field " + name))
		}
	}
	scope, err := grantScope(r.Scope, client.Scopes)
	if err != nil {
		return nil, err
	}
	resources, err := grantResources(r.Resource, client.Resources, nil)
	if err != nil {
		return nil, err
	}
	tok, err := iss.mint(ctx, r, client, auth, scope, resources)
	if err != nil {
		return nil, err
	}
	if auth.User != nil && !r.NoRefreshToken && client.AllowsGrant(GrantRefreshToken) {
		secret, rec := iss.newRefreshToken(client, auth.User.ID, r.GrantType, scope)
		rec.Family, rec.Resources, rec.JKT = rec.Digest, resources, r.jkt
		if err := iss.store.SaveRefreshToken(ctx, rec); err != nil {
			return nil, serverError(err)
		}
		tok.RefreshToken = secret
	}
	return tok, nil
}

// admit finds the request's grant, consults the Limiter before any
// hashing, authenticates the client and checks that it may use the grant.
func (iss *Issuer) admit(ctx context.Context, r *TokenRequest) (Grant, *Client, limitKeys, error) {
	keys := limitKeys{clientID: r.ClientID, login: r.Username}
	if keys.login == "" {
		keys.login = r.EmailAddress
	}
	if r.GrantType == "" {
		return nil, nil, keys, missing("grant_type")
	}
	grant, ok := iss.grants[r.GrantType]
	// A dialect that cannot deliver a refresh token does not serve the
	// refresh grant: rotating would spend the client's token for a
	// successor it never sees.
	if !ok || (r.GrantType == GrantRefreshToken && r.NoRefreshToken) || !iss.cfg.fapiGrant(r.GrantType) {
		return nil, nil, keys, &Error{Kind: KindUnsupportedGrant}
	}
	if err := iss.checkLimits(ctx, keys); err != nil {
		return nil, nil, keys, err
	}
	client, err := iss.authenticateAny(ctx, keys, wire.Credentials{ID: r.ClientID, Secrets: r.secrets(),
		Assertion: r.ClientAssertion}, r.URL)
	if err != nil {
		return nil, nil, keys, err
	}
	if !client.AllowsGrant(r.GrantType) {
		return nil, client, keys, &Error{Kind: KindGrantNotAllowed}
	}
	return grant, client, keys, nil
}

// mint signs the access token (RFC 9068) of request r: its aud is the
// granted resources, else the client's audience, else the Issuer's.
func (iss *Issuer) mint(ctx context.Context, r *TokenRequest, client *Client, auth *Authorization, scope, resources []string) (*Token, error) {
	aud := resources
	if len(aud) == 0 {
		aud = client.Audience
	}
	if len(aud) == 0 {
		aud = iss.cfg.audience
	}
	extra, err := iss.extraClaims(ctx, &ClaimsRequest{Client: client, User: auth.User, GrantType: r.GrantType,
		Scope: scope, Audience: aud, Extra: r.Extra})
	if err != nil {
		return nil, err
	}
	now := iss.cfg.now()
	ttl := iss.cfg.accessTTL
	if client.AccessTokenTTL > 0 {
		ttl = client.AccessTokenTTL
	}
	c := &Claims{
		Issuer:      iss.cfg.issuer,
		Subject:     client.ID,
		Audience:    aud,
		IssuedAt:    now,
		ExpiresAt:   now.Add(ttl),
		ID:          randomString(16),
		ClientID:    client.ID,
		Scope:       strings.Join(scope, " "),
		Roles:       client.Roles,
		Actor:       auth.Actor,
		Extra:       extra,
		SubjectType: SubjectClient,
		JKT:         r.jkt,
	}
	if auth.User != nil {
		c.Subject, c.Roles, c.SubjectType = auth.User.ID, auth.User.Roles, SubjectUser
	}
	at, err := iss.signer.Sign(ctx, c)
	if err != nil {
		return nil, serverError(err)
	}
	if err := iss.checkFAPISigned(at); err != nil {
		return nil, err
	}
	return &Token{
		AccessToken: at,
		TokenType:   tokenType(r.jkt),
		ExpiresIn:   ttl,
		ExpiresAt:   c.ExpiresAt,
		Scope:       scope,
		ID:          c.ID,
		Client:      client,
		User:        auth.User,
		GrantType:   r.GrantType,
		Audience:    c.Audience,
		Actor:       c.Actor,
		Answer:      auth.Answer,
	}, nil
}

// tokenType is the token_type of an access token bound to the DPoP key
// jkt, "" for none: DPoP or Bearer.
func tokenType(jkt string) string {
	if jkt != "" {
		return "DPoP"
	}
	return "Bearer"
}

// grantScope decides the scope of a new grant: the requested scopes if
// each is a well-formed scope token the client may have (RFC 6749 section
// 3.3), without repeats; all of the client's if none was requested.
func grantScope(requested, allowed []string) ([]string, error) {
	if len(requested) == 0 {
		return allowed, nil
	}
	out := make([]string, 0, len(requested))
	for _, s := range requested {
		if !validScopeToken(s) {
			return nil, &Error{Kind: KindInvalidScope, Description: "the scope is malformed"}
		}
		if !contains(allowed, s) {
			return nil, &Error{Kind: KindInvalidScope}
		}
		if !contains(out, s) { // a scope is a set: "read read" grants "read"
			out = append(out, s)
		}
	}
	return out, nil
}

// grantResources decides the RFC 8707 resources of a grant: the requested
// ones if each is an absolute URI without a fragment that allowed lists,
// without repeats; whenNone if none was requested.
func grantResources(requested, allowed, whenNone []string) ([]string, error) {
	if len(requested) == 0 {
		return whenNone, nil
	}
	out := make([]string, 0, len(requested))
	for _, res := range requested {
		if u, err := url.Parse(res); err != nil || !u.IsAbs() || strings.Contains(res, "#") {
			return nil, &Error{Kind: KindInvalidTarget, Description: "a resource must be an absolute URI without a fragment"}
		}
		if !contains(allowed, res) {
			return nil, &Error{Kind: KindInvalidTarget}
		}
		if !contains(out, res) {
			out = append(out, res)
		}
	}
	return out, nil
}

// validScopeToken reports whether s is an RFC 6749 section 3.3
// scope-token: one or more of %x21 / %x23-5B / %x5D-7E.
func validScopeToken(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}

// splitScope splits a scope parameter on SP (%x20) only (RFC 6749
// section 3.3); any other separator stays in a token and makes it
// invalid.
func splitScope(s string) []string {
	var out []string
	for tok := range strings.SplitSeq(s, " ") {
		if tok != "" {
			out = append(out, tok)
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
