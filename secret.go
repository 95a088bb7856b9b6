package mint

import (
	"github.com/mintauth/mint/internal/wire"

	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes and verifies secrets and passwords. The encoded hash names
// its own algorithm and parameters, so a Hasher verifies hashes made with
// older parameters or other algorithms and says when to upgrade them.
// The Issuer passes the context of the request being served (a host's
// trace span, say), so that a
// Hasher wrapping another one can trace or meter each hash.
type Hasher interface {
	// Hash returns the encoded hash of plain.
	Hash(ctx context.Context, plain string) (string, error)
	// Verify reports whether plain matches the encoded hash, and whether
	// the hash should be replaced by a fresh Hash(ctx, plain) (outdated
	// algorithm or parameters). The comparison runs in constant time.
	Verify(ctx context.Context, encoded, plain string) (ok, rehash bool, err error)
}

// Argon2id is the default Hasher: argon2id (RFC 9106) for anything a
// person chose, in the PHC string format
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash>.
// It also verifies bcrypt ($2a$, $2b$, $2y$) and $sha256$ hashes and asks
// for a rehash of bcrypt and outdated argon2id ones. A zero field takes
// OWASP's recommendation: 19 MiB, two passes, one thread, a 32-byte key
// and a 16-byte salt; Argon2id{} is that default.
type Argon2id struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

func (a Argon2id) resolved() Argon2id {
	def := func(v, d uint32) uint32 {
		if v == 0 {
			return d
		}
		return v
	}
	a.Memory, a.Time, a.KeyLen, a.SaltLen = def(a.Memory, 19*1024), def(a.Time, 2), def(a.KeyLen, 32), def(a.SaltLen, 16)
	a.Threads = uint8(def(uint32(a.Threads), 1))
	return a
}

var errUnknownHash = errors.New("mint: unrecognised hash format")

// Hash implements Hasher; Argon2id does not use the context.
func (a Argon2id) Hash(ctx context.Context, plain string) (string, error) {
	a = a.resolved()
	salt := make([]byte, a.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(plain), salt, a.Time, a.Memory, a.Threads, a.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.Memory, a.Time, a.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify implements Hasher; Argon2id does not use the context.
func (a Argon2id) Verify(ctx context.Context, encoded, plain string) (ok, rehash bool, err error) {
	a = a.resolved()
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, salt, want, err := parseArgon2id(encoded)
		if err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(plain), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
		ok = subtle.ConstantTimeCompare(got, want) == 1
		return ok, ok && (p.Memory != a.Memory || p.Time != a.Time || p.Threads != a.Threads), nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(plain))
		if err != nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, false, err
		}
		return err == nil, err == nil, nil
	case strings.HasPrefix(encoded, sha256Prefix):
		return verifySHA256(encoded, plain)
	}
	return false, false, errUnknownHash
}

func parseArgon2id(encoded string) (p Argon2id, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	if len(parts) != 6 {
		return p, nil, nil, errUnknownHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errUnknownHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return p, nil, nil, errUnknownHash
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errUnknownHash
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errUnknownHash
	}
	return p, salt, key, nil
}

// HashPassword hashes a password, or a client secret a person chose, with
// the default Argon2id, for a host that provisions users and clients
// outside any request.
func HashPassword(password string) (string, error) {
	return Argon2id{}.Hash(context.Background(), password)
}

const sha256Prefix = "$sha256$"

// GenerateSecret returns a new client secret of 256 bits from crypto/rand
// (base64url) and its hash. Because the secret has full entropy the hash is
// a plain SHA-256 ($sha256$...), which makes client authentication cheap;
// never use that form for a secret a person chose.
func GenerateSecret() (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashGeneratedSecret(secret), nil
}

// HashGeneratedSecret returns the $sha256$ hash of a secret that
// GenerateSecret made. It is exported for hosts that store secrets they
// generated elsewhere with at least 256 bits of entropy.
func HashGeneratedSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return sha256Prefix + base64.RawStdEncoding.EncodeToString(sum[:])
}

func verifySHA256(encoded, plain string) (ok, rehash bool, err error) {
	want, err := base64.RawStdEncoding.DecodeString(encoded[len(sha256Prefix):])
	if err != nil || len(want) != sha256.Size {
		return false, false, errUnknownHash
	}
	got := sha256.Sum256([]byte(plain))
	return subtle.ConstantTimeCompare(got[:], want) == 1, false, nil
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// WithHasher sets how secrets and passwords are hashed and verified.
// Default: Argon2id{}.
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

// AuthenticateClient checks a client's id and secret (RFC 6749 section
// 2.3.1), for endpoints other than the token endpoint (introspection,
// revocation). An unknown client costs one hash verification, like a wrong
// secret. Failures are *Error of KindMissingField, KindClientNotFound,
// KindSecretMismatch or KindThrottled. It is throttled by the Limiter
// like the token endpoint, and failures are reported to the audit hook.
func (iss *Issuer) AuthenticateClient(ctx context.Context, id, secret string) (*Client, error) {
	return iss.authenticate(ctx, wire.Credentials{ID: id, Secrets: []string{secret}}, "")
}

// authenticate is AuthenticateClient with a request's credentials: each
// of its secrets in turn, or its client assertion, whose aud may be url.
func (iss *Issuer) authenticate(ctx context.Context, creds wire.Credentials, url string) (*Client, error) {
	keys := limitKeys{clientID: creds.ID}
	err := iss.checkLimits(ctx, keys)
	if err == nil {
		var c *Client
		if c, err = iss.authenticateAny(ctx, keys, creds, url); err == nil {
			return c, nil
		}
	}
	iss.auditFailure(ctx, Event{ClientID: creds.ID}, err)
	return nil, err
}

// authenticateAny authenticates the client by its assertion or its
// secret, whichever it sent. The FAPI 2.0 profile accepts assertions
// only.
func (iss *Issuer) authenticateAny(ctx context.Context, keys limitKeys, creds wire.Credentials, url string) (*Client, error) {
	switch {
	case creds.Assertion != "":
		return iss.authenticateAssertion(ctx, creds.ID, creds.Assertion, url)
	case iss.cfg.fapi2:
		return nil, &Error{Kind: KindUnsupportedAuthMethod, Description: "the FAPI 2.0 profile requires private_key_jwt"}
	}
	return iss.authenticateClient(ctx, keys, creds.ID, creds.Secrets)
}

// authenticateClient checks the client's secret: each candidate in turn
// (a Basic secret sent raw may also match form-decoded) against each of
// the client's unexpired secret hashes. An unknown client, and a client
// with no unexpired secret, cost one verification per candidate, like a
// client with one secret.
func (iss *Issuer) authenticateClient(ctx context.Context, keys limitKeys, id string, secrets []string) (*Client, error) {
	if id == "" {
		return nil, missing("client_id")
	}
	if len(secrets) == 0 || secrets[0] == "" {
		return nil, missing("client_secret")
	}
	client, err := found(iss.store.Client(ctx, id))
	hashes := []string{iss.cfg.dummyClient}
	switch {
	case err == nil:
		hashes = activeHashes(client, iss.cfg.now())
	case !errors.Is(err, ErrNotFound):
		return nil, serverError(err)
	}
	for _, secret := range secrets {
		ok, err := iss.checkSecret(ctx, keys, client, hashes, secret)
		if err != nil {
			return nil, err
		}
		if ok {
			return client, nil
		}
	}
	if client == nil {
		return nil, &Error{Kind: KindClientNotFound}
	}
	return nil, &Error{Kind: KindSecretMismatch}
}

// checkSecret verifies one candidate secret against hashes, stopping at
// the first match. One failure is recorded per candidate, at its last
// hash, so that a client with several secrets is throttled like one with
// one. client is nil for an unknown id: the verification runs and fails.
func (iss *Issuer) checkSecret(ctx context.Context, keys limitKeys, client *Client, hashes []string, secret string) (bool, error) {
	for i, hash := range hashes {
		fail := noKey
		if i == len(hashes)-1 {
			fail = clientKey
		}
		ok, rehash, err := iss.verify(ctx, keys, hash, secret, fail)
		switch {
		case errors.Is(err, KindThrottled):
			return false, err
		case client == nil:
			continue
		case err != nil:
			return false, serverError(err)
		case ok:
			iss.limitSucceeded(ctx, keys.key(clientKey))
			if s, ok := iss.store.(SecretRehasher); ok && rehash {
				iss.rehash(ctx, secret, func(h string) error { return s.UpdateSecretHash(ctx, client.ID, hash, h) })
			}
			return true, nil
		}
	}
	return false, nil
}

// activeHashes returns the hashes of the client's secrets that have not
// expired at now, SecretHash first; [""] when there is none or the
// client authenticates with private_key_jwt, which verify fails at the
// cost of one verification.
func activeHashes(c *Client, now time.Time) []string {
	var hashes []string
	if c.AuthMethod == AuthPrivateKeyJWT { // such a client has no secret
		return []string{""}
	}
	if c.SecretHash != "" {
		hashes = append(hashes, c.SecretHash)
	}
	for _, s := range c.Secrets {
		if s.Hash != "" && !s.Expired(now) {
			hashes = append(hashes, s.Hash)
		}
	}
	if len(hashes) == 0 {
		return []string{""}
	}
	return hashes
}

// verify runs one hash verification within the concurrency bound and,
// when plain does not match, records a failure under the request's key of
// kind fail before it frees the slot. Holding the slot, it checks the
// request's limiter keys again: a burst of guesses sent at once is cut off
// as soon as the failures that came first block the key (with one slot,
// exactly Backoff.Threshold guesses get through), and a throttled request
// still costs no hashing.
func (iss *Issuer) verify(ctx context.Context, keys limitKeys, encoded, plain string, fail limitKind) (ok, rehash bool, err error) {
	// A user or client stored without a hash has nothing to match: a
	// wrong credential, not a server error, at the cost of one
	// verification like any other.
	noHash := encoded == ""
	if noHash {
		encoded = iss.dummy
	}
	// A $sha256$ hash (a generated secret) costs a microsecond and no
	// memory: it needs no slot.
	if !strings.HasPrefix(encoded, sha256Prefix) {
		if err := iss.acquire(ctx); err != nil {
			return false, false, err
		}
		defer iss.release()
	}
	if err := iss.checkLimits(ctx, keys); err != nil {
		return false, false, err
	}
	ok, rehash, err = iss.cfg.hasher.Verify(ctx, encoded, plain)
	if noHash {
		ok, rehash = false, false
	}
	if !ok && err == nil {
		iss.limitFailed(ctx, keys.key(fail))
	}
	return ok, rehash, err
}

// rehash stores a fresh hash of plain through update. A failure is logged,
// not returned: the login itself succeeded.
func (iss *Issuer) rehash(ctx context.Context, plain string, update func(string) error) {
	if err := iss.acquire(ctx); err != nil {
		return // busy: upgrade the hash at a later login
	}
	h, err := iss.cfg.hasher.Hash(ctx, plain)
	iss.release()
	if err == nil {
		err = update(h)
	}
	if err != nil {
		iss.cfg.logger.WarnContext(ctx, "mint: could not upgrade a stored hash", "error", err)
	}
}
