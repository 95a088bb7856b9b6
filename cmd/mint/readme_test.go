package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's operator's session names only commands that exist, and
// shows every command.
func TestReadmeSession(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "## An operator's session: `cmd/mint`")
	require.True(t, ok, "the README has the operator's session")
	section, _, _ = strings.Cut(section, "\n## ")
	shown := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "mint ") && !strings.Contains(line, "| mint ") {
			continue
		}
		_, cmdline, _ := strings.Cut(line, "mint ")
		c, _ := lookup(strings.Fields(cmdline))
		if assert.NotNil(t, c, "the README shows an unknown command: %s", line) {
			shown[c.name] = true
		}
	}
	for _, c := range commands {
		if c.name != "clients list" && c.name != "clients remove" {
			assert.True(t, shown[c.name], "the session shows mint %s", c.name)
		}
	}
}
