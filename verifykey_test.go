package mint_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// verifyKey is what golang-jwt needs to check k's signatures, as
// KeySet.VerificationKey gives it to a verifier: the public key, or the
// HS256 secret.
func verifyKey(t testing.TB, k *mint.Key) any {
	t.Helper()
	ks, err := mint.NewKeySet(k)
	require.NoError(t, err)
	alg, key, ok := ks.VerificationKey(k.ID())
	require.True(t, ok)
	require.Equal(t, k.Algorithm(), alg)
	return key
}
