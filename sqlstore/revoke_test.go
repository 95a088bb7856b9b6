package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
	"github.com/mintauth/mint/verify"
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
				assert.Equal(t, 1, counter.transactions(), "in one transaction")
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

// statementCounter records the statements run through a countingConnector,
// and counts the transactions begun.
type statementCounter struct {
	mu      sync.Mutex
	queries []string
	txs     int
}

func (c *statementCounter) add(q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries = append(c.queries, q)
}

func (c *statementCounter) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.txs++
}

func (c *statementCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queries, c.txs = nil, 0
}

// transactions is the number of transactions begun since the last reset.
func (c *statementCounter) transactions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.txs
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
	c.counter.begin()
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

// Two Issuers over two connection pools on one database stand for two
// replicas: everything of the user revoked through one is refused by the
// other's introspection, refresh and deny-list verifier, and tokens
// issued a second later work.
func TestRevokeUserAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			a, b := storeOn(t, e, openDB(t, e, dsn)), storeOn(t, e, openDB(t, e, dsn))
			secret, password := seed(t, a)
			var mu sync.Mutex
			clock := time.Now().UTC().Truncate(time.Second)
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
			replica := func(s *sqlstore.Store) (*mint.Issuer, *verify.Verifier) {
				keys, err := mint.LoadKeySet(ctx, s, mint.EdDSA, mint.KeyPolicy{})
				require.NoError(t, err)
				iss, err := mint.New(s, keys, mint.WithHasher(fastHasher), mint.WithClock(now),
					mint.WithIssuer("https://issuer.example"), mint.WithAudience("api"),
					mint.WithLogger(slog.New(slog.DiscardHandler)))
				require.NoError(t, err)
				v, err := verify.New(keys, "https://issuer.example", "api", verify.WithClock(now), verify.WithDenyList(s))
				require.NoError(t, err)
				return iss, v
			}
			issA, _ := replica(a)
			issB, verifierB := replica(b)
			app := &mint.Client{ID: "app"}
			alive := func(tok *mint.Token) bool {
				t.Helper()
				in, err := issB.Introspect(ctx, app, tok.AccessToken, "")
				require.NoError(t, err)
				_, verr := verifierB.Verify(ctx, tok.AccessToken)
				assert.Equal(t, in.Active, verr == nil, "introspection and verifier agree")
				_, rerr := refresh(ctx, issB, secret, tok.RefreshToken)
				assert.Equal(t, in.Active, rerr == nil, "introspection and refresh agree: %v", rerr)
				return in.Active
			}

			first, second := login(t, issA, secret, password), login(t, issA, secret, password)
			require.NoError(t, issA.RevokeUser(ctx, "7"))
			assert.False(t, alive(first))
			assert.False(t, alive(second))
			mu.Lock()
			clock = clock.Add(time.Second)
			mu.Unlock()
			assert.True(t, alive(login(t, issA, secret, password)), "a token issued after the revocation")
		})
	}
}
