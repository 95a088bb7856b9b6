package mint_test

import (
	"testing"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return mint.NewMemoryStore() })
}
