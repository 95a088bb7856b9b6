package sqlstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// The environment of a helper process: it refreshes one token with an
// Issuer of its own and prints the outcome.
const (
	helperEngine = "MINT_HELPER_ENGINE"
	helperDSN    = "MINT_HELPER_DSN"
	helperSecret = "MINT_HELPER_SECRET"
	helperToken  = "MINT_HELPER_REFRESH_TOKEN"
)

// TestTwoProcessesRaceOnOneRefreshToken runs two OS processes, each with
// its own Issuer and connection pool on one database, and has them present
// the same refresh token at the same moment: exactly one gets a new pair,
// the other sees a reuse, and the family ends revoked.
func TestTwoProcessesRaceOnOneRefreshToken(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			s := storeOn(t, e, openDB(t, e, dsn))
			secret, password := seed(t, s)
			iss := newIssuer(t, s)
			tok := login(t, iss, secret, password)

			type child struct {
				cmd   *exec.Cmd
				stdin io.WriteCloser
				out   *bufio.Reader
			}
			children := make([]child, 2)
			for i := range children {
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRefreshProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), helperEngine+"="+e.name, helperDSN+"="+dsn,
					helperSecret+"="+secret, helperToken+"="+tok.RefreshToken)
				cmd.Stderr = os.Stderr
				stdin, err := cmd.StdinPipe()
				require.NoError(t, err)
				stdout, err := cmd.StdoutPipe()
				require.NoError(t, err)
				require.NoError(t, cmd.Start())
				t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
				children[i] = child{cmd, stdin, bufio.NewReader(stdout)}
			}
			// Each child says "ready" once its Issuer is built; then both
			// are released at once.
			for i, c := range children {
				require.Equal(t, "ready", readLine(t, c.out), "child %d", i)
			}
			for _, c := range children {
				_, err := io.WriteString(c.stdin, "go\n")
				require.NoError(t, err)
			}
			outcomes := map[string]int{}
			for _, c := range children {
				outcomes[readLine(t, c.out)]++
			}
			assert.Equal(t, map[string]int{"ok": 1, "revoked": 1}, outcomes)

			digest, _ := digestRefreshToken(tok.RefreshToken)
			rec, err := s.RefreshToken(context.Background(), digest)
			require.NoError(t, err)
			assert.True(t, rec.Revoked, "the reuse revoked the family")
			assert.Equal(t, 2, count(t, s.DB(), "mint_refresh_tokens"), "one rotation was stored")
		})
	}
}

// readLine reads one line of a child's output, prefixed "mint-helper: " so
// that the test framework's own output is skipped.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "mint-helper: "); ok {
			return rest
		}
		require.NoError(t, err, "the helper process ended early")
	}
	t.Fatal("no answer from the helper process")
	return ""
}

// TestHelperRefreshProcess is the child of
// TestTwoProcessesRaceOnOneRefreshToken; run alone it does nothing.
func TestHelperRefreshProcess(t *testing.T) {
	name := os.Getenv(helperEngine)
	if name == "" {
		t.Skip("helper process for TestTwoProcessesRaceOnOneRefreshToken")
	}
	var e engine
	for _, c := range engines {
		if c.name == name {
			e = c
		}
	}
	s := storeOn(t, e, openDB(t, e, os.Getenv(helperDSN)))
	iss := newIssuer(t, s)
	fmt.Println("mint-helper: ready")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "go\n", line)
	_, err = refresh(context.Background(), iss, os.Getenv(helperSecret), os.Getenv(helperToken))
	switch {
	case err == nil:
		fmt.Println("mint-helper: ok")
	case errors.Is(err, mint.KindRevokedRefreshToken):
		fmt.Println("mint-helper: revoked")
	default:
		fmt.Println("mint-helper: error " + err.Error())
	}
}
