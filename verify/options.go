package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mintauth/mint/internal/dpop"
	"github.com/mintauth/mint/internal/jwtcheck"
	"github.com/mintauth/mint/internal/wire"
)

// Defaults of the options.
const (
	// DefaultLeeway is the clock skew tolerated on exp and nbf unless
	// WithLeeway says otherwise.
	DefaultLeeway = 2 * time.Second
	// DefaultJWKSRefetchInterval is the least time between two fetches of
	// a remote key set triggered by unknown key ids.
	DefaultJWKSRefetchInterval = 10 * time.Second
	// DefaultJWKSMaxAge is how long a fetched key set is used before the
	// next verification fetches it again.
	DefaultJWKSMaxAge = 15 * time.Minute
	// maxLeeway bounds WithLeeway. mint's revocation keeps a denied jti
	// this long past the token's expiry (maxVerifierLeeway in the root
	// package), so that no leeway lets a revoked token back in.
	maxLeeway = 5 * time.Minute
	// defaultHTTPTimeout bounds a key-set or metadata fetch.
	defaultHTTPTimeout = 10 * time.Second
)

// DenyList tells whether an access token was revoked: by its jti (RFC
// 7009), or with everything of its client or its user. mint.MemoryStore
// and sqlstore.Store implement it.
type DenyList interface {
	// AccessTokenDenied reports whether the token with this jti, issued
	// to clientID at issuedAt (its iat) for userID ("" when no user is
	// behind it), was revoked.
	AccessTokenDenied(ctx context.Context, jti, clientID, userID string, issuedAt time.Time) (bool, error)
}

// Option configures a Verifier. Options validate their arguments and the
// constructor reports the first error.
type Option func(*config) error

type config struct {
	leeway   time.Duration
	algs     []string
	client   *http.Client
	interval time.Duration
	maxAge   time.Duration
	now      func() time.Time
	deny     DenyList
	logger   *slog.Logger

	dpopOrigin string
	dpopWindow time.Duration
	replay     ReplayStore
	nonceKey   []byte
	dpopOffer  bool // a DPoP option was given: offer the DPoP scheme in challenges
}

// WithLeeway sets the clock skew tolerated on exp and nbf.
// Default: DefaultLeeway (2 s); at most 5 minutes.
func WithLeeway(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d > maxLeeway {
			return errors.New("verify: leeway must be between 0 and 5m")
		}
		c.leeway = d
		return nil
	}
}

// WithAlgorithms sets the JWS algorithms a token may use, among HS256,
// RS256, PS256, ES256 and EdDSA (RFC 8725 section 3.1); "none" and
// anything else is refused. Default: all five (a remote key set never
// carries an HMAC key, so HS256 tokens only verify against local keys).
// Whatever the list, a token verifies only with the alg of its key; a
// remote RSA key is bound to the alg its JWK names, RS256 or PS256, and
// one without alg verifies RS256 only.
func WithAlgorithms(algs ...string) Option {
	return func(c *config) error {
		if len(algs) == 0 {
			return errors.New("verify: no algorithm allowed")
		}
		for _, a := range algs {
			switch a {
			case jwtcheck.HS256, jwtcheck.RS256, jwtcheck.PS256, jwtcheck.ES256, jwtcheck.EdDSA:
			default:
				return fmt.Errorf("verify: algorithm %q not allowed", a)
			}
		}
		c.algs = append([]string(nil), algs...)
		return nil
	}
}

// WithJWKSClient sets the HTTP client that fetches a remote key set and
// the issuer's metadata. Default: a client with a 10 s timeout.
func WithJWKSClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("verify: nil HTTP client")
		}
		c.client = hc
		return nil
	}
}

// WithJWKSRefetchInterval sets the least time between two fetches of a
// remote key set, so that tokens naming unknown key ids cannot make the
// Verifier hammer the issuer. Default: DefaultJWKSRefetchInterval (10 s).
func WithJWKSRefetchInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("verify: JWKS refetch interval must be positive")
		}
		c.interval = d
		return nil
	}
}

// WithJWKSMaxAge sets how long a fetched key set is trusted before it is
// fetched again (a retired key stops verifying at the latest this long
// after the issuer dropped it), to the instant, whatever the refetch
// interval; if that fetch fails the set is kept, and the fetch retried
// once per refetch interval. Default: DefaultJWKSMaxAge (15 min).
func WithJWKSMaxAge(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("verify: JWKS max age must be positive")
		}
		c.maxAge = d
		return nil
	}
}

// WithClock sets the time source of the exp and nbf checks and of the
// key-set cache, for tests and for an issuer's clock in the same process.
// Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("verify: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithDenyList makes the Verifier refuse access tokens that were revoked,
// by jti (RFC 7009) or with everything of their user or client, at the
// cost of one deny-list lookup per verification. A Verifier in another process than the issuer needs a
// deny list shared with it (the same database). Default: off.
func WithDenyList(d DenyList) Option {
	return func(c *config) error {
		if d == nil {
			return errors.New("verify: nil deny list")
		}
		c.deny = d
		return nil
	}
}

// WithLogger sets the logger of key-set fetch failures and of Bearer's
// failures to verify. Tokens never reach it. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("verify: nil logger")
		}
		c.logger = l
		return nil
	}
}

// maxDPoPWindow bounds WithDPoPWindow.
const maxDPoPWindow = 5 * time.Minute

// WithDPoPOrigin sets the origin, scheme://host[:port], of the URL that a
// DPoP proof's htu must name (RFC 9449 section 4.3): the origin followed
// by the request's path. The origin may end in a path, a base URL such as
// https://api.example.com/v1, when a proxy strips that prefix before the
// request reaches the handler. Set it when the resource is reached
// through a proxy, or at another name than the request's Host. Default:
// https when the request came over TLS (http otherwise) and the
// request's Host. Giving it also offers the DPoP scheme in the
// challenges of requests without a DPoP token (see Bearer).
func WithDPoPOrigin(origin string) Option {
	return func(c *config) error {
		u, err := url.Parse(origin)
		if err != nil || wire.CheckAbsoluteURL(origin) != nil || u.User != nil || u.RawQuery != "" || u.ForceQuery {
			return fmt.Errorf("verify: DPoP origin %q is not scheme://host[:port][/path]", origin)
		}
		c.dpopOrigin = u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
		c.dpopOffer = true
		return nil
	}
}

// WithDPoPWindow sets how far a DPoP proof's iat may be from now, either
// way; a proof's jti is remembered that long after its iat. Default:
// DefaultDPoPWindow (60 s); at most 5 minutes. Giving it also offers the
// DPoP scheme in challenges.
func WithDPoPWindow(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 || d > maxDPoPWindow {
			return errors.New("verify: DPoP window must be positive and at most 5m")
		}
		c.dpopWindow = d
		c.dpopOffer = true
		return nil
	}
}

// WithReplayStore sets where the jti values of accepted DPoP proofs are
// remembered (RFC 9449 section 11.1). Default: a map in memory, one per
// Verifier, which resource servers behind one load balancer do not share.
// Giving it also offers the DPoP scheme in challenges.
func WithReplayStore(s ReplayStore) Option {
	return func(c *config) error {
		if s == nil {
			return errors.New("verify: nil replay store")
		}
		c.replay = s
		c.dpopOffer = true
		return nil
	}
}

// WithDPoPNonce requires a server nonce in every DPoP proof (RFC 9449
// section 9), so that a proof made in advance is worthless: a proof
// without a valid nonce is answered 401 error="use_dpop_nonce" with the
// nonce to use in a DPoP-Nonce header, which every answer to a DPoP
// request carries. Nonces are an HMAC-SHA256 of the current minute under
// key (at least 16 random bytes, kept secret), valid for one to two
// minutes; resource servers sharing the key accept each other's.
// Default: no nonce. Giving it also offers the DPoP scheme in challenges.
func WithDPoPNonce(key []byte) Option {
	return func(c *config) error {
		if len(key) < dpop.MinNonceKeySize {
			return errors.New("verify: a DPoP nonce key needs at least 16 bytes")
		}
		c.nonceKey = append([]byte(nil), key...)
		c.dpopOffer = true
		return nil
	}
}

func newConfig(opts []Option) (config, error) {
	cfg := config{
		leeway:   DefaultLeeway,
		algs:     jwtcheck.Algorithms(),
		client:   &http.Client{Timeout: defaultHTTPTimeout},
		interval: DefaultJWKSRefetchInterval,
		maxAge:   DefaultJWKSMaxAge,
		now:      time.Now,
		logger:   slog.Default(),

		dpopWindow: DefaultDPoPWindow,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}
