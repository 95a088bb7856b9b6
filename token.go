// Package mint issues OAuth 2.0 access and refresh tokens for a host
// service: an embeddable token endpoint that speaks standard RFC 6749 and
// the legacy wire dialects real clients already use (Horus, Eventhos,
// Django OAuth Toolkit, SocialID).
//
// The engine is the Issuer: over a Store (clients, users, refresh tokens)
// and a Signer (a KeySet of JWT keys), it turns a wire-neutral TokenRequest
// into a Token or a typed *Error, which Dialects and http.Handlers put on the
// wire. Resource servers verify tokens with the verify package, which links
// no password hashing.
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
	"cmp"
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

// Issuer is the token engine: it authenticates the client, runs the grant,
// applies the client's policy, signs the access token and stores the refresh
// token, knowing nothing of HTTP. An Issuer is safe for concurrent use.
type Issuer struct {
	store     Store
	signer    Signer
	cfg       config
	dummy     string        // hash verified when the user is unknown
	hashSlots chan struct{} // bounds concurrent hash computations

	clientKeys *clientKeys  // private_key_jwt clients' keys
	replay     *dpop.Memory // used ids, when the Store is no ReplayCache
	nonces     *dpop.Nonces // DPoP nonces, when required
}

type config struct {
	issuer                string
	audience              []string
	accessTTL, refreshTTL time.Duration
	grace, leeway         time.Duration
	now                   func() time.Time
	hasher                Hasher
	logger                *slog.Logger
	grants                map[string]Grant
	dummyClient           string
	limiter               Limiter
	hashSlots             int
	audit                 func(context.Context, Event)
	claims                ClaimsFunc
	fapi2                 bool
	dpopNonce             []byte // key of the DPoP nonces; nil: none required
}

// Option configures an Issuer. Options validate their arguments and New
// reports the first error.
type Option func(*config) error

// validOption returns the Option that applies set when ok holds, and
// otherwise fails with the error message problem.
func validOption(ok bool, problem string, set func(*config)) Option {
	return func(c *config) error {
		if !ok {
			return errors.New(problem)
		}
		set(c)
		return nil
	}
}

// WithIssuer sets the issuer identifier, the `iss` claim of every token,
// used byte for byte (no slash is added or dropped). Default: "mint".
func WithIssuer(iss string) Option {
	return validOption(iss != "", "mint: empty issuer", func(c *config) { c.issuer = iss })
}

// WithAudience sets the `aud` claim. Default: the issuer identifier.
func WithAudience(aud ...string) Option {
	return validOption(len(aud) > 0 && aud[0] != "", "mint: empty audience", func(c *config) { c.audience = aud })
}

// WithAccessTokenTTL sets the access-token lifetime for clients that set
// none of their own. Default: one hour.
func WithAccessTokenTTL(d time.Duration) Option {
	return validOption(d >= time.Second, "mint: access-token TTL under a second", func(c *config) { c.accessTTL = d })
}

// WithRefreshTokenTTL sets how long a refresh token lives. Default: 30 days.
func WithRefreshTokenTTL(d time.Duration) Option {
	return validOption(d >= time.Second, "mint: refresh-token TTL under a second", func(c *config) { c.refreshTTL = d })
}

// WithRefreshGracePeriod lets a client that lost the answer to a refresh
// present the previous refresh token again within d of its rotation and get
// a new pair; the token it never received is revoked. Default: 0 (off), the
// strict rotation of RFC 9700 section 4.14.2; at most 1 minute.
func WithRefreshGracePeriod(d time.Duration) Option {
	return validOption(d >= 0 && d <= time.Minute, "mint: refresh grace period must be between 0 and 1m", func(c *config) { c.grace = d })
}

// WithClock sets the time source, for tests. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return validOption(now != nil, "mint: nil clock", func(c *config) { c.now = now })
}

// WithLeeway sets the clock skew tolerated on the expiry of tokens the
// Issuer reads back (introspection, revocation). Default: 0; at most 2m.
func WithLeeway(d time.Duration) Option {
	return validOption(d >= 0 && d <= 2*time.Minute, "mint: leeway must be between 0 and 2m", func(c *config) { c.leeway = d })
}

// WithLogger sets the logger for server-side failures. Secrets never
// reach it. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return validOption(l != nil, "mint: nil logger", func(c *config) { c.logger = l })
}

// New returns an Issuer over store and signer. Everything else is an
// Option with a documented default.
func New(store Store, signer Signer, opts ...Option) (*Issuer, error) {
	if store == nil || signer == nil {
		return nil, errors.New("mint: New needs a Store and a Signer")
	}
	cfg := config{issuer: "mint", accessTTL: time.Hour, refreshTTL: 30 * 24 * time.Hour, now: time.Now,
		hasher: Argon2id{}, logger: slog.Default(), limiter: &MemoryLimiter{},
		grants: builtinGrants(), hashSlots: runtime.NumCPU()}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.audience == nil {
		cfg.audience = []string{cfg.issuer}
	}
	if cfg.audit == nil {
		cfg.audit = logAudit(cfg.logger)
	}
	dummy, err := cfg.hasher.Hash(context.Background(), randomString(16)) // at start, outside any request
	if err != nil {
		return nil, err
	}
	cfg.dummyClient = cmp.Or(cfg.dummyClient, dummy)
	if err := cfg.checkProfile(signer); err != nil {
		return nil, err
	}
	iss := &Issuer{store: store, signer: signer, cfg: cfg, dummy: dummy, hashSlots: make(chan struct{}, cfg.hashSlots),
		clientKeys: newClientKeys(cfg.now), replay: &dpop.Memory{Now: cfg.now}}
	if cfg.dpopNonce != nil {
		iss.nonces = dpop.NewNonces(cfg.dpopNonce, 0, cfg.now)
	}
	return iss, nil
}

// TokenRequest is a parsed, wire-neutral token request (RFC 6749 sections
// 4.3.2, 4.4.2 and 6), filled in by a dialect. Its String, GoString,
// LogValue and MarshalJSON hide every secret.
type TokenRequest struct {
	GrantType, ClientID, ClientSecret string
	Username, EmailAddress, Password  string
	RefreshToken                      string
	// Scope is the requested scope, one entry per scope token; nil asks
	// for everything the client (or the refreshed token) may have.
	Scope []string
	// Resource are the RFC 8707 resource indicators asked for, absolute URIs
	// the client lists in Client.Resources, granted as `aud`; nil asks for
	// the client's audience, or the refreshed token's.
	Resource        []string
	ClientAssertion string // a private_key_jwt assertion (RFC 7523 section 2.2)
	DPoP            string // the request's DPoP proof (RFC 9449 section 4), "" if none
	// URL is the token endpoint's URL without query: the htu a DPoP proof
	// must name, and an aud a client assertion may name besides the issuer.
	URL   string
	Extra url.Values // the parameters of extension grants
	// NoRefreshToken says the dialect cannot deliver a refresh token: none
	// is minted, and the refresh_token grant is an unsupported grant type.
	NoRefreshToken        bool
	RequestID, RemoteAddr string // identify the request in logs and audit events

	rawSecret string // the HTTP Basic secret as sent, when its form decoding differs: either may match
	jkt       string // the thumbprint of the checked DPoP proof's key
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

// MarshalJSON encodes what LogValue shows, so that a request serialized by
// mistake leaks no secret, password or refresh token.
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
	// TokenType is "Bearer" (RFC 6750), which dialects print in their own
	// case, or, for a DPoP-bound token, "DPoP", printed as is (RFC 9449
	// section 5).
	TokenType    string
	ExpiresIn    time.Duration // the access token's lifetime
	ExpiresAt    time.Time     // the access token's end
	RefreshToken string        // "" when none was issued
	Scope        []string      // the granted scope
	ID           string        // the access token's jti
	// Client is the authenticated client, User the resource owner (nil for
	// client_credentials); both may be the Store's own: read, do not modify.
	Client    *Client
	User      *User
	GrantType string         // the grant that was run
	Audience  []string       // the token's aud
	Actor     string         // the client that acted for the user (silent_password), or ""
	Answer    map[string]any // the grant's extra answer fields (Authorization.Answer)
}

// String hides the tokens.
func (t Token) String() string { return "mint.Token{ID:" + t.ID + " GrantType:" + t.GrantType + "}" }

// GoString hides the tokens from %#v.
func (t Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without the tokens.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("jti", t.ID), slog.String("grant_type", t.GrantType))
}

// MarshalJSON encodes what LogValue shows, never a token: dialects write
// their own wire shapes, so a Token serialized directly is a mistake.
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
// check it may use the grant, run it, decide the scope, sign the access token
// and store the refresh token. Every failure is an *Error; the audit hook
// hears the outcome.
func (iss *Issuer) Token(ctx context.Context, r *TokenRequest) (*Token, error) {
	grant, client, keys, err := iss.admit(ctx, r)
	if err == nil {
		r.jkt, err = iss.checkDPoP(ctx, r, client)
	}
	var tok *Token // nil whenever err is not
	switch {
	case err != nil:
	case r.GrantType == GrantRefreshToken:
		tok, err = iss.refresh(ctx, r, client)
	default:
		tok, err = iss.authorize(ctx, r, grant, client, keys)
	}
	iss.auditToken(ctx, r, client, tok, err)
	return tok, err
}

// authorize runs a grant other than refresh_token for an authenticated
// client and mints its tokens.
func (iss *Issuer) authorize(ctx context.Context, r *TokenRequest, grant Grant, client *Client, keys limitKeys) (*Token, error) {
	auth, err := grant.Authorize(withLimitKeys(ctx, keys), iss, r, client)
	if err = decided(r.GrantType, auth, err); err != nil {
		return nil, asError(err)
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
		rec := &RefreshToken{ClientID: client.ID, UserID: auth.User.ID, Grant: r.GrantType, Scope: scope,
			Resources: resources, JKT: r.jkt}
		tok.RefreshToken = iss.newRefreshToken(rec)
		rec.Family = rec.Digest // the first token of its family
		if err := iss.store.SaveRefreshToken(ctx, rec); err != nil {
			return nil, serverError(err)
		}
	}
	return tok, nil
}

// admit finds the request's grant, consults the Limiter before any
// hashing, authenticates the client and checks that it may use the grant.
func (iss *Issuer) admit(ctx context.Context, r *TokenRequest) (Grant, *Client, limitKeys, error) {
	keys := limitKeys{clientID: r.ClientID, login: cmp.Or(r.Username, r.EmailAddress)}
	if r.GrantType == "" {
		return nil, nil, keys, missing("grant_type")
	}
	grant, ok := iss.cfg.grants[r.GrantType]
	// A dialect that cannot deliver a refresh token does not serve the refresh
	// grant: rotating would spend the client's token for one it never sees.
	if !ok || (r.GrantType == GrantRefreshToken && r.NoRefreshToken) || !iss.cfg.fapiGrant(r.GrantType) {
		return nil, nil, keys, &Error{Kind: KindUnsupportedGrant}
	}
	if err := iss.checkLimits(ctx, keys); err != nil {
		return nil, nil, keys, err
	}
	creds := wire.Credentials{ID: r.ClientID, Secrets: []string{r.ClientSecret}, Assertion: r.ClientAssertion}
	if r.rawSecret != "" {
		creds.Secrets = append(creds.Secrets, r.rawSecret)
	}
	client, err := iss.authenticateAny(ctx, keys, creds, r.URL)
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
	c := &Claims{Issuer: iss.cfg.issuer, Subject: client.ID, SubjectType: SubjectClient, Audience: aud,
		IssuedAt: now, ExpiresAt: now.Add(ttl), ID: randomString(16), ClientID: client.ID,
		Scope: strings.Join(scope, " "), Roles: client.Roles, Actor: auth.Actor, Extra: extra, JKT: r.jkt}
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
	return &Token{AccessToken: at, TokenType: tokenType(r.jkt), ExpiresIn: ttl, ExpiresAt: c.ExpiresAt,
		Scope: scope, ID: c.ID, Client: client, User: auth.User, GrantType: r.GrantType,
		Audience: c.Audience, Actor: c.Actor, Answer: auth.Answer}, nil
}

// tokenType is the token_type of an access token bound to the DPoP key
// jkt, "" for none: DPoP or Bearer.
func tokenType(jkt string) string {
	if jkt != "" {
		return "DPoP"
	}
	return "Bearer"
}

// grantScope decides the scope of a new grant (RFC 6749 section 3.3): what
// was requested if allowed, all of allowed if nothing was.
func grantScope(requested, allowed []string) ([]string, error) {
	return grantSubset(requested, allowed, allowed, KindInvalidScope, validScopeToken, "the scope is malformed")
}

// grantResources decides the RFC 8707 resources of a grant: the requested
// ones if allowed lists each, whenNone if none was requested.
func grantResources(requested, allowed, whenNone []string) ([]string, error) {
	return grantSubset(requested, allowed, whenNone, KindInvalidTarget, validResource,
		"a resource must be an absolute URI without a fragment")
}

// grantSubset returns requested without repeats ("read read" grants "read")
// if each entry is valid and in allowed, whenNone if it is empty; else an
// *Error of kind, with the description malformed for an invalid entry.
func grantSubset(requested, allowed, whenNone []string, kind Kind, valid func(string) bool, malformed string) ([]string, error) {
	if len(requested) == 0 {
		return whenNone, nil
	}
	out := make([]string, 0, len(requested))
	for _, s := range requested {
		if !valid(s) {
			return nil, &Error{Kind: kind, Description: malformed}
		}
		if !contains(allowed, s) {
			return nil, &Error{Kind: kind}
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// validScopeToken reports whether s is an RFC 6749 section 3.3
// scope-token: one or more of %x21 / %x23-5B / %x5D-7E.
func validScopeToken(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(c rune) bool { return c < 0x21 || c > 0x7e || c == '"' || c == '\\' })
}

// validResource reports whether res is an absolute URI without a fragment
// (RFC 8707 section 2).
func validResource(res string) bool {
	u, err := url.Parse(res)
	return err == nil && u.IsAbs() && !strings.Contains(res, "#")
}

// splitScope splits a scope parameter on SP (%x20) only (RFC 6749 section
// 3.3): any other separator stays in a token and makes it invalid.
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
