package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// Revoking everything of a user or client costs the same few statements
// whether it has one family or many: one statement reaches the refresh
// tokens, never one per family.
func TestRevokeSubjectIsOneStatementPerTable(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	for _, e := range engines {
		for _, tc := range []struct {
			kind     string
			families int
		}{{"user", 1}, {"user", 200}, {"client", 1}, {"client", 200}} {
			t.Run(fmt.Sprintf("%s/%s/%d families", e.name, tc.kind, tc.families), func(t *testing.T) {
				counter := &statementCounter{}
				db := sql.OpenDB(&countingConnector{dsn: e.newDSN(t), drv: driverOf(t, e.driver), counter: counter})
				t.Cleanup(func() { db.Close() })
				s := storeOn(t, e, db)
				for i := range tc.families {
					digest := fmt.Sprintf("family-%d", i)
					require.NoError(t, s.SaveRefreshToken(ctx, &mint.RefreshToken{Digest: digest, Family: digest,
						ClientID: "app", UserID: "7", Grant: "password", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}))
				}
				counter.reset()
				if tc.kind == "user" {
					require.NoError(t, s.RevokeUser(ctx, "7", now))
				} else {
					require.NoError(t, s.RevokeClient(ctx, "app", now))
				}
				got := counter.statements()
				assert.Len(t, got, 2, "the subject's row and its families: %q", got)
				tokens := 0
				for _, q := range got {
					if strings.Contains(q, "mint_refresh_tokens") {
						tokens++
					}
				}
				assert.Equal(t, 1, tokens, "one statement reaches the refresh tokens: %q", got)
				assert.Equal(t, tc.families, count(t, db, "mint_revoked_families"), "every family revoked")
			})
		}
	}
}

// statementCounter records the statements run through a countingConnector.
type statementCounter struct {
	mu      sync.Mutex
	queries []string
}

func (c *statementCounter) add(q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, q)
}

func (c *statementCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = nil
}

func (c *statementCounter) statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.queries...)
}

// countingConnector opens connections of a real driver that record every
// statement they run.
type countingConnector struct {
	dsn     string
	drv     driver.Driver
	counter *statementCounter
}

func (c *countingConnector) Connect(context.Context) (driver.Conn, error) {
	inner, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: inner, counter: c.counter}, nil
}

func (c *countingConnector) Driver() driver.Driver { return c.drv }

type countingConn struct {
	driver.Conn
	counter *statementCounter
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.counter.add(query)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.counter.add(query)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}
