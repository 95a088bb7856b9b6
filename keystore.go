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
// replica of a host signs with the same active key and publishes the same
// JWKS, and a restart keeps issued tokens verifiable. Keys are numbered by
// Version; the highest unretired version published for long enough is the
// active key (see KeyPolicy), the others verify the tokens they signed. The
// sqlstore package implements it.
type KeyStore interface {
	// SigningKeys returns every stored key, highest Version first.
	SigningKeys(ctx context.Context) ([]StoredKey, error)
	// AddSigningKey stores k unless a key with the same Version or the
	// same ID already exists, in which case it stores nothing and returns
	// false: another replica won the race and its key is the one to use.
	// storetest.RunKeyStore checks an implementation.
	AddSigningKey(ctx context.Context, k StoredKey) (added bool, err error)
	// RetireSigningKey sets the RetiredAt of the key with id kid to at,
	// unless it is already retired (the first time is kept). It returns
	// ErrNotFound when no key has that id. Use RetireKey, which refuses
	// to retire the last key that can sign.
	RetireSigningKey(ctx context.Context, kid string, at time.Time) error
}

// StoredKey is a signing key as a KeyStore keeps it. Private is the
// PKCS#8 DER encoding of the private key (x509.MarshalPKCS8PrivateKey), or
// the raw secret of an HS256 key: it is key material and must be protected
// like a password.
type StoredKey struct {
	// Version orders keys: the highest unretired one whose publish time
	// has passed is the active key.
	Version int64
	// ID is the key id (kid) put in token headers.
	ID string
	// Algorithm is the JWS alg: HS256, RS256, PS256, ES256 or EdDSA.
	Algorithm string
	// Private is the key material, PKCS#8 DER or a raw HS256 secret.
	Private []byte
	// CreatedAt is when the key was made: it is published from then on,
	// and signs from CreatedAt + KeyPolicy.PublishAhead.
	CreatedAt time.Time
	// RetiredAt is when the key stopped signing; zero: it is not retired.
	// A retired key still verifies, and is published, until RetiredAt +
	// KeyPolicy.TokenLifetime.
	RetiredAt time.Time
}

// String names the key without its material.
func (k StoredKey) String() string {
	return fmt.Sprintf("mint.StoredKey{%d %s %s}", k.Version, k.Algorithm, k.ID)
}

// GoString hides the key material from %#v.
func (k StoredKey) GoString() string { return k.String() }

// Stored encodes k as a KeyStore keeps it, under the given version and
// creation time. Only a key whose material mint holds can be stored: an
// HS256 secret, an *rsa.PrivateKey, *ecdsa.PrivateKey or
// ed25519.PrivateKey. Any other crypto.Signer (a KMS or HSM key) cannot
// be exported, and is an error: build its Key at start instead.
func (k *Key) Stored(version int64, now time.Time) (StoredKey, error) {
	sk := StoredKey{Version: version, ID: k.ID(), Algorithm: k.Algorithm(), CreatedAt: now}
	switch priv := k.Private().(type) {
	case []byte:
		sk.Private = append([]byte(nil), priv...)
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return StoredKey{}, fmt.Errorf("mint: encode signing key %s: %w", k.ID(), err)
		}
		sk.Private = der
	default:
		return StoredKey{}, fmt.Errorf("mint: key %s cannot be stored: its crypto.Signer %T does not export its material", k.ID(), priv)
	}
	return sk, nil
}

// Key decodes a stored key back into a signing Key of its Algorithm,
// checking that its material suits that algorithm (NewKey).
func (k StoredKey) Key() (*Key, error) {
	var material any = k.Private
	if k.Algorithm != HS256 {
		priv, err := x509.ParsePKCS8PrivateKey(k.Private)
		if err != nil {
			return nil, fmt.Errorf("mint: decode signing key %s: %w", k.ID, err)
		}
		material = priv
	}
	key, err := newKey(k.Algorithm, k.ID, material)
	if err != nil {
		return nil, fmt.Errorf("mint: stored key %s: %w", k.ID, err)
	}
	return key, nil
}

// KeyPolicy says when a stored key starts signing and how long a retired
// one stays published, for LoadKeySet, SyncKeySet, AddGeneratedKey and
// RetireKey. Every replica of a host should use the same policy, so that
// they agree on the active key.
type KeyPolicy struct {
	// PublishAhead is how long a stored key is published in the JWKS, as a
	// verification key only, before it signs: from its CreatedAt on it
	// verifies, from CreatedAt + PublishAhead it may sign. It must exceed
	// the interval at which replicas sync their key sets plus the time
	// verifiers cache the JWKS, so that no verifier meets a token signed
	// by a key it has not fetched. Zero: a new key signs from the first
	// sync on, which suits only a host whose verifiers use the KeySet
	// itself.
	PublishAhead time.Duration
	// TokenLifetime is the longest lifetime of a token the keys sign: a
	// retired key stays in the set, and so in the JWKS, that long after
	// its RetiredAt, so that every token it signed verifies until it
	// expires. Zero: a retired key stays until it is deleted from the
	// store.
	TokenLifetime time.Duration
	// Now is the clock. Default (nil): time.Now.
	Now func() time.Time
}

// now reads the policy's clock.
func (p KeyPolicy) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// published reports whether sk has been published for PublishAhead.
func (p KeyPolicy) published(sk StoredKey, now time.Time) bool {
	return !sk.CreatedAt.Add(p.PublishAhead).After(now)
}

// expired reports whether sk was retired more than TokenLifetime ago, so
// that no token it signed is still valid.
func (p KeyPolicy) expired(sk StoredKey, now time.Time) bool {
	return !sk.RetiredAt.IsZero() && p.TokenLifetime > 0 && !sk.RetiredAt.Add(p.TokenLifetime).After(now)
}

// activeIndex returns the index in keys (highest Version first) of the
// key to sign with: the highest unretired version that is published,
// else the oldest unretired one; -1 when every key is retired.
func (p KeyPolicy) activeIndex(keys []StoredKey, now time.Time) int {
	oldest := -1
	for i, sk := range keys {
		if !sk.RetiredAt.IsZero() {
			continue
		}
		if p.published(sk, now) {
			return i
		}
		oldest = i
	}
	return oldest
}

// LoadKeySet reads the signing keys of ks into a KeySet: every stored key
// verifies, except one retired for longer than p.TokenLifetime; the active key is
// the highest unretired version published for at least p.PublishAhead
// (or, when none is yet, the oldest unretired key, so that a fresh
// deployment signs at once). When ks holds no key yet it generates
// one for alg and stores it as version 1; of several replicas doing so at
// once exactly one key is stored, and every replica ends with that key
// active.
func LoadKeySet(ctx context.Context, ks KeyStore, alg string, p KeyPolicy) (*KeySet, error) {
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		if _, err := AddGeneratedKey(ctx, ks, alg, 1, p); err != nil {
			return nil, err
		}
		if stored, err = ks.SigningKeys(ctx); err != nil {
			return nil, err
		}
		if len(stored) == 0 {
			return nil, errors.New("mint: key store holds no key after adding one")
		}
	}
	state, err := keyState(stored, p, nil)
	if err != nil {
		return nil, err
	}
	set := &KeySet{}
	set.state.Store(state)
	return set, nil
}

// AddGeneratedKey generates a key for alg and stores it under version,
// created at the policy's now. It returns false, storing nothing, when
// that version is already taken. To rotate, add version (highest + 1):
// replicas publish it at their next SyncKeySet and sign with it once
// p.PublishAhead has passed.
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

// SyncKeySet brings set in line with ks, for replicas that keep running
// while another one rotates: keys added to the store join the set as
// verification keys (so its JWKS publishes them), the active key is chosen
// as LoadKeySet chooses it, and keys deleted from the store, or retired
// for longer than p.TokenLifetime, leave the set.
// Call it periodically, more often than p.PublishAhead, so that every key
// is published before it signs. A failed sync leaves set unchanged.
func SyncKeySet(ctx context.Context, ks KeyStore, set *KeySet, p KeyPolicy) error {
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		return errors.New("mint: key store holds no key")
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	state, err := keyState(stored, p, set.state.Load())
	if err != nil {
		return err
	}
	set.state.Store(state)
	return nil
}

// RetireKey stops the key kid of ks signing, from the policy's now: every
// replica signs with another key from its next SyncKeySet, and keeps
// publishing kid until p.TokenLifetime has passed. Retiring the only
// unretired key that has been published for p.PublishAhead is an error,
// since then no key could sign without a verification gap. The check and
// the retirement are two steps: do not retire keys concurrently.
func RetireKey(ctx context.Context, ks KeyStore, kid string, p KeyPolicy) error {
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return err
	}
	now := p.now()
	found, other := false, false
	for _, sk := range stored {
		if sk.ID == kid {
			found = true
		} else if sk.RetiredAt.IsZero() && p.published(sk, now) {
			other = true
		}
	}
	switch {
	case !found:
		return fmt.Errorf("mint: retire key %s: %w", kid, ErrNotFound)
	case !other:
		return fmt.Errorf("mint: cannot retire key %s: no other key can sign", kid)
	}
	return ks.RetireSigningKey(ctx, kid, now.UTC())
}

// keyState builds the key set of the stored keys, highest Version first,
// at the policy's now: retired keys past their TokenLifetime are left
// out, and the active key is chosen by activeIndex. Keys already decoded
// in known are reused.
func keyState(stored []StoredKey, p KeyPolicy, known *keySetState) (*keySetState, error) {
	now := p.now()
	live := slices.DeleteFunc(slices.Clone(stored), func(sk StoredKey) bool { return p.expired(sk, now) })
	activeAt := p.activeIndex(live, now)
	if activeAt < 0 {
		return nil, errors.New("mint: key store holds no key that may sign: every key is retired")
	}
	keys := make([]*Key, 0, len(live))
	for i, sk := range live {
		k, err := knownOrDecode(sk, known)
		if err != nil {
			return nil, err
		}
		if i == activeAt {
			keys = slices.Insert(keys, 0, k)
		} else {
			keys = append(keys, k)
		}
	}
	return &keySetState{active: keys[0], keys: keys}, nil
}

// knownOrDecode returns the key of sk from known, or decodes it.
func knownOrDecode(sk StoredKey, known *keySetState) (*Key, error) {
	if known != nil {
		for _, k := range known.keys {
			if k.id == sk.ID && k.alg == sk.Algorithm {
				return k, nil
			}
		}
	}
	return sk.Key()
}
