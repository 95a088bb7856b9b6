package mint

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes and verifies secrets and passwords. The encoded hash names
// its own algorithm and parameters, so a Hasher verifies hashes made with
// older parameters or other algorithms and says when to upgrade them.
type Hasher interface {
	// Hash returns the encoded hash of plain.
	Hash(plain string) (string, error)
	// Verify reports whether plain matches the encoded hash, and whether
	// the hash should be replaced by a fresh Hash(plain) (outdated
	// algorithm or parameters). The comparison runs in constant time.
	Verify(encoded, plain string) (ok, rehash bool, err error)
}

// Argon2id is the default Hasher: argon2id (RFC 9106) for anything a
// person chose, in the PHC string format
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<hash>.
// It also verifies bcrypt ($2a$, $2b$, $2y$) and $sha256$ hashes and asks
// for a rehash of bcrypt and outdated argon2id ones.
type Argon2id struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultArgon2id follows OWASP's argon2id recommendation: 19 MiB, two
// passes, one thread.
var DefaultArgon2id = Argon2id{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

var errUnknownHash = errors.New("mint: unrecognised hash format")

// Hash implements Hasher.
func (a Argon2id) Hash(plain string) (string, error) {
	salt := make([]byte, a.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(plain), salt, a.Time, a.Memory, a.Threads, a.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.Memory, a.Time, a.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify implements Hasher.
func (a Argon2id) Verify(encoded, plain string) (ok, rehash bool, err error) {
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
// DefaultArgon2id.
func HashPassword(password string) (string, error) { return DefaultArgon2id.Hash(password) }

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
	// Decode through a stack buffer: []byte(encoded[...]) of 43 bytes
	// would allocate on every client authentication.
	var enc [64]byte
	b64 := encoded[len(sha256Prefix):]
	if len(b64) > len(enc) {
		return false, false, errUnknownHash
	}
	var want [sha256.Size]byte
	n, err := base64.RawStdEncoding.Decode(want[:], enc[:copy(enc[:], b64)])
	if err != nil || n != sha256.Size {
		return false, false, errUnknownHash
	}
	got := sha256Sum(plain)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1, false, nil
}

// sha256Sum is sha256.Sum256 of a string without converting it to a
// []byte on the heap.
func sha256Sum(s string) [sha256.Size]byte {
	var buf [128]byte
	if len(s) <= len(buf) {
		return sha256.Sum256(buf[:copy(buf[:], s)])
	}
	return sha256.Sum256([]byte(s))
}

// randomString returns n random bytes, base64url-encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomToken returns 32 random bytes (256 bits, a refresh token)
// base64url-encoded, in one allocation.
func randomToken() string {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	var out [refreshTokenLen]byte
	base64.RawURLEncoding.Encode(out[:], raw[:])
	return string(out[:])
}

// randomID returns 16 random bytes (128 bits, a jti) base64url-encoded,
// in one allocation.
func randomID() string {
	var out [jtiLen]byte
	randomIDInto(&out)
	return string(out[:])
}

// jtiLen is the length of a jti: 16 bytes in base64url.
const jtiLen = 22

// randomIDInto writes a fresh jti (randomID) into out.
func randomIDInto(out *[jtiLen]byte) {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	base64.RawURLEncoding.Encode(out[:], raw[:])
}
