package mint

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// Signer turns access-token claims into a signed JWT. KeySet is the
// implementation mint ships; a host may plug in its own, or wrap a KeySet
// to trace or meter signing.
type Signer interface {
	// Sign returns the compact JWS of the claims, with the header
	// {"alg":...,"kid":...,"typ":"at+jwt"} of RFC 9068 section 2.1. The
	// Issuer passes the context of the token request being served.
	Sign(ctx context.Context, c *Claims) (string, error)
}

// The signing algorithms mint supports, as JWS "alg" values.
const (
	HS256 = "HS256"
	RS256 = "RS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Key is one signing key: an algorithm, a key id and the key material.
// Build one with NewKey or GenerateKey.
type Key struct {
	id     string
	method jwt.SigningMethod
	sign   any              // []byte or a private key, as method.Sign wants it
	public crypto.PublicKey // nil for HMAC
	header string           // base64url of the JWS header, with kid and typ at+jwt
}

// NewKey wraps key material: a []byte of at least 32 bytes is HS256, an
// *rsa.PrivateKey of at least 2048 bits RS256, a P-256 *ecdsa.PrivateKey
// ES256 and an ed25519.PrivateKey EdDSA. An empty kid is replaced by the
// RFC 7638 thumbprint of the public key (a random id for HMAC keys).
func NewKey(kid string, key any) (*Key, error) {
	k := &Key{sign: key}
	switch key := key.(type) {
	case []byte:
		if len(key) < 32 {
			return nil, errors.New("mint: an HS256 key needs at least 32 bytes")
		}
		k.method, k.sign = jwt.SigningMethodHS256, bytes.Clone(key)
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return nil, errors.New("mint: an RS256 key needs at least 2048 bits")
		}
		k.method, k.public = jwt.SigningMethodRS256, &key.PublicKey
	case *ecdsa.PrivateKey:
		if key.Curve != elliptic.P256() {
			return nil, errors.New("mint: an ES256 key must be on P-256")
		}
		k.method, k.public = jwt.SigningMethodES256, &key.PublicKey
	case ed25519.PrivateKey:
		if len(key) != ed25519.PrivateKeySize {
			return nil, errors.New("mint: malformed Ed25519 key")
		}
		k.method, k.public = jwt.SigningMethodEdDSA, key.Public()
	default:
		return nil, fmt.Errorf("mint: unsupported key type %T", key)
	}
	if kid == "" {
		kid = k.thumbprint()
	}
	k.id = kid
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{k.method.Alg(), kid, "at+jwt"})
	k.header = base64.RawURLEncoding.EncodeToString(h)
	return k, nil
}

// GenerateKey makes a fresh key for the algorithm (HS256, RS256, ES256 or
// EdDSA) from crypto/rand, with its thumbprint as kid.
func GenerateKey(alg string) (*Key, error) {
	var key any
	var err error
	switch alg {
	case HS256:
		b := make([]byte, 32)
		_, err = rand.Read(b)
		key = b
	case RS256:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("mint: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	return NewKey("", key)
}

// ID returns the key id put in every token header it signs.
func (k *Key) ID() string { return k.id }

// Algorithm returns the JWS "alg" of the key.
func (k *Key) Algorithm() string { return k.method.Alg() }

// Public returns the public key, or nil for an HMAC key.
func (k *Key) Public() crypto.PublicKey { return k.public }

// Private returns the private key material (the secret for HMAC), for a
// host that persists keys. Handle with care.
func (k *Key) Private() any { return k.sign }

// String names the key without its material.
func (k *Key) String() string { return "mint.Key{" + k.method.Alg() + " " + k.id + "}" }

// Sign signs the claims with this key through golang-jwt's signing
// method: the compact JWS of RFC 7515 section 7.1. The context is not
// used.
func (k *Key) Sign(_ context.Context, c *Claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signing := k.header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := k.method.Sign(signing, k.sign)
	if err != nil {
		return "", fmt.Errorf("mint: sign: %w", err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// thumbprint is the RFC 7638 JWK thumbprint, or a random id for HMAC.
func (k *Key) thumbprint() string {
	var members string
	switch pub := k.public.(type) {
	case *rsa.PublicKey:
		members = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, b64(big.NewInt(int64(pub.E)).Bytes()), b64(pub.N.Bytes()))
	case *ecdsa.PublicKey:
		x, y := ecCoords(pub)
		members = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":%q,"y":%q}`, x, y)
	case ed25519.PublicKey:
		members = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":%q}`, b64(pub))
	default:
		return randomString(12)
	}
	sum := sha256.Sum256([]byte(members))
	return b64(sum[:])
}

// JWK is one public key in RFC 7517 JSON form.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// JWKS is an RFC 7517 section 5 key set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWK returns the public key as a JWK, and false for an HMAC key, which
// is never published.
func (k *Key) JWK() (JWK, bool) {
	j := JWK{Kid: k.id, Use: "sig", Alg: k.method.Alg()}
	switch pub := k.public.(type) {
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		j.Kty, j.Crv = "EC", "P-256"
		j.X, j.Y = ecCoords(pub)
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(pub)
	default:
		return JWK{}, false
	}
	return j, true
}

func ecCoords(pub *ecdsa.PublicKey) (x, y string) {
	raw, err := pub.Bytes() // uncompressed point: 0x04 || X || Y
	if err != nil || len(raw) != 65 {
		return "", ""
	}
	return b64(raw[1:33]), b64(raw[33:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// KeySet is a Signer with one active signing key and older keys kept for
// verification, so that keys rotate without invalidating live tokens.
// Reads never lock; Rotate and Retire replace an immutable snapshot.
type KeySet struct {
	mu    sync.Mutex // serializes writers
	state atomic.Pointer[keySetState]
}

type keySetState struct {
	active *Key
	keys   []*Key // active first, then older keys, newest first
}

// NewKeySet returns a key set signing with active and also verifying
// tokens signed by the older keys.
func NewKeySet(active *Key, older ...*Key) (*KeySet, error) {
	if active == nil {
		return nil, errors.New("mint: a key set needs an active key")
	}
	ks := &KeySet{}
	keys := []*Key{active}
	for _, k := range older {
		if k == nil || k.id == active.id {
			return nil, errors.New("mint: nil or duplicate key id in key set")
		}
		keys = append(keys, k)
	}
	ks.state.Store(&keySetState{active: active, keys: keys})
	return ks, nil
}

// Sign implements Signer with the active key.
func (s *KeySet) Sign(ctx context.Context, c *Claims) (string, error) {
	return s.state.Load().active.Sign(ctx, c)
}

// Active returns the key new tokens are signed with.
func (s *KeySet) Active() *Key { return s.state.Load().active }

// Keys returns every key of the set, the active one first.
func (s *KeySet) Keys() []*Key { return append([]*Key(nil), s.state.Load().keys...) }

// Key returns the key with the given id.
func (s *KeySet) Key(kid string) (*Key, bool) {
	for _, k := range s.state.Load().keys {
		if k.id == kid {
			return k, true
		}
	}
	return nil, false
}

// Rotate makes k the active key; the previous active key stays in the set
// to verify the tokens it signed until it is retired.
func (s *KeySet) Rotate(k *Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.state.Load()
	keys := []*Key{k}
	for _, o := range old.keys {
		if o.id == k.id {
			return fmt.Errorf("mint: key id %q already in the set", k.id)
		}
		keys = append(keys, o)
	}
	s.state.Store(&keySetState{active: k, keys: keys})
	return nil
}

// Retire removes a verification key; tokens it signed stop verifying.
// The active key cannot be retired: rotate first.
func (s *KeySet) Retire(kid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.state.Load()
	if old.active.id == kid {
		return errors.New("mint: cannot retire the active key")
	}
	keys := make([]*Key, 0, len(old.keys))
	for _, k := range old.keys {
		if k.id != kid {
			keys = append(keys, k)
		}
	}
	s.state.Store(&keySetState{active: old.active, keys: keys})
	return nil
}

// JWKS returns the public keys of the set; HMAC keys are left out.
func (s *KeySet) JWKS() JWKS {
	set := JWKS{Keys: []JWK{}}
	for _, k := range s.state.Load().keys {
		if j, ok := k.JWK(); ok {
			set.Keys = append(set.Keys, j)
		}
	}
	return set
}

// VerificationKey returns the key with id kid and its JWS alg, as a
// verifier needs them: the public key, or the secret of an HS256 key.
func (s *KeySet) VerificationKey(kid string) (alg string, key any, ok bool) {
	k, ok := s.Key(kid)
	if !ok {
		return "", nil, false
	}
	if k.public == nil {
		return k.method.Alg(), k.sign, true // the HS256 secret
	}
	return k.method.Alg(), k.public, true
}
