package mint_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// The README's error table is the catalogue: every row of mint.Codes must
// be printed there as it is.
func TestReadmeShowsEveryCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, c := range mint.Codes() {
		row := fmt.Sprintf("| %d | %d | %s |", c.Code, c.Status(), c.Message)
		assert.True(t, strings.Contains(string(readme), row), "README lacks the row %q", row)
	}
	assert.Contains(t, string(readme), "go run ./examples/server")
	assert.Contains(t, string(readme), "go test -race ./...")
}
