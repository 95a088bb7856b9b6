// Package jwk reads public signing keys from JSON Web Keys (RFC 7517) and
// computes their thumbprints (RFC 7638), for the resource-server package
// (a remote JWKS) and for DPoP proofs (RFC 9449), whose header carries the
// key. Members are read by exact name, a name given twice makes the key
// unusable, and only public RSA (2048 bits or more), EC P-256 and Ed25519
// keys are accepted. It imports the standard library and internal/wire
// only. Errors name the rule a key breaks, never its material.
package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"

	"github.com/mintauth/mint/internal/wire"
)

// The JWS algorithms a Key verifies.
const (
	RS256 = "RS256"
	PS256 = "PS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
)

// Key is a public signing key read from a JWK.
type Key struct {
	ID     string           // kid, may be empty
	Alg    string           // the one algorithm it verifies: RS256, PS256, ES256 or EdDSA
	Public crypto.PublicKey // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// ErrPrivate is a JWK that holds private material (a d or k member):
// not a public key, and never to be used as one.
var ErrPrivate = errors.New("jwk: the key holds private material")

// The other refusals of Parse and Thumbprint.
var (
	errObject  = errors.New("jwk: not a JSON object with distinct member names")
	errMember  = errors.New("jwk: a member has the wrong type")
	errUse     = errors.New("jwk: not a signing key")
	errKty     = errors.New("jwk: unsupported key type")
	errAlg     = errors.New("jwk: unsupported algorithm for its key type")
	errCurve   = errors.New("jwk: unsupported curve")
	errRSA     = errors.New("jwk: not a usable RSA key of 2048 bits or more")
	errPoint   = errors.New("jwk: not a valid public key")
	errMissing = errors.New("jwk: a required member is missing")
	errSet     = errors.New("jwk: not a JWK Set")
)

// members are the members of an RFC 7517 key that a verifier reads.
type members struct {
	kty, kid, use, alg, crv, n, e, x, y string
	keyOps                              []string
	private                             bool // has d or k: not a public key
}

// decode reads a JWK by exact member names (RFC 7517 section 4): "USE"
// is not "use", and a member given twice makes the key unusable.
func decode(raw json.RawMessage) (members, map[string]json.RawMessage, error) {
	obj, err := wire.DecodeObject(raw)
	if err != nil {
		return members{}, nil, errObject
	}
	var m members
	if wire.StringMembers(obj, map[string]*string{"kty": &m.kty, "kid": &m.kid, "use": &m.use, "alg": &m.alg,
		"crv": &m.crv, "n": &m.n, "e": &m.e, "x": &m.x, "y": &m.y}) != nil {
		return members{}, nil, errMember
	}
	if ops, ok := obj["key_ops"]; ok && (json.Unmarshal(ops, &m.keyOps) != nil || m.keyOps == nil) {
		return members{}, nil, errMember
	}
	_, d := obj["d"]
	_, k := obj["k"]
	m.private = d || k
	return m, obj, nil
}

// Parse reads one public signing key (RFC 7517, RFC 7518 section 6, RFC
// 8037 for Ed25519). A key that is private (ErrPrivate), not for
// signatures (use other than "sig", key_ops without "verify"), too weak,
// or of an unsupported type, curve or alg is refused, with an error that
// says which rule it breaks.
func Parse(raw json.RawMessage) (Key, error) {
	m, _, err := decode(raw)
	switch {
	case err != nil:
		return Key{}, err
	case m.private:
		return Key{}, ErrPrivate
	case (m.use != "" && m.use != "sig") || (m.keyOps != nil && !slices.Contains(m.keyOps, "verify")):
		return Key{}, errUse
	}
	var k Key
	switch m.kty {
	case "RSA":
		k, err = rsaKey(m)
	case "EC":
		k, err = ecKey(m)
	case "OKP":
		k, err = okpKey(m)
	default:
		err = errKty
	}
	if err != nil {
		return Key{}, err
	}
	k.ID = m.kid
	return k, nil
}

// ParseSet reads a JWK Set (RFC 7517 section 5), an object whose "keys"
// member is an array of JWKs, and returns its usable keys in order; keys
// Parse refuses are skipped, as section 5 says to ignore keys that are not
// understood. Anything but a JWK Set is an error.
func ParseSet(doc []byte) ([]Key, error) {
	obj, err := wire.DecodeObject(doc)
	if err != nil {
		return nil, errSet
	}
	var set []json.RawMessage
	if err := json.Unmarshal(obj["keys"], &set); err != nil || set == nil {
		return nil, errSet
	}
	keys := make([]Key, 0, len(set))
	for _, raw := range set {
		if k, err := Parse(raw); err == nil {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// rsaKey reads an RSA key of at least 2048 bits, bound to the alg it
// names, RS256 or PS256. A key without alg is taken for RS256, the common
// case, and never for PS256 as well: a key checks one algorithm only (RFC
// 8725 section 3.1), and an issuer signing PS256 says so in alg, as mint
// does.
func rsaKey(m members) (Key, error) {
	alg := m.alg
	switch alg {
	case "":
		alg = RS256
	case RS256, PS256:
	default:
		return Key{}, errAlg
	}
	n, err1 := b64d(m.n)
	e, err2 := b64d(m.e)
	if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
		return Key{}, errRSA
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if pub.N.BitLen() < 2048 || pub.E < 3 || pub.E%2 == 0 {
		return Key{}, errRSA
	}
	return Key{Alg: alg, Public: pub}, nil
}

// ecKey reads a P-256 key for ES256.
func ecKey(m members) (Key, error) {
	switch {
	case m.alg != "" && m.alg != ES256:
		return Key{}, errAlg
	case m.crv != "P-256":
		return Key{}, errCurve
	}
	x, err1 := b64d(m.x)
	y, err2 := b64d(m.y)
	if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
		return Key{}, errPoint
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		return Key{}, errPoint
	}
	return Key{Alg: ES256, Public: pub}, nil
}

// okpKey reads an Ed25519 key; its alg may be EdDSA or, after RFC 9864,
// Ed25519.
func okpKey(m members) (Key, error) {
	switch {
	case m.alg != "" && m.alg != EdDSA && m.alg != "Ed25519":
		return Key{}, errAlg
	case m.crv != "Ed25519":
		return Key{}, errCurve
	}
	x, err := b64d(m.x)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return Key{}, errPoint
	}
	return Key{Alg: EdDSA, Public: ed25519.PublicKey(x)}, nil
}

func b64d(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// required are the members of each key type that its RFC 7638 thumbprint
// hashes, in lexicographic order (section 3.2).
var required = map[string][]string{
	"RSA": {"e", "kty", "n"},
	"EC":  {"crv", "kty", "x", "y"},
	"OKP": {"crv", "kty", "x"},
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a JWK,
// base64url-encoded without padding: the hash of a JSON object of the
// key type's required members only (RSA: e, kty, n; EC: crv, kty, x, y;
// OKP, RFC 8037 section 2: crv, kty, x), in lexicographic order, without
// whitespace. The members are read as Parse reads them; the key itself is
// not checked, so that a thumbprint can name any key (call Parse for
// that).
func Thumbprint(raw json.RawMessage) (string, error) {
	m, obj, err := decode(raw)
	if err != nil {
		return "", err
	}
	names, ok := required[m.kty]
	if !ok {
		return "", errKty
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range names {
		v, ok := obj[name]
		if !ok {
			return "", errMissing
		}
		if i > 0 {
			b.WriteByte(',')
		}
		s, _ := json.Marshal(name)
		b.Write(s)
		b.WriteByte(':')
		b.WriteString(canonical(v))
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// canonical returns a string member (decode checked its type) as its
// minimal JSON encoding (RFC 7638 section 3.3): no escape that is not
// needed, so that "\u0041" and "A" hash alike.
func canonical(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s) // decode checked it is a JSON string
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
