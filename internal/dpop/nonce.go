package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// DefaultNoncePeriod is the period of a nonce unless NewNonces is given
// another.
const DefaultNoncePeriod = time.Minute

// MinNonceKeySize is the least size of a Nonces key.
const MinNonceKeySize = 16

// Nonces issues and checks server nonces (RFC 9449 sections 8 and 9)
// without storing them: a nonce is the HMAC-SHA256, under a key, of the
// current time period's number, and is valid during its period and the
// next one, so that a client that just got one has at least a period to
// use it. Servers sharing the key (replicas) accept each other's nonces.
// A Nonces is safe for concurrent use.
type Nonces struct {
	key    []byte
	period time.Duration
	now    func() time.Time
}

// NewNonces returns Nonces under key (at least MinNonceKeySize bytes,
// random and secret), with the period (zero: DefaultNoncePeriod) and the
// clock (nil: time.Now). It panics on a short key or a negative period,
// programming errors that the callers' options rule out.
func NewNonces(key []byte, period time.Duration, now func() time.Time) *Nonces {
	if len(key) < MinNonceKeySize {
		panic("dpop: a nonce key needs at least 16 bytes")
	}
	if period < 0 {
		panic("dpop: negative nonce period")
	}
	if period == 0 {
		period = DefaultNoncePeriod
	}
	if now == nil {
		now = time.Now
	}
	return &Nonces{key: append([]byte(nil), key...), period: period, now: now}
}

// Current returns the nonce of the current period, for a DPoP-Nonce
// header.
func (n *Nonces) Current() string {
	return base64.RawURLEncoding.EncodeToString(n.mac(n.periodOf(n.now())))
}

// Valid reports whether nonce is the nonce of the current period or of
// the previous one, compared in constant time.
func (n *Nonces) Valid(nonce string) bool {
	got, err := base64.RawURLEncoding.Strict().DecodeString(nonce)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	p := n.periodOf(n.now())
	cur := hmac.Equal(got, n.mac(p))
	prev := hmac.Equal(got, n.mac(p-1))
	return cur || prev
}

func (n *Nonces) periodOf(t time.Time) int64 { return t.UnixNano() / int64(n.period) }

func (n *Nonces) mac(period int64) []byte {
	h := hmac.New(sha256.New, n.key)
	_ = binary.Write(h, binary.BigEndian, period) // a hash never fails to write
	return h.Sum(nil)
}
