package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// printed is a curl command block of the banner: "# title" then the
// command lines.
type printed struct{ title, cmd string }

// parseBanner returns the mounted paths of the banner's endpoint table and
// its ready-to-paste commands.
func parseBanner(t *testing.T, out string) (paths []string, cmds []printed) {
	t.Helper()
	_, rest, ok := strings.Cut(out, "Endpoints:\n")
	require.True(t, ok, "banner has an endpoint table")
	table, _, _ := strings.Cut(rest, "\n\n")
	for _, m := range routeLine.FindAllStringSubmatch(table, -1) {
		paths = append(paths, m[2])
	}
	_, try, ok := strings.Cut(out, "Try it: paste these into a shell")
	require.True(t, ok, "banner has curl commands")
	for _, block := range strings.Split(try, "\n# ")[1:] {
		title, cmd, _ := strings.Cut(strings.TrimSpace(block), "\n")
		cmds = append(cmds, printed{title, cmd})
	}
	return paths, cmds
}

func TestBannerHasCurlForEveryMountedPath(t *testing.T) {
	ts := startServer(t, options{})
	paths, cmds := parseBanner(t, ts.stdout.String())
	for _, p := range paths {
		n := 0
		for _, c := range cmds {
			if strings.Contains(c.cmd, "'"+ts.base+p+"'") {
				n++
			}
		}
		assert.GreaterOrEqual(t, n, 1, "a curl command for %s", p)
	}
	for _, ep := range tokenEndpoints {
		if !contains(paths, ep.path) {
			continue
		}
		fails := 0
		for _, c := range cmds {
			if strings.Contains(c.cmd, ts.base+ep.path) && !strings.Contains(c.title, "-> 20") {
				fails++
			}
		}
		assert.GreaterOrEqual(t, fails, 1, "a failing example for %s", ep.path)
	}
}

var (
	routeLine  = regexp.MustCompile(`(?m)^  (GET|POST) +(\S+)`)
	statusLine = regexp.MustCompile(`(?m)^HTTP/1\.1 (\d{3})`)
	wantStatus = regexp.MustCompile(`-> (\d{3})`)
	wantCode   = regexp.MustCompile(`code (\d{6})`)
)

// TestPrintedCurlCommandsWork pastes every printed command into bash, in
// order, against the running demo server, and checks that each answers
// the status (and envelope code) its title announces.
func TestPrintedCurlCommandsWork(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	ts := startServer(t, options{})
	_, cmds := parseBanner(t, ts.stdout.String())
	if len(cmds) == 0 {
		t.Skip("no endpoint mounted yet")
	}
	var script strings.Builder
	script.WriteString("set -u\n")
	for i, c := range cmds {
		fmt.Fprintf(&script, "echo '@@@%d'\n%s\n", i, c.cmd)
	}
	out, err := exec.Command(bash, "-c", script.String()).CombinedOutput()
	require.NoError(t, err, "%s", out)
	segments := strings.Split(string(out), "@@@")[1:]
	require.Len(t, segments, len(cmds))
	for i, c := range cmds {
		t.Run(c.title, func(t *testing.T) {
			seg := segments[i]
			m := wantStatus.FindStringSubmatch(c.title)
			if m == nil {
				assert.NotContains(t, seg, "HTTP/1.1", "a command without a status in its title prints none")
				return
			}
			got := statusLine.FindStringSubmatch(seg)
			require.NotNil(t, got, "no status line in:\n%s", seg)
			assert.Equal(t, m[1], got[1], "%s\n%s", c.cmd, seg)
			if code := wantCode.FindStringSubmatch(c.title); code != nil {
				want, _ := strconv.Atoi(code[1])
				assert.Contains(t, seg, fmt.Sprintf(`"code":%d`, want), seg)
			}
			for _, ep := range tokenEndpoints {
				if strings.Contains(c.cmd, "'"+ts.base+ep.path+"'") {
					assert.Contains(t, strings.ToLower(seg), "cache-control: no-store", "every token answer")
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
