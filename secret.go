package mint

import (
	"cmp"
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

	"github.com/mintauth/mint/internal/wire"
)

// Hasher hashes and verifies secrets and passwords. An encoded hash names
// its algorithm and parameters, so that older hashes keep verifying and
// get upgraded. ctx is the request's, for a Hasher that traces or meters.
type Hasher interface {
	// Hash returns the encoded hash of plain.
	Hash(ctx context.Context, plain string) (string, error)
	// Verify reports, in constant time, whether plain matches the encoded
	// hash, and whether the hash should be replaced by a fresh Hash.
	Verify(ctx context.Context, encoded, plain string) (ok, rehash bool, err error)
}

// Argon2id is the default Hasher: argon2id (RFC 9106) in the PHC format
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash>. It also
// verifies bcrypt ($2a$, $2b$, $2y$) and $sha256$ hashes, and asks to
// rehash bcrypt and outdated argon2id ones. A zero field takes OWASP's
// value: 19 MiB, two passes, one thread, a 32-byte key, a 16-byte salt.
type Argon2id struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

func (a Argon2id) resolved() Argon2id {
	return Argon2id{Memory: cmp.Or(a.Memory, 19*1024), Time: cmp.Or(a.Time, 2), Threads: cmp.Or(a.Threads, 1),
		KeyLen: cmp.Or(a.KeyLen, 32), SaltLen: cmp.Or(a.SaltLen, 16)}
}

// Hash implements Hasher.
func (a Argon2id) Hash(ctx context.Context, plain string) (string, error) {
	a = a.resolved()
	salt := make([]byte, a.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	key := argon2.IDKey([]byte(plain), salt, a.Time, a.Memory, a.Threads, a.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.Memory, a.Time, a.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify implements Hasher.
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
		want, err := base64.RawStdEncoding.DecodeString(encoded[len(sha256Prefix):])
		if err != nil || len(want) != sha256.Size {
			return false, false, errUnknownHash
		}
		got := sha256.Sum256([]byte(plain))
		return subtle.ConstantTimeCompare(got[:], want) == 1, false, nil
	}
	return false, false, errUnknownHash
}

func parseArgon2id(encoded string) (p Argon2id, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	if len(parts) != 6 {
		return p, nil, nil, errUnknownHash
	}
	var v int
	_, errV := fmt.Sscanf(parts[2], "v=%d", &v)
	_, errP := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads)
	salt, errS := base64.RawStdEncoding.DecodeString(parts[4])
	key, errK := base64.RawStdEncoding.DecodeString(parts[5])
	if errors.Join(errV, errP, errS, errK) != nil || v != argon2.Version ||
		p.Memory == 0 || p.Time == 0 || p.Threads == 0 || len(key) < 16 {
		return p, nil, nil, errUnknownHash
	}
	return p, salt, key, nil
}

// HashPassword hashes a password, or a client secret a person chose, with
// the default Argon2id, for a host that provisions outside any request.
func HashPassword(password string) (string, error) {
	return Argon2id{}.Hash(context.Background(), password)
}

const sha256Prefix = "$sha256$"

var errUnknownHash = errors.New("mint: unrecognised hash format")

// GenerateSecret returns a new 256-bit client secret (base64url) and its
// $sha256$ hash: full entropy needs no slow hash, a secret a person chose does.
func GenerateSecret() (secret, hash string, err error) {
	secret = randomString(32)
	return secret, HashGeneratedSecret(secret), nil
}

// HashGeneratedSecret returns the $sha256$ hash of a secret of at least
// 256 random bits, such as GenerateSecret makes.
func HashGeneratedSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return sha256Prefix + base64.RawStdEncoding.EncodeToString(sum[:])
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

// WithUnknownClientHash sets the hash an unknown client id is verified
// against, so that it costs what a wrong secret costs: use a hash of the
// same algorithm as your clients' secrets, or response times tell which
// client ids exist. Default: one made by the Hasher; a host whose clients
// have generated secrets passes HashGeneratedSecret("x").
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
// 2.3.1) for endpoints other than the token endpoint, throttled and
// audited like it; an unknown client costs one hash verification, like a
// wrong secret. Failures are *Error of KindMissingField,
// KindClientNotFound, KindSecretMismatch or KindThrottled. Its audit
// events carry no request id or address: a WithAudit hook reads them from
// its context.
func (iss *Issuer) AuthenticateClient(ctx context.Context, id, secret string) (*Client, error) {
	return iss.authenticate(ctx, wire.Credentials{ID: id, Secrets: []string{secret}}, "")
}

// authenticate is AuthenticateClient with a request's credentials, whose
// client assertion may have url as its aud.
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
// secret; the FAPI 2.0 profile accepts assertions only.
func (iss *Issuer) authenticateAny(ctx context.Context, keys limitKeys, creds wire.Credentials, url string) (*Client, error) {
	switch {
	case creds.Assertion != "":
		return iss.authenticateAssertion(ctx, creds.ID, creds.Assertion, url)
	case iss.cfg.fapi2:
		return nil, &Error{Kind: KindUnsupportedAuthMethod, Description: "the FAPI 2.0 profile requires private_key_jwt"}
	}
	return iss.authenticateClient(ctx, keys, creds.ID, creds.Secrets)
}

// authenticateClient checks each candidate secret (a raw Basic secret is
// also tried form-decoded) against the client's unexpired hashes; an
// unknown client costs one verification per candidate, like a known one.
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

// checkSecret verifies one candidate against hashes up to the first match.
// It records one failure per candidate, so that a client with several
// secrets is throttled like one with one; client is nil for an unknown id.
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
			if s, ok := iss.store.(secretRehasher); ok && rehash {
				iss.rehash(ctx, secret, func(h string) error { return s.UpdateSecretHash(ctx, client.ID, hash, h) })
			}
			return true, nil
		}
	}
	return false, nil
}

// activeHashes returns the client's unexpired secret hashes, SecretHash
// first, or [""] (which verify fails) when it has none or uses
// private_key_jwt.
func activeHashes(c *Client, now time.Time) []string {
	var hashes []string
	if c.SecretHash != "" {
		hashes = append(hashes, c.SecretHash)
	}
	for _, s := range c.Secrets {
		if s.Hash != "" && !s.Expired(now) {
			hashes = append(hashes, s.Hash)
		}
	}
	if len(hashes) == 0 || c.AuthMethod == AuthPrivateKeyJWT {
		return []string{""}
	}
	return hashes
}

// verify runs one verification within the hashing bound, checking the
// Limiter again and recording a mismatch under the key of kind fail while
// it holds the slot, so that a burst of guesses is cut off once the first
// failures block the key. No stored hash fails, at the same cost.
func (iss *Issuer) verify(ctx context.Context, keys limitKeys, encoded, plain string, fail limitKind) (ok, rehash bool, err error) {
	hash := cmp.Or(encoded, iss.dummy)
	// A generated secret's $sha256$ digest is cheap and needs no slot.
	if !strings.HasPrefix(hash, sha256Prefix) {
		if err := iss.acquire(ctx); err != nil {
			return false, false, err
		}
		defer iss.release()
	}
	if err := iss.checkLimits(ctx, keys); err != nil {
		return false, false, err
	}
	ok, rehash, err = iss.cfg.hasher.Verify(ctx, hash, plain)
	ok = ok && encoded != ""
	if !ok && err == nil {
		iss.limitFailed(ctx, keys.key(fail))
	}
	return ok, rehash, err
}

// rehash stores a fresh hash of plain through update; a failure is only
// logged, since the login succeeded.
func (iss *Issuer) rehash(ctx context.Context, plain string, update func(string) error) {
	if err := iss.acquire(ctx); err != nil {
		return // busy: upgrade at a later login
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
