package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/internal/jwtcheck"
)

// Config is the server's configuration file (see the README, "Reference
// server"). Plaintext secrets and passwords are replaced by their hashes
// as the file is loaded: after LoadConfig no plaintext is left in it.
type Config struct {
	// Issuer is the `iss` of every token, used byte for byte. Required.
	Issuer string `json:"issuer"`
	// Audience is the `aud` of every token. Default: the issuer.
	Audience string `json:"audience,omitempty"`
	// AccessTokenTTL is the access-token lifetime of clients that set none.
	// Default: one hour.
	AccessTokenTTL Duration `json:"access_token_ttl,omitzero"`
	// RefreshTokenTTL is the refresh-token lifetime. Default: 30 days.
	RefreshTokenTTL Duration `json:"refresh_token_ttl,omitzero"`
	// RefreshGracePeriod is how long after a refresh the client may present
	// the previous refresh token again, for a client that lost the answer
	// (a server that died after the rotation committed): it gets a new
	// pair, and the pair it never received is revoked. At most one minute.
	// Default: 0s, strict rotation, where that retry revokes the family.
	RefreshGracePeriod GracePeriod `json:"refresh_grace_period,omitzero"`
	// Clients and Users are put in the store at start.
	Clients []ClientConfig `json:"clients"`
	Users   []UserConfig   `json:"users,omitempty"`
	// KeyPublishAhead is how long a signing key added to a SQL store is
	// published in the JWKS before it signs: longer than KeySyncInterval
	// plus the time verifiers cache the JWKS. Default: five minutes.
	KeyPublishAhead Duration `json:"key_publish_ahead,omitzero"`
	// KeySyncInterval is how often a server on a SQL store re-reads the
	// signing keys. Default: 30 seconds.
	KeySyncInterval Duration `json:"key_sync_interval,omitzero"`
	// DPoPRequireNonce makes DPoP proofs carry a server nonce (RFC 9449
	// section 8). The nonce key is made at start: replicas behind one
	// address each accept only their own nonces.
	DPoPRequireNonce bool `json:"dpop_require_nonce,omitempty"`
	// Profile "fapi2" turns on the FAPI 2.0 profile (mint.WithFAPI2);
	// "" is none.
	Profile string `json:"profile,omitempty"`

	dpopNonceKey []byte // see nonceKey
}

// ClientConfig is one registered client. It has at least one secret: one
// of Secret and SecretHash (never both), entries of Secrets, or both.
type ClientConfig struct {
	ID          string   `json:"id"`
	Secret      string   `json:"secret,omitempty"`
	SecretHash  string   `json:"secret_hash,omitempty"`
	Name        string   `json:"name,omitempty"`
	Description string   `json:"description,omitempty"`
	Identifier  string   `json:"identifier,omitempty"`
	Grants      []string `json:"grants"`
	Scopes      []string `json:"scopes,omitempty"`
	Roles       []int    `json:"roles,omitempty"`
	// Secrets are further secrets, each with an optional expiry: to
	// rotate, give the new secret and keep the old one here with an
	// expiry until every caller has switched.
	Secrets []SecretConfig `json:"secrets,omitempty"`
	// AccessTokenTTL overrides Config.AccessTokenTTL for this client.
	AccessTokenTTL Duration `json:"access_token_ttl,omitzero"`
	// Audience is the client's default `aud`; Resources the RFC 8707
	// resources it may ask for with `resource`.
	Audience  []string `json:"audience,omitempty"`
	Resources []string `json:"resources,omitempty"`
	// Claims are static claims of the client's tokens (a user's win).
	Claims map[string]any `json:"claims,omitempty"`
	// TokenEndpointAuthMethod, JWKS, JWKSURI and DPoPBoundAccessTokens
	// are the RFC 7591 and RFC 9449 client metadata: "private_key_jwt"
	// with the client's public keys inline or at a URL, instead of a
	// secret; and whether every token of the client is DPoP-bound.
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	DPoPBoundAccessTokens   bool            `json:"dpop_bound_access_tokens,omitempty"`
}

// SecretConfig is one of a client's Secrets: exactly one of Secret and
// SecretHash, and the instant it stops working (RFC 3339, e.g.
// "2026-12-31T00:00:00Z"; absent: never).
type SecretConfig struct {
	Secret     string    `json:"secret,omitempty"`
	SecretHash string    `json:"secret_hash,omitempty"`
	Expires    time.Time `json:"expires,omitzero"`
}

// UserConfig is one resource owner. Exactly one of Password and
// PasswordHash is given, and at least one of Username and Email.
type UserConfig struct {
	ID           string `json:"id"`
	Username     string `json:"username,omitempty"`
	Email        string `json:"email,omitempty"`
	Password     string `json:"password,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
	Roles        []int  `json:"roles,omitempty"`
	// Claims are static claims of the user's tokens.
	Claims map[string]any `json:"claims,omitempty"`
	// Disabled refuses the user's logins, once the password verified,
	// and the user's refresh tokens (mint.User.Disabled). On a SQL store
	// it is written at start, like the rest of the user; `mint users
	// disable` and `enable` change it while the servers run.
	Disabled bool `json:"disabled,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string:
// "1h", "15m", "604800s".
type Duration time.Duration

// UnmarshalJSON reads a duration string of at least one second.
func (d *Duration) UnmarshalJSON(b []byte) error {
	v, s, err := parseDuration(b)
	if err != nil {
		return err
	}
	if v < time.Second {
		return fmt.Errorf("duration %q is under one second", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration in seconds, e.g. "3600s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(fmt.Sprintf("%ds", int64(time.Duration(d)/time.Second)))
}

// GracePeriod is a Duration that may be zero ("0s"), which turns the
// grace off; its range is checked with the rest of the configuration.
type GracePeriod time.Duration

// UnmarshalJSON reads a duration string, "0s" included.
func (g *GracePeriod) UnmarshalJSON(b []byte) error {
	v, _, err := parseDuration(b)
	if err != nil {
		return err
	}
	*g = GracePeriod(v)
	return nil
}

// MarshalJSON writes the period as a Go duration string, e.g. "30s".
func (g GracePeriod) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(g).String())
}

// maxGracePeriod is the longest refresh_grace_period, as
// mint.WithRefreshGracePeriod allows.
const maxGracePeriod = time.Minute

// parseDuration reads a JSON duration string and returns it and the string.
func parseDuration(b []byte) (time.Duration, string, error) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, "", fmt.Errorf("want a duration string like \"1h\" or \"604800s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, s, fmt.Errorf("bad duration %q: want a string like \"1h\" or \"604800s\"", s)
	}
	return v, s, nil
}

// knownGrants are the grant types a client may list.
var knownGrants = []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken, mint.GrantSilentPassword}

// hashPrefixes are the hash formats mint.Argon2id verifies.
var hashPrefixes = []string{"$argon2id$", "$2a$", "$2b$", "$2y$", "$sha256$"}

// LoadConfig reads, validates and hashes the configuration file at path;
// ctx reaches the hasher.
func LoadConfig(ctx context.Context, path string, hasher mint.Hasher) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(ctx, b, hasher)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a configuration strictly (an unknown field, a
// trailing value or a wrong type is an error), validates it, and replaces
// every plaintext secret and password by its hash from hasher, called
// with ctx.
func ParseConfig(ctx context.Context, b []byte, hasher mint.Hasher) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, decodeError(b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("config: unexpected data after the JSON object")
	}
	if err := cfg.prepare(ctx, hasher); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// prepare validates the configuration and hashes its plaintexts.
func (c *Config) prepare(ctx context.Context, hasher mint.Hasher) error {
	if err := c.validate(); err != nil {
		return err
	}
	return c.hash(ctx, hasher)
}

// decodeError turns a json error into one that names the line and column.
func decodeError(b []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if errors.Is(err, io.EOF) {
		return errors.New("config: empty file")
	}
	if off < 0 {
		return fmt.Errorf("config: %w", err)
	}
	// Offset counts the bytes read, the offending one included.
	pos := max(0, min(off-1, int64(len(b))))
	line := 1 + bytes.Count(b[:pos], []byte("\n"))
	col := pos - int64(bytes.LastIndexByte(b[:pos], '\n'))
	return fmt.Errorf("config: line %d, column %d: %w", line, col, err)
}

func (c *Config) validate() error {
	if err := c.validateServer(); err != nil {
		return err
	}
	if len(c.Clients) == 0 {
		return errors.New("config: at least one client is required")
	}
	ids := map[string]bool{}
	for i := range c.Clients {
		if err := c.Clients[i].validate(fmt.Sprintf("config: clients[%d]", i), ids); err != nil {
			return err
		}
	}
	userIDs, logins := map[string]bool{}, map[string]string{}
	for i := range c.Users {
		if err := c.Users[i].validate(fmt.Sprintf("config: users[%d]", i), userIDs, logins); err != nil {
			return err
		}
	}
	return nil
}

// validateServer checks the server-wide settings: the issuer, the refresh
// grace period and the key timings.
func (c *Config) validateServer() error {
	if c.Issuer == "" {
		return errors.New("config: issuer is required")
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("config: issuer %q must be an absolute http(s) URL without query or fragment (RFC 8414 section 2)", c.Issuer)
	}
	if g := time.Duration(c.RefreshGracePeriod); g < 0 || g > maxGracePeriod {
		return fmt.Errorf("config: refresh_grace_period %s is out of range: want 0s (off) to %s", g, maxGracePeriod)
	}
	if ahead, sync := c.keyPolicy().PublishAhead, c.keySyncInterval(); ahead <= sync {
		return fmt.Errorf("config: key_publish_ahead (%s) must exceed key_sync_interval (%s), or a replica may sign with a key the others do not publish yet", ahead, sync)
	}
	return c.validateProfile()
}

// validate checks one client; ids are the client ids seen so far.
func (cl *ClientConfig) validate(where string, ids map[string]bool) error {
	where, err := uniqueID(where, cl.ID, ids)
	if err != nil {
		return err
	}
	if err := cl.validateAuth(where); err != nil {
		return err
	}
	if len(cl.Grants) == 0 {
		return fmt.Errorf("%s: grants is empty: list at least one of %s", where, strings.Join(knownGrants, ", "))
	}
	for _, g := range cl.Grants {
		if !slices.Contains(knownGrants, g) {
			return fmt.Errorf("%s: unknown grant %q: want one of %s", where, g, strings.Join(knownGrants, ", "))
		}
	}
	for _, s := range cl.Scopes {
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
			return fmt.Errorf("%s: scope %q is not a valid scope token (RFC 6749 section 3.3)", where, s)
		}
	}
	if err := checkResources(where, cl.Resources); err != nil {
		return err
	}
	return checkClaims(where, cl.Claims)
}

// validateSecrets checks that the client has a secret, and each of its
// secrets. The messages never quote a secret or a hash.
func (cl *ClientConfig) validateSecrets(where string) error {
	if cl.Secret == "" && cl.SecretHash == "" && len(cl.Secrets) == 0 {
		return fmt.Errorf("%s: give secret, secret_hash or secrets", where)
	}
	if cl.Secret != "" || cl.SecretHash != "" {
		if err := oneOf(cl.Secret, cl.SecretHash, "secret", "secret_hash"); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	if err := checkHash(cl.SecretHash); err != nil {
		return fmt.Errorf("%s: secret_hash: %w", where, err)
	}
	for i, sec := range cl.Secrets {
		if err := oneOf(sec.Secret, sec.SecretHash, "secret", "secret_hash"); err != nil {
			return fmt.Errorf("%s: secrets[%d]: %w", where, i, err)
		}
		if err := checkHash(sec.SecretHash); err != nil {
			return fmt.Errorf("%s: secrets[%d]: secret_hash: %w", where, i, err)
		}
	}
	return nil
}

// checkResources refuses a resource that is not an absolute URI without
// a fragment (RFC 8707 section 2).
func checkResources(where string, resources []string) error {
	for _, res := range resources {
		if u, err := url.Parse(res); err != nil || !u.IsAbs() || strings.Contains(res, "#") {
			return fmt.Errorf("%s: resource %q is not an absolute URI without a fragment (RFC 8707 section 2)", where, res)
		}
	}
	return nil
}

// checkClaims refuses at start a claim name mint sets itself (the library's
// own list: this server is part of its module), and the user_id of the
// /api/me answer, which must come from a user's token only.
func checkClaims(where string, claims map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		if jwtcheck.Reserved(name) {
			return fmt.Errorf("%s: claims: %q is a claim mint sets itself", where, name)
		}
		if name == meUserID {
			return fmt.Errorf("%s: claims: %q is what /api/me answers for a user's token only", where, name)
		}
	}
	return nil
}

// validate checks one user; ids and logins are those seen so far.
func (u *UserConfig) validate(where string, ids map[string]bool, logins map[string]string) error {
	where, err := uniqueID(where, u.ID, ids)
	if err != nil {
		return err
	}
	if u.Username == "" && u.Email == "" {
		return errors.New(where + ": give a username, an email or both")
	}
	for kind, v := range map[string]string{"username": u.Username, "email": u.Email} {
		if v == "" {
			continue
		}
		if other, ok := logins[kind+"\x00"+v]; ok {
			return fmt.Errorf("%s: %s %q already belongs to user %q", where, kind, v, other)
		}
		logins[kind+"\x00"+v] = u.ID
	}
	if err := oneOf(u.Password, u.PasswordHash, "password", "password_hash"); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if err := checkHash(u.PasswordHash); err != nil {
		return fmt.Errorf("%s: password_hash: %w", where, err)
	}
	return checkClaims(where, u.Claims)
}

// uniqueID checks that id is given and not seen before, records it, and
// returns where with the id appended for the next messages.
func uniqueID(where, id string, seen map[string]bool) (string, error) {
	if id == "" {
		return where, errors.New(where + ": id is required")
	}
	where += fmt.Sprintf(" (%q)", id)
	if seen[id] {
		return where, errors.New(where + ": duplicate id")
	}
	seen[id] = true
	return where, nil
}

// oneOf checks that exactly one of a plaintext and its hash is given.
func oneOf(plain, hash, plainName, hashName string) error {
	switch {
	case plain == "" && hash == "":
		return fmt.Errorf("give %s or %s", plainName, hashName)
	case plain != "" && hash != "":
		return fmt.Errorf("give %s or %s, not both", plainName, hashName)
	}
	return nil
}

// checkHash checks that a pre-hashed value is in a format mint verifies.
// The message never quotes the hash.
func checkHash(h string) error {
	if h == "" {
		return nil
	}
	for _, p := range hashPrefixes {
		if strings.HasPrefix(h, p) {
			return nil
		}
	}
	return errors.New("unrecognised format: want $argon2id$..., bcrypt $2b$... or $sha256$... (mint.HashPassword, mint.GenerateSecret)")
}

// hash replaces every plaintext secret and password by its hash.
func (c *Config) hash(ctx context.Context, h mint.Hasher) error {
	for i := range c.Clients {
		cl := &c.Clients[i]
		if err := hashSecret(ctx, h, &cl.Secret, &cl.SecretHash); err != nil {
			return fmt.Errorf("config: hashing the secret of client %q: %w", cl.ID, err)
		}
		for j := range cl.Secrets {
			if err := hashSecret(ctx, h, &cl.Secrets[j].Secret, &cl.Secrets[j].SecretHash); err != nil {
				return fmt.Errorf("config: hashing secrets[%d] of client %q: %w", j, cl.ID, err)
			}
		}
	}
	for i := range c.Users {
		u := &c.Users[i]
		if u.Password == "" {
			continue
		}
		hash, err := h.Hash(ctx, u.Password)
		if err != nil {
			return fmt.Errorf("config: hashing the password of user %q: %w", u.ID, err)
		}
		u.PasswordHash, u.Password = hash, ""
	}
	return nil
}

// hashSecret replaces a plaintext *plain, if any, by its hash in *hash.
func hashSecret(ctx context.Context, h mint.Hasher, plain, hash *string) error {
	if *plain == "" {
		return nil
	}
	v, err := h.Hash(ctx, *plain)
	if err != nil {
		return err
	}
	*hash, *plain = v, ""
	return nil
}

// MintClients returns the configured clients as the store holds them.
func (c *Config) MintClients() []*mint.Client {
	out := make([]*mint.Client, 0, len(c.Clients))
	for _, cl := range c.Clients {
		var secrets []mint.Secret
		for _, sec := range cl.Secrets {
			secrets = append(secrets, mint.Secret{Hash: sec.SecretHash, ExpiresAt: sec.Expires})
		}
		out = append(out, &mint.Client{
			ID: cl.ID, SecretHash: cl.SecretHash, Secrets: secrets,
			Name: cl.Name, Description: cl.Description, Identifier: cl.Identifier,
			Grants: cl.Grants, Scopes: cl.Scopes, Roles: cl.Roles,
			AccessTokenTTL: time.Duration(cl.AccessTokenTTL),
			Audience:       cl.Audience, Resources: cl.Resources,
			AuthMethod: authMethod(cl.TokenEndpointAuthMethod), JWKS: cl.JWKS, JWKSURI: cl.JWKSURI,
			DPoPBound: cl.DPoPBoundAccessTokens,
		})
	}
	return out
}

// MintUsers returns the configured users as the store holds them.
func (c *Config) MintUsers() []*mint.User {
	out := make([]*mint.User, 0, len(c.Users))
	for _, u := range c.Users {
		out = append(out, &mint.User{ID: u.ID, Username: u.Username, Email: u.Email, PasswordHash: u.PasswordHash, Roles: u.Roles,
			Disabled: u.Disabled})
	}
	return out
}

// Scopes returns every scope some client may be granted, sorted, for the
// metadata's scopes_supported.
func (c *Config) Scopes() []string {
	var all []string
	for _, cl := range c.Clients {
		all = append(all, cl.Scopes...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// audience returns the `aud` of the tokens: Audience, else the issuer.
func (c *Config) audience() string {
	if c.Audience != "" {
		return c.Audience
	}
	return c.Issuer
}

// claims is the server's claims hook: the client's static claims, then
// the user's (which win). A disabled user never reaches it: the Issuer
// refuses one itself (mint.User.Disabled).
func (c *Config) claims() mint.ClaimsFunc {
	clients, users := map[string]map[string]any{}, map[string]map[string]any{}
	for _, cl := range c.Clients {
		clients[cl.ID] = cl.Claims
	}
	for _, u := range c.Users {
		users[u.ID] = u.Claims
	}
	return func(_ context.Context, r *mint.ClaimsRequest) (map[string]any, error) {
		out := maps.Clone(clients[r.Client.ID])
		if r.User != nil {
			if out == nil {
				out = map[string]any{}
			}
			maps.Copy(out, users[r.User.ID])
		}
		return out, nil
	}
}

// keyPolicy returns when a stored signing key starts signing:
// KeyPublishAhead after it was added, by default five minutes; and how
// long a retired key stays published: the longest access-token lifetime.
func (c *Config) keyPolicy() mint.KeyPolicy {
	ahead := 5 * time.Minute
	if c.KeyPublishAhead != 0 {
		ahead = time.Duration(c.KeyPublishAhead)
	}
	return mint.KeyPolicy{PublishAhead: ahead, TokenLifetime: c.longestAccessTokenTTL()}
}

// longestAccessTokenTTL is the longest lifetime of the access tokens the
// server issues: AccessTokenTTL (default one hour) or a client's own.
func (c *Config) longestAccessTokenTTL() time.Duration {
	longest := time.Hour
	if c.AccessTokenTTL != 0 {
		longest = time.Duration(c.AccessTokenTTL)
	}
	for _, cl := range c.Clients {
		longest = max(longest, time.Duration(cl.AccessTokenTTL))
	}
	return longest
}

// keySyncInterval returns KeySyncInterval, by default 30 seconds.
func (c *Config) keySyncInterval() time.Duration {
	if c.KeySyncInterval != 0 {
		return time.Duration(c.KeySyncInterval)
	}
	return 30 * time.Second
}

// issuerOptions returns the mint.Options the configuration asks for.
func (c *Config) issuerOptions() []mint.Option {
	opts := []mint.Option{mint.WithIssuer(c.Issuer), mint.WithClaims(c.claims())}
	if c.Audience != "" {
		opts = append(opts, mint.WithAudience(c.Audience))
	}
	if c.AccessTokenTTL != 0 {
		opts = append(opts, mint.WithAccessTokenTTL(time.Duration(c.AccessTokenTTL)))
	}
	if c.RefreshTokenTTL != 0 {
		opts = append(opts, mint.WithRefreshTokenTTL(time.Duration(c.RefreshTokenTTL)))
	}
	if c.RefreshGracePeriod != 0 {
		opts = append(opts, mint.WithRefreshGracePeriod(time.Duration(c.RefreshGracePeriod)))
	}
	return append(opts, c.senderOptions()...)
}
