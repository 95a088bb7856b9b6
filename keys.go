package mint

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mintauth/mint/internal/jwk"
)

// Signer turns access-token claims into a signed JWT. KeySet is the
// implementation mint ships; a host may plug in its own, or wrap a KeySet.
type Signer interface {
	// Sign returns the compact JWS of the claims, with the header
	// {"alg":...,"kid":...,"typ":"at+jwt"} of RFC 9068 section 2.1, in the
	// context of the token request being served.
	Sign(ctx context.Context, c *Claims) (string, error)
}

// The signing algorithms mint supports, as JWS "alg" values (RFC 7518
// section 3.1, RFC 8037 section 3.1).
const (
	HS256 = "HS256" // HMAC with SHA-256: verifiable only by who holds the secret
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	PS256 = "PS256" // RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	EdDSA = "EdDSA" // Ed25519
)

// Key is one signing key: an algorithm, a key id and the key material.
// Build one with NewKey or GenerateKey.
type Key struct {
	id, alg string
	secret  []byte           // the HS256 secret; nil for the others
	signer  crypto.Signer    // the private key of the others; nil for HS256
	public  crypto.PublicKey // nil for HS256
	header  string           // base64url of the JWS header
}

// NewKey makes a signing key for the JWS algorithm alg out of key: an
// HS256 []byte secret of at least 32 bytes, or a crypto.Signer (a private
// key of the standard library, or a KMS or HSM key whose material never
// leaves it) whose Public() is an *rsa.PublicKey of at least 2048 bits
// (RS256, PS256), a P-256 *ecdsa.PublicKey (ES256) or an ed25519.PublicKey
// (EdDSA). An empty kid is replaced by the RFC 7638 thumbprint of the
// public key (a random id for HS256).
func NewKey(alg, kid string, key any) (*Key, error) {
	k, err := newKey(alg, kid, key)
	if err != nil {
		return nil, fmt.Errorf("mint: %w", err)
	}
	return k, nil
}

// newKey is NewKey without the package's prefix on its errors.
func newKey(alg, kid string, key any) (*Key, error) {
	k := &Key{alg: alg}
	if err := k.setMaterial(key); err != nil {
		return nil, err
	}
	if kid == "" {
		kid = k.thumbprint()
	}
	k.id = kid
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "at+jwt"}) // keys sorted
	k.header = b64(h)
	return k, nil
}

// setMaterial keeps key and checks that it suits k.alg; on an error k is
// not to be used. Its errors name types and sizes, never material.
func (k *Key) setMaterial(key any) error {
	switch k.alg {
	case HS256:
		secret, ok := key.([]byte)
		if !ok {
			return fmt.Errorf("HS256 needs a []byte secret, not %T", key)
		}
		if len(secret) < 32 {
			return errors.New("HS256 needs a secret of at least 32 bytes")
		}
		k.secret = slices.Clone(secret)
		return nil
	case RS256, PS256, ES256, EdDSA:
	default:
		return fmt.Errorf("unsupported algorithm %q: want HS256, RS256, PS256, ES256 or EdDSA", k.alg)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%s needs a crypto.Signer, not %T", k.alg, key)
	}
	if ed, ok := key.(ed25519.PrivateKey); ok && len(ed) != ed25519.PrivateKeySize {
		return errors.New("malformed Ed25519 private key")
	}
	k.signer, k.public = signer, signer.Public()
	return checkPublic(k.alg, k.public)
}

// checkPublic checks that pub is a key of the asymmetric algorithm alg,
// and strong enough.
func checkPublic(alg string, pub crypto.PublicKey) error {
	switch alg {
	case RS256, PS256:
		if p, ok := pub.(*rsa.PublicKey); !ok {
			return fmt.Errorf("%s needs an RSA key, not %T", alg, pub)
		} else if p.N.BitLen() < 2048 {
			return fmt.Errorf("%s needs an RSA key of at least 2048 bits, not %d", alg, p.N.BitLen())
		}
	case ES256:
		if p, ok := pub.(*ecdsa.PublicKey); !ok {
			return fmt.Errorf("ES256 needs an ECDSA key on P-256, not %T", pub)
		} else if p.Curve != elliptic.P256() {
			return fmt.Errorf("ES256 needs a key on P-256, not %s", p.Curve.Params().Name)
		}
	case EdDSA:
		if p, ok := pub.(ed25519.PublicKey); !ok || len(p) != ed25519.PublicKeySize {
			return fmt.Errorf("EdDSA needs an Ed25519 key, not %T", pub)
		}
	}
	return nil
}

// GenerateKey makes a fresh key for alg from crypto/rand (RSA: 2048 bits),
// with its thumbprint as kid.
func GenerateKey(alg string) (*Key, error) {
	var key any
	var err error
	switch alg {
	case HS256:
		b := make([]byte, 32)
		_, err = rand.Read(b)
		key = b
	case RS256, PS256:
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
	return NewKey(alg, "", key)
}

// ID returns the key id put in every token header it signs.
func (k *Key) ID() string { return k.id }

// Algorithm returns the JWS "alg" of the key.
func (k *Key) Algorithm() string { return k.alg }

// Public returns the public key, or nil for an HMAC key.
func (k *Key) Public() crypto.PublicKey { return k.public }

// Private returns the key material NewKey was given, for a host that
// persists keys: the secret of an HS256 key, or the crypto.Signer of the
// others. Handle with care.
func (k *Key) Private() any {
	if k.signer == nil {
		return k.secret
	}
	return k.signer
}

// String names the key without its material.
func (k *Key) String() string { return "mint.Key{" + k.alg + " " + k.id + "}" }

// Sign signs the claims with this key: the compact JWS of RFC 7515
// section 7.1. The context is not used: crypto.Signer takes none.
func (k *Key) Sign(ctx context.Context, c *Claims) (string, error) {
	payload, err := c.MarshalJSON()
	if err != nil {
		return "", err
	}
	signing := k.header + "." + b64(payload)
	sig, err := k.signature(signing)
	if err != nil {
		return "", fmt.Errorf("mint: sign with key %s: %w", k.id, err)
	}
	return signing + "." + b64(sig), nil
}

// signature is the JWS signature of the signing input (RFC 7518 sections
// 3.2 to 3.5, RFC 8037 section 3.1), from the crypto.Signer called once.
func (k *Key) signature(signing string) ([]byte, error) {
	var opts crypto.SignerOpts = crypto.SHA256 // RS256 (PKCS #1 v1.5) and ES256
	switch k.alg {
	case HS256:
		return jwt.SigningMethodHS256.Sign(signing, k.secret)
	case EdDSA:
		return k.signer.Sign(rand.Reader, []byte(signing), crypto.Hash(0)) // Ed25519 signs the message itself
	case PS256:
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	}
	digest := sha256.Sum256([]byte(signing))
	sig, err := k.signer.Sign(rand.Reader, digest[:], opts)
	if err != nil || k.alg != ES256 {
		return sig, err
	}
	return ecdsaJOSE(sig)
}

// ecdsaJOSE turns the ASN.1 DER signature of a crypto.Signer into the 64
// bytes R || S of RFC 7518 section 3.4.
func ecdsaJOSE(der []byte) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	n := elliptic.P256().Params().N
	if err != nil || len(rest) != 0 || rs.R.Sign() <= 0 || rs.R.Cmp(n) >= 0 || rs.S.Sign() <= 0 || rs.S.Cmp(n) >= 0 {
		return nil, errors.New("malformed ECDSA signature")
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}

// thumbprint is the RFC 7638 thumbprint of the public key; HMAC: a random id.
func (k *Key) thumbprint() string {
	if j, ok := k.JWK(); ok {
		raw, _ := json.Marshal(j)
		if tp, err := jwk.Thumbprint(raw); err == nil {
			return tp
		}
	}
	return randomString(12)
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

// JWK returns the public key as a JWK; false for an HMAC key, never published.
func (k *Key) JWK() (JWK, bool) {
	j := JWK{Kid: k.id, Use: "sig", Alg: k.alg}
	switch pub := k.public.(type) {
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		j.Kty, j.Crv = "EC", "P-256"
		if raw, err := pub.Bytes(); err == nil && len(raw) == 65 { // 0x04 || X || Y
			j.X, j.Y = b64(raw[1:33]), b64(raw[33:])
		}
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(pub)
	default:
		return JWK{}, false
	}
	return j, true
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// KeySet is a Signer with one active signing key and older keys kept for
// verification, so that keys rotate without invalidating live tokens.
// Reads never lock; writers replace an immutable snapshot.
type KeySet struct {
	mu   sync.Mutex             // serializes writers
	keys atomic.Pointer[[]*Key] // the active key first, then older keys, newest first
}

// load returns the keys of the set, the active one first.
func (s *KeySet) load() []*Key {
	if keys := s.keys.Load(); keys != nil {
		return *keys
	}
	return nil
}

// NewKeySet returns a key set signing with active and also verifying
// tokens signed by the older keys.
func NewKeySet(active *Key, older ...*Key) (*KeySet, error) {
	if active == nil {
		return nil, errors.New("mint: a key set needs an active key")
	}
	if slices.ContainsFunc(older, func(k *Key) bool { return k == nil || k.id == active.id }) {
		return nil, errors.New("mint: nil or duplicate key id in key set")
	}
	keys := append([]*Key{active}, older...)
	ks := &KeySet{}
	ks.keys.Store(&keys)
	return ks, nil
}

// Sign implements Signer with the active key.
func (s *KeySet) Sign(ctx context.Context, c *Claims) (string, error) {
	return s.Active().Sign(ctx, c)
}

// Active returns the key new tokens are signed with.
func (s *KeySet) Active() *Key { return s.load()[0] }

// Keys returns every key of the set, the active one first.
func (s *KeySet) Keys() []*Key { return slices.Clone(s.load()) }

// Key returns the key with the given id.
func (s *KeySet) Key(kid string) (*Key, bool) {
	for _, k := range s.load() {
		if k.id == kid {
			return k, true
		}
	}
	return nil, false
}

// update replaces the keys of the set with what f makes of them; writers
// take turns, readers keep the snapshot they loaded.
func (s *KeySet) update(f func(keys []*Key) ([]*Key, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := f(s.load())
	if err != nil {
		return err
	}
	s.keys.Store(&keys)
	return nil
}

// Rotate makes k the active key; the previous active key stays in the set
// to verify the tokens it signed until it is retired.
func (s *KeySet) Rotate(k *Key) error {
	return s.update(func(keys []*Key) ([]*Key, error) {
		if slices.ContainsFunc(keys, func(o *Key) bool { return o.id == k.id }) {
			return nil, fmt.Errorf("mint: key id %q already in the set", k.id)
		}
		return append([]*Key{k}, keys...), nil
	})
}

// Retire removes a verification key; tokens it signed stop verifying.
// The active key cannot be retired: rotate first.
func (s *KeySet) Retire(kid string) error {
	return s.update(func(keys []*Key) ([]*Key, error) {
		if keys[0].id == kid {
			return nil, errors.New("mint: cannot retire the active key")
		}
		return slices.DeleteFunc(slices.Clone(keys), func(k *Key) bool { return k.id == kid }), nil
	})
}

// JWKS returns the public keys of the set; HMAC keys are left out.
func (s *KeySet) JWKS() JWKS {
	set := JWKS{Keys: []JWK{}}
	for _, k := range s.load() {
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
		return k.alg, k.secret, true
	}
	return k.alg, k.public, true
}
