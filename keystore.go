package mint

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// KeyStore is an optional place to keep signing keys, so that every
// replica of a host signs with the same active key and publishes the same
// JWKS, and a restart keeps issued tokens verifiable. Keys are numbered by
// Version; the highest version is the active key, the others verify the
// tokens they signed. The sqlstore package implements it.
type KeyStore interface {
	// SigningKeys returns every stored key, highest Version first.
	SigningKeys(ctx context.Context) ([]StoredKey, error)
	// AddSigningKey stores k unless a key with the same Version or the
	// same ID already exists, in which case it stores nothing and returns
	// false: another replica won the race and its key is the one to use.
	// storetest.RunKeyStore checks an implementation.
	AddSigningKey(ctx context.Context, k StoredKey) (added bool, err error)
}

// StoredKey is a signing key as a KeyStore keeps it. Private is the
// PKCS#8 DER encoding of the private key (x509.MarshalPKCS8PrivateKey), or
// the raw secret of an HS256 key: it is key material and must be protected
// like a password.
type StoredKey struct {
	// Version orders keys: the highest is the active key.
	Version int64
	// ID is the key id (kid) put in token headers.
	ID string
	// Algorithm is the JWS alg: HS256, RS256, PS256, ES256 or EdDSA.
	Algorithm string
	// Private is the key material, PKCS#8 DER or a raw HS256 secret.
	Private []byte
	// CreatedAt is when the key was made.
	CreatedAt time.Time
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

// LoadKeySet reads the signing keys of ks into a KeySet, the highest
// version active. When ks holds no key yet it generates one for alg and
// stores it as version 1; of several replicas doing so at once exactly one
// key is stored, and every replica ends with that key active.
func LoadKeySet(ctx context.Context, ks KeyStore, alg string) (*KeySet, error) {
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		if _, err := AddGeneratedKey(ctx, ks, alg, 1); err != nil {
			return nil, err
		}
		if stored, err = ks.SigningKeys(ctx); err != nil {
			return nil, err
		}
		if len(stored) == 0 {
			return nil, errors.New("mint: key store holds no key after adding one")
		}
	}
	keys := make([]*Key, 0, len(stored))
	for _, sk := range stored {
		k, err := sk.Key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return NewKeySet(keys[0], keys[1:]...)
}

// AddGeneratedKey generates a key for alg and stores it under version.
// It returns false, storing nothing, when that version is already taken.
// To rotate, add version (highest + 1) and reload the key sets with
// LoadKeySet.
func AddGeneratedKey(ctx context.Context, ks KeyStore, alg string, version int64) (bool, error) {
	k, err := GenerateKey(alg)
	if err != nil {
		return false, err
	}
	sk, err := k.Stored(version, time.Now().UTC())
	if err != nil {
		return false, err
	}
	return ks.AddSigningKey(ctx, sk)
}

// SyncKeySet brings set in line with ks, for replicas that keep running
// while another one rotates: keys added to the store join the set, the
// highest version becomes the active key, and keys deleted from the store
// are retired. Call it periodically (say every minute) and after a
// rotation; a rotation should be published ahead of use, since a token
// signed with the new key verifies at a replica only once it has synced.
func SyncKeySet(ctx context.Context, ks KeyStore, set *KeySet) error {
	stored, err := ks.SigningKeys(ctx)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		return errors.New("mint: key store holds no key")
	}
	keep := make(map[string]bool, len(stored))
	for _, sk := range stored {
		keep[sk.ID] = true
	}
	// Oldest first, so that the newest key added is rotated in last and
	// ends active.
	for i := len(stored) - 1; i >= 0; i-- {
		sk := stored[i]
		if _, ok := set.Key(sk.ID); ok {
			continue
		}
		k, err := sk.Key()
		if err != nil {
			return err
		}
		if err := set.Rotate(k); err != nil {
			return err
		}
	}
	if newest := stored[0]; set.Active().ID() != newest.ID {
		// The newest key was already in the set as a verification key.
		k, _ := set.Key(newest.ID)
		if err := set.Retire(newest.ID); err != nil {
			return err
		}
		if err := set.Rotate(k); err != nil {
			return err
		}
	}
	for _, k := range set.Keys() {
		if !keep[k.ID()] {
			if err := set.Retire(k.ID()); err != nil {
				return err
			}
		}
	}
	return nil
}
