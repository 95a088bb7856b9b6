package main

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// A key added to the database reaches the server's JWKS within one
// key_sync_interval, while the server keeps signing with the old key
// until key_publish_ahead has passed.
func TestSQLServerPublishesARotatedKeyAhead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mint.db")
	config := strings.NewReplacer(`"key_publish_ahead": "5m"`, `"key_publish_ahead": "1h"`,
		`"key_sync_interval": "30s"`, `"key_sync_interval": "1s"`).Replace(designConfig)
	require.NotEqual(t, designConfig, config)
	configPath := filepath.Join(t.TempDir(), "mint.json")
	require.NoError(t, os.WriteFile(configPath, []byte(config), 0o600))
	ts := startServer(t, options{configPath: configPath, store: "sqlite:" + path})
	kid := ts.kid(t)

	db, err := sql.Open("sqlite", sqliteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	added, err := mint.AddGeneratedKey(context.Background(), store, mint.EdDSA, 2, mint.KeyPolicy{})
	require.NoError(t, err)
	require.True(t, added)
	stored, err := store.SigningKeys(context.Background())
	require.NoError(t, err)
	next := stored[0].ID

	published := func() bool {
		resp, err := http.Get(ts.base + pathJWKS)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return err == nil && strings.Contains(string(b), next)
	}
	assert.Eventually(t, published, 5*time.Second, 100*time.Millisecond, "the new key is published within a sync interval")
	assert.Contains(t, ts.jwks(t), kid, "the old key stays published")
	access, _ := ts.login(t)
	tok, _, err := jwt.NewParser().ParseUnverified(access, jwt.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, kid, tok.Header["kid"], "the old key signs until the publish-ahead time has passed")
}
