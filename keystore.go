package mint

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// KeyStore is an optional place to keep signing keys, so that every
// replica of a host signs with the same key and publishes the same JWKS,
// and a restart keeps issued tokens verifiable. The sqlstore package
// implements it; storetest.RunKeyStore checks an implementation.
type KeyStore interface {
	// SigningKeys returns every stored key, highest Version first.
	SigningKeys(ctx context.Context) ([]StoredKey, error)
	// AddSigningKey stores k unless a key with the same Version or ID
	// exists: then it stores nothing and returns false, since another
	// replica won the race and its key is the one to use.
	AddSigningKey(ctx context.Context, k StoredKey) (added bool, err error)
	// RetireSigningKey sets the RetiredAt of the key kid to at unless it
	// is already retired, or returns ErrNotFound. Hosts call RetireKey,
	// which refuses to retire the last key that can sign.
	RetireSigningKey(ctx context.Context, kid string, at time.Time) error
}

// StoredKey is a signing key as a KeyStore keeps it. A key is published
// from CreatedAt on and signs from CreatedAt + KeyPolicy.PublishAhead; a
// retired key still verifies, and is published, until RetiredAt +
// KeyPolicy.TokenLifetime.
type StoredKey struct {
	Version   int64     // orders keys; KeyPolicy says which one signs
	ID        string    // the key id (kid) put in token headers
	Algorithm string    // the JWS alg: HS256, RS256, PS256, ES256 or EdDSA
	Private   []byte    // PKCS #8 DER, or an HS256 secret: protect it like a password
	CreatedAt time.Time // when the key was made
	RetiredAt time.Time // when it stopped signing; zero: it is not retired
}

// String names the key without its material.
func (k StoredKey) String() string {
	return fmt.Sprintf("mint.StoredKey{%d %s %s}", k.Version, k.Algorithm, k.ID)
}

// GoString hides the key material from %#v.
func (k StoredKey) GoString() string { return k.String() }

// Stored encodes k as a KeyStore keeps it, under the given version and
// creation time. Only an HS256 secret, an *rsa.PrivateKey,
// *ecdsa.PrivateKey or ed25519.PrivateKey can be stored: another
// crypto.Signer (a KMS or HSM key) does not export its material.
func (k *Key) Stored(version int64, now time.Time) (StoredKey, error) {
	sk := StoredKey{Version: version, ID: k.id, Algorithm: k.alg, CreatedAt: now}
	switch priv := k.Private().(type) {
	case []byte:
		sk.Private = slices.Clone(priv)
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return StoredKey{}, fmt.Errorf("mint: encode signing key %s: %w", k.id, err)
		}
		sk.Private = der
	default:
		return StoredKey{}, fmt.Errorf("mint: key %s cannot be stored: its crypto.Signer %T does not export its material", k.id, priv)
	}
	return sk, nil
}

// Key decodes a stored key back into a signing Key, checking that its
// material suits its Algorithm as NewKey does.
func (k StoredKey) Key() (*Key, error) {
	var material any = k.Private
	var err error
	if k.Algorithm != HS256 {
		if material, err = x509.ParsePKCS8PrivateKey(k.Private); err != nil {
			return nil, fmt.Errorf("mint: decode signing key %s: %w", k.ID, err)
		}
	}
	key, err := newKey(k.Algorithm, k.ID, material)
	if err != nil {
		return nil, fmt.Errorf("mint: stored key %s: %w", k.ID, err)
	}
	return key, nil
}

// KeyPolicy says which stored key signs: the highest unretired Version
// published for PublishAhead or, when none is yet, the oldest unretired
// one, so that a fresh deployment signs at once. Every replica of a host
// should use the same policy, so that they agree on the active key.
type KeyPolicy struct {
	// PublishAhead is how long a new key is published in the JWKS before
	// it signs: more than the SyncKeySet interval plus the verifiers' JWKS
	// cache age, so that no verifier meets a kid it has not fetched. Zero
	// suits only verifiers that use the KeySet itself.
	PublishAhead time.Duration
	// TokenLifetime is the longest lifetime of a token the keys sign: a
	// retired key stays in the set, and in the JWKS, that long after its
	// RetiredAt. Zero: until it is deleted from the store.
	TokenLifetime time.Duration
	// Now is the clock. Default (nil): time.Now.
	Now func() time.Time
}

func (p KeyPolicy) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// signs reports whether sk is unretired and published for PublishAhead.
func (p KeyPolicy) signs(sk StoredKey, now time.Time) bool {
	return sk.RetiredAt.IsZero() && !sk.CreatedAt.Add(p.PublishAhead).After(now)
}

// expired reports whether every token sk signed has expired.
func (p KeyPolicy) expired(sk StoredKey, now time.Time) bool {
	return !sk.RetiredAt.IsZero() && p.TokenLifetime > 0 && !sk.RetiredAt.Add(p.TokenLifetime).After(now)
}

// activeIndex returns the index in keys (highest Version first) of the
// key that signs, or -1 when every key is retired.
func (p KeyPolicy) activeIndex(keys []StoredKey, now time.Time) int {
	oldest := -1
	for i, sk := range keys {
		switch {
		case p.signs(sk, now):
			return i
		case sk.RetiredAt.IsZero():
			oldest = i
		}
	}
	return oldest
}

// LoadKeySet reads the signing keys of ks into a KeySet whose active key
// p chooses; a key retired for longer than p.TokenLifetime is left out.
// When ks holds no key yet, LoadKeySet stores a new alg key as version 1:
// of several replicas doing so at once exactly one key is stored, and
// every replica ends with that key active.
func LoadKeySet(ctx context.Context, ks KeyStore, alg string, p KeyPolicy) (*KeySet, error) {
	set := &KeySet{}
	err := SyncKeySet(ctx, ks, set, p)
	if errors.Is(err, errNoKey) {
		if _, err = AddGeneratedKey(ctx, ks, alg, 1, p); err == nil {
			err = SyncKeySet(ctx, ks, set, p)
		}
	}
	if err != nil {
		return nil, err
	}
	return set, nil
}

// AddGeneratedKey stores a new key for alg under version, created at the
// policy's now, and returns false, storing nothing, when version is
// taken. To rotate, add the highest version + 1: replicas publish it at
// their next SyncKeySet and sign with it once p.PublishAhead has passed.
func AddGeneratedKey(ctx context.Context, ks KeyStore, alg string, version int64, p KeyPolicy) (bool, error) {
	k, err := GenerateKey(alg)
	if err != nil {
		return false, err
	}
	sk, err := k.Stored(version, p.now().UTC())
	if err != nil {
		return false, err
	}
	return ks.AddSigningKey(ctx, sk)
}

// SyncKeySet brings set in line with ks as LoadKeySet reads it: keys
// another replica added are published, and deleted or expired ones dropped.
// Call it more often than p.PublishAhead, so that every key is published
// before it signs. A failed sync leaves set unchanged.
func SyncKeySet(ctx context.Context, ks KeyStore, set *KeySet, p KeyPolicy) error {
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return err
	}
	return set.update(func(known []*Key) ([]*Key, error) { return liveKeys(stored, p, known) })
}

// RetireKey stops the key kid of ks signing from the policy's now; replicas
// keep publishing it for p.TokenLifetime. Retiring the only unretired key
// published for p.PublishAhead is an error: no key could then sign without
// a verification gap. The check and the retirement are two steps: do not
// retire keys concurrently.
func RetireKey(ctx context.Context, ks KeyStore, kid string, p KeyPolicy) error {
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return err
	}
	now := p.now()
	if !slices.ContainsFunc(stored, func(sk StoredKey) bool { return sk.ID == kid }) {
		return fmt.Errorf("mint: retire key %s: %w", kid, ErrNotFound)
	}
	if !slices.ContainsFunc(stored, func(sk StoredKey) bool { return sk.ID != kid && p.signs(sk, now) }) {
		return fmt.Errorf("mint: cannot retire key %s: no other key can sign", kid)
	}
	return ks.RetireSigningKey(ctx, kid, now.UTC())
}

// errNoKey is a key store that holds no key at all.
var errNoKey = errors.New("mint: key store holds no key")

// liveKeys returns the keys of stored (highest Version first) that are not
// expired at the policy's now, the active one first. Keys already decoded
// in known are reused.
func liveKeys(stored []StoredKey, p KeyPolicy, known []*Key) ([]*Key, error) {
	if len(stored) == 0 {
		return nil, errNoKey
	}
	now := p.now()
	live := slices.DeleteFunc(slices.Clone(stored), func(sk StoredKey) bool { return p.expired(sk, now) })
	i := p.activeIndex(live, now)
	if i < 0 {
		return nil, errors.New("mint: key store holds no key that may sign: every key is retired")
	}
	keys := make([]*Key, 0, len(live))
	for _, sk := range slices.Concat(live[i:i+1], live[:i], live[i+1:]) {
		if j := slices.IndexFunc(known, func(k *Key) bool { return k.id == sk.ID && k.alg == sk.Algorithm }); j >= 0 {
			keys = append(keys, known[j]) // already decoded: keep the same *Key
			continue
		}
		k, err := sk.Key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}
