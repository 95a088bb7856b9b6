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
	"encoding/asn1"
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
	id     string
	alg    string
	secret []byte           // the HS256 secret; nil for the others
	signer crypto.Signer    // the private key of the others; nil for HS256
	public crypto.PublicKey // nil for HS256
	header string           // base64url of the JWS header, with kid and typ at+jwt
}

// NewKey makes a signing key for the JWS algorithm alg (RFC 7518) out of
// key, which must suit it: for HS256 a []byte secret of at least 32
// bytes; for the others a crypto.Signer whose Public() is an
// *rsa.PublicKey of at least 2048 bits (RS256, PS256), a P-256
// *ecdsa.PublicKey (ES256) or an ed25519.PublicKey (EdDSA).
// *rsa.PrivateKey, *ecdsa.PrivateKey and ed25519.PrivateKey are such
// signers, and so is a key kept in a KMS or HSM behind a crypto.Signer:
// its material never leaves it, and each token costs it one Sign call.
// An empty kid is replaced by the RFC 7638 thumbprint of the public key
// (a random id for HS256).
func NewKey(alg, kid string, key any) (*Key, error) {
	k, err := newKey(alg, kid, key)
	if err != nil {
		return nil, fmt.Errorf("mint: %w", err)
	}
	return k, nil
}

// newKey is NewKey, its errors without the package's prefix.
func newKey(alg, kid string, key any) (*Key, error) {
	k := &Key{alg: alg}
	if err := k.setMaterial(key); err != nil {
		return nil, err
	}
	if kid == "" {
		kid = k.thumbprint()
	}
	k.id = kid
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, "at+jwt"})
	k.header = base64.RawURLEncoding.EncodeToString(h)
	return k, nil
}

// setMaterial checks that key suits k.alg and keeps it. Its errors name
// types and sizes, never material.
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
		k.secret = bytes.Clone(secret)
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
	pub := signer.Public()
	if err := checkPublic(k.alg, pub); err != nil {
		return err
	}
	k.signer, k.public = signer, pub
	return nil
}

// checkPublic checks that pub is a key of the asymmetric algorithm alg,
// and strong enough.
func checkPublic(alg string, pub crypto.PublicKey) error {
	switch alg {
	case RS256, PS256:
		p, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%s needs an RSA key, not %T", alg, pub)
		}
		if p.N.BitLen() < 2048 {
			return fmt.Errorf("%s needs an RSA key of at least 2048 bits, not %d", alg, p.N.BitLen())
		}
	case ES256:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("ES256 needs an ECDSA key on P-256, not %T", pub)
		}
		if p.Curve != elliptic.P256() {
			return fmt.Errorf("ES256 needs a key on P-256, not %s", p.Curve.Params().Name)
		}
	case EdDSA:
		if p, ok := pub.(ed25519.PublicKey); !ok || len(p) != ed25519.PublicKeySize {
			return fmt.Errorf("EdDSA needs an Ed25519 key, not %T", pub)
		}
	}
	return nil
}

// GenerateKey makes a fresh key for the algorithm (HS256, RS256, PS256,
// ES256 or EdDSA) from crypto/rand, with its thumbprint as kid. RSA keys
// have 2048 bits.
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
// others (an *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey,
// or a KMS or HSM key, whose material stays where it is). Handle with
// care.
func (k *Key) Private() any {
	if k.signer == nil {
		return k.secret
	}
	return k.signer
}

// String names the key without its material.
func (k *Key) String() string { return "mint.Key{" + k.alg + " " + k.id + "}" }

// Sign signs the claims with this key: the compact JWS of RFC 7515
// section 7.1. An HS256 key signs through golang-jwt's HMAC method, the
// others through their crypto.Signer, called once. The context is not
// used: crypto.Signer takes none.
func (k *Key) Sign(ctx context.Context, c *Claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signing := k.header + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := k.signature(signing)
	if err != nil {
		return "", fmt.Errorf("mint: sign with key %s: %w", k.id, err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// pss is how PS256 signs (RFC 7518 section 3.5): the salt as long as
// the SHA-256 digest.
var pss = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}

// signature is the JWS signature of the signing input (RFC 7518 sections
// 3.2 to 3.5, RFC 8037 section 3.1).
func (k *Key) signature(signing string) ([]byte, error) {
	var opts crypto.SignerOpts = crypto.SHA256 // RS256 (PKCS #1 v1.5) and ES256
	switch k.alg {
	case HS256:
		return jwt.SigningMethodHS256.Sign(signing, k.secret)
	case EdDSA:
		return k.signer.Sign(rand.Reader, []byte(signing), crypto.Hash(0)) // Ed25519 signs the message itself
	case PS256:
		opts = pss
	}
	digest := sha256.Sum256([]byte(signing))
	sig, err := k.signer.Sign(rand.Reader, digest[:], opts)
	if err != nil || k.alg != ES256 {
		return sig, err
	}
	return ecdsaJOSE(sig)
}

// ecdsaJOSE turns the ASN.1 DER signature a crypto.Signer returns into
// the 64 bytes R || S of RFC 7518 section 3.4.
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
	j := JWK{Kid: k.id, Use: "sig", Alg: k.alg}
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
		return k.alg, k.secret, true
	}
	return k.alg, k.public, true
}
