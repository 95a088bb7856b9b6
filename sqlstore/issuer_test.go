package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// seed puts a client allowed password and refresh_token, and a user, in s.
// It returns the client secret and the user's password.
func seed(t testing.TB, s *sqlstore.Store) (secret, password string) {
	t.Helper()
	ctx := context.Background()
	secret, hash, err := mint.GenerateSecret()
	require.NoError(t, err)
	require.NoError(t, s.UpsertClient(ctx, &mint.Client{ID: "app", SecretHash: hash,
		Grants: []string{mint.GrantPassword, mint.GrantRefreshToken}, Scopes: []string{"read"}}))
	password = "correct horse"
	pwHash, err := fastHasher.Hash(context.Background(), password)
	require.NoError(t, err)
	require.NoError(t, s.UpsertUser(ctx, &mint.User{ID: "7", Username: "john", Email: "john@example.com", PasswordHash: pwHash}))
	return secret, password
}

// newIssuer returns an Issuer over s signing with the store's shared keys.
func newIssuer(t testing.TB, s *sqlstore.Store) *mint.Issuer {
	t.Helper()
	keys, err := mint.LoadKeySet(context.Background(), s, mint.EdDSA, mint.KeyPolicy{})
	require.NoError(t, err)
	iss, err := mint.New(s, keys, mint.WithHasher(fastHasher), mint.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	return iss
}

func login(t testing.TB, iss *mint.Issuer, secret, password string) *mint.Token {
	t.Helper()
	tok, err := iss.Token(context.Background(), &mint.TokenRequest{GrantType: mint.GrantPassword,
		ClientID: "app", ClientSecret: secret, Username: "john", Password: password})
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)
	return tok
}

func refresh(ctx context.Context, iss *mint.Issuer, secret, token string) (*mint.Token, error) {
	return iss.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantRefreshToken,
		ClientID: "app", ClientSecret: secret, RefreshToken: token})
}

// Two Issuers over two connection pools on one database stand for two
// processes: when both present the same refresh token at once, exactly
// one gets a new pair, and the reuse revokes the family (RFC 9700 section
// 4.14.2), the winner's new token included.
func TestTwoIssuersRaceOnOneRefreshToken(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			a := storeOn(t, e, openDB(t, e, dsn))
			b := storeOn(t, e, openDB(t, e, dsn))
			secret, password := seed(t, a)
			issuers := []*mint.Issuer{newIssuer(t, a), newIssuer(t, b)}
			for round := range 5 {
				tok := login(t, issuers[round%2], secret, password)
				var wg sync.WaitGroup
				results := make([]*mint.Token, len(issuers))
				errs := make([]error, len(issuers))
				start := make(chan struct{})
				for i, iss := range issuers {
					wg.Go(func() {
						<-start
						results[i], errs[i] = refresh(ctx, iss, secret, tok.RefreshToken)
					})
				}
				close(start)
				wg.Wait()
				var winner *mint.Token
				for i, err := range errs {
					if err == nil {
						require.Nil(t, winner, "round %d: both issuers succeeded", round)
						winner = results[i]
						continue
					}
					assert.ErrorIs(t, err, mint.KindRevokedRefreshToken, "round %d: the loser sees a reuse", round)
				}
				require.NotNil(t, winner, "round %d: no issuer succeeded: %v", round, errs)
				_, err := refresh(ctx, issuers[round%2], secret, winner.RefreshToken)
				assert.ErrorIs(t, err, mint.KindRevokedRefreshToken, "round %d: the family is revoked", round)
			}
		})
	}
}

// A token issued and refreshed at one replica keeps working at the other,
// in turn, and the access tokens of either verify with the other's keys.
func TestTwoIssuersShareTokensAndKeys(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.newDSN(t)
			a := storeOn(t, e, openDB(t, e, dsn))
			b := storeOn(t, e, openDB(t, e, dsn))
			secret, password := seed(t, a)
			issuers := []*mint.Issuer{newIssuer(t, a), newIssuer(t, b)}
			tok := login(t, issuers[0], secret, password)
			kids := map[string]bool{}
			for i := range 4 {
				next, err := refresh(ctx, issuers[(i+1)%2], secret, tok.RefreshToken)
				require.NoError(t, err, "refresh %d", i)
				tok = next
				kids[kidOf(t, tok.AccessToken)] = true
			}
			assert.Len(t, kids, 1, "both replicas sign with the same key")
			ka, err := mint.LoadKeySet(ctx, a, mint.EdDSA, mint.KeyPolicy{})
			require.NoError(t, err)
			kb, err := mint.LoadKeySet(ctx, b, mint.EdDSA, mint.KeyPolicy{})
			require.NoError(t, err)
			assert.Equal(t, ka.JWKS(), kb.JWKS())
		})
	}
}

// TestFaultMidRotation breaks the database between the UPDATE that spends
// the old refresh token and the INSERT of its successor, or at COMMIT. The
// Issuer must answer a server error, and the rotation must leave nothing
// behind: the old token still active, no new row. The same token then
// refreshes normally.
func TestFaultMidRotation(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				fault fault
			}{
				{"connection dies at insert", faultKillConn},
				{"context cancelled at insert", faultCancel},
				{"commit fails", faultCommit},
			} {
				t.Run(tc.name, func(t *testing.T) {
					inj := &injector{}
					iss, plain, secret, password := faultyIssuer(t, e, inj)
					tok := login(t, iss, secret, password)
					digest, ok := digestRefreshToken(tok.RefreshToken)
					require.True(t, ok)

					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					inj.arm(tc.fault, cancel)
					_, err := refresh(ctx, iss, secret, tok.RefreshToken)
					require.Error(t, err)
					assert.ErrorIs(t, err, mint.KindServerError, "a database failure is a server error")
					assert.True(t, inj.fired.Load(), "the fault was injected")

					old, err := plain.RefreshToken(context.Background(), digest)
					require.NoError(t, err)
					assert.True(t, old.Active(time.Now()), "the old token is still active")
					assert.Empty(t, old.Next)
					assert.Equal(t, 1, count(t, plain.DB(), "mint_refresh_tokens"), "no successor was stored")

					next, err := refresh(context.Background(), iss, secret, tok.RefreshToken)
					require.NoError(t, err, "the token refreshes once the database is back")
					assert.NotEmpty(t, next.RefreshToken)
				})
			}
		})
	}
}

// fault is a way for the database to fail during a rotation.
type fault int

const (
	faultNone        fault = iota
	faultKillConn          // the connection closes under the INSERT of the successor
	faultCancel            // the request's context is cancelled before that INSERT
	faultCommit            // COMMIT fails (the driver rolls back instead)
	faultClientQuery       // the client lookup fails
)

// injector fires its armed fault once, in whichever connection reaches
// the point first.
type injector struct {
	mu     sync.Mutex
	armed  fault
	cancel context.CancelFunc
	fired  atomic.Bool
}

func (i *injector) arm(f fault, cancel context.CancelFunc) {
	i.mu.Lock()
	i.armed, i.cancel = f, cancel
	i.mu.Unlock()
}

// take returns the armed fault if it is one of want, disarming it.
func (i *injector) take(want ...fault) (fault, context.CancelFunc) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, w := range want {
		if i.armed == w {
			i.armed = faultNone
			i.fired.Store(true)
			return w, i.cancel
		}
	}
	return faultNone, nil
}

// connector opens connections of a real driver wrapped by the injector.
type connector struct {
	dsn string
	drv driver.Driver
	inj *injector
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	inner, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &conn{inner: inner, inj: c.inj}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

type conn struct {
	inner  driver.Conn
	inj    *injector
	inTx   bool
	broken bool
}

var errInjected = errors.New("injected database failure")

func (c *conn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *conn) Close() error                              { return c.inner.Close() }
func (c *conn) Begin() (driver.Tx, error)                 { return c.BeginTx(context.Background(), driver.TxOptions{}) }

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return &txWrap{inner: tx, c: c}, nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx && strings.HasPrefix(query, "INSERT INTO mint_refresh_tokens") {
		switch f, cancel := c.inj.take(faultKillConn, faultCancel); f {
		case faultKillConn:
			c.broken = true
			c.inner.Close()
			return nil, driver.ErrBadConn
		case faultCancel:
			cancel()
		}
	}
	return c.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if strings.Contains(query, "FROM mint_clients") {
		if f, _ := c.inj.take(faultClientQuery); f == faultClientQuery {
			return nil, errInjected
		}
	}
	return c.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
}

// IsValid tells database/sql not to reuse a connection the fault closed.
func (c *conn) IsValid() bool { return !c.broken }

func (c *conn) ResetSession(ctx context.Context) error {
	if c.broken {
		return driver.ErrBadConn
	}
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

type txWrap struct {
	inner driver.Tx
	c     *conn
}

func (t *txWrap) Commit() error {
	t.c.inTx = false
	if f, _ := t.c.inj.take(faultCommit); f == faultCommit {
		_ = t.inner.Rollback()
		return errInjected
	}
	return t.inner.Commit()
}

func (t *txWrap) Rollback() error {
	t.c.inTx = false
	if t.c.broken {
		return driver.ErrBadConn
	}
	return t.inner.Rollback()
}

// A PostgreSQL server whose default isolation is SERIALIZABLE must not
// turn the losers of a rotation race into server errors.
func TestPostgresRotationUnderSerializableDefault(t *testing.T) {
	ctx := context.Background()
	e := engines[1]
	dsn := postgresDSN(t)
	sep := "&"
	if !strings.Contains(dsn, "?") {
		sep = "?"
	}
	if !strings.HasPrefix(dsn, "postgres") {
		sep = " "
	}
	s := storeOn(t, e, openDB(t, e, dsn+sep+"default_transaction_isolation=serializable"))
	var level string
	require.NoError(t, s.DB().QueryRow("SHOW default_transaction_isolation").Scan(&level))
	require.Equal(t, "serializable", level)
	now := time.Now().UTC().Truncate(time.Second)
	require.NoError(t, s.SaveRefreshToken(ctx, &mint.RefreshToken{Digest: "s0", Family: "s0", ClientID: "c", UserID: "u",
		Grant: "password", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}))
	const n = 20
	var wins, used atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := s.RotateRefreshToken(ctx, "s0", &mint.RefreshToken{Digest: fmt.Sprintf("s%d", i+1), Family: "s0",
				Parent: "s0", ClientID: "c", UserID: "u", Grant: "password", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, mint.ErrTokenUsed):
				used.Add(1)
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, wins.Load())
	assert.EqualValues(t, n-1, used.Load())
}

// faultyIssuer returns an Issuer over a store whose connections inj can
// break, a plain store over the same database to inspect it, and the
// seeded client secret and user password.
func faultyIssuer(t *testing.T, e engine, inj *injector) (iss *mint.Issuer, plain *sqlstore.Store, secret, password string) {
	t.Helper()
	dsn := e.newDSN(t)
	plain = storeOn(t, e, openDB(t, e, dsn))
	secret, password = seed(t, plain)
	faulty := sql.OpenDB(&connector{dsn: dsn, drv: driverOf(t, e.driver), inj: inj})
	t.Cleanup(func() { faulty.Close() })
	store, err := sqlstore.New(faulty, e.dialect)
	require.NoError(t, err)
	return newIssuer(t, store), plain, secret, password
}

// A database failure reaches the client as a server error in the shape of
// the dialect it spoke: RFC 6749's {"error":"server_error"} with 500, or
// the envelope's code 500000.
func TestDatabaseFaultOnTheWire(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			inj := &injector{}
			iss, plain, secret, password := faultyIssuer(t, e, inj)
			quiet := slog.New(slog.DiscardHandler)
			mux := http.NewServeMux()
			mux.Handle("/oauth2/token", mint.TokenHandler{Issuer: iss, Logger: quiet})
			mux.Handle("/auth/token", mint.TokenHandler{Issuer: iss, Logger: quiet, Dialect: mint.NewEventhosDialect(),
				Grants: []string{mint.GrantClientCredentials, mint.GrantPassword}})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			post := func(path string, form url.Values) (int, map[string]any) {
				resp, err := http.PostForm(srv.URL+path, form)
				require.NoError(t, err)
				defer resp.Body.Close()
				var body map[string]any
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
				return resp.StatusCode, body
			}

			t.Run("rotation fails: RFC 6749 server_error, nothing written", func(t *testing.T) {
				tok := login(t, iss, secret, password)
				digest, _ := digestRefreshToken(tok.RefreshToken)
				before := count(t, plain.DB(), "mint_refresh_tokens")
				inj.arm(faultKillConn, nil)
				status, body := post("/oauth2/token", url.Values{"grant_type": {"refresh_token"},
					"client_id": {"app"}, "client_secret": {secret}, "refresh_token": {tok.RefreshToken}})
				assert.True(t, inj.fired.Load())
				assert.Equal(t, http.StatusInternalServerError, status)
				assert.Equal(t, "server_error", body["error"])
				old, err := plain.RefreshToken(context.Background(), digest)
				require.NoError(t, err)
				assert.True(t, old.Active(time.Now()))
				assert.Equal(t, before, count(t, plain.DB(), "mint_refresh_tokens"))
			})
			t.Run("client lookup fails: envelope 500000", func(t *testing.T) {
				inj.fired.Store(false)
				inj.arm(faultClientQuery, nil)
				status, body := post("/auth/token", url.Values{"grant_type": {"password"},
					"client_id": {"app"}, "client_secret": {secret}, "username": {"john"}, "password": {password}})
				assert.True(t, inj.fired.Load())
				assert.Equal(t, http.StatusInternalServerError, status)
				assert.EqualValues(t, mint.CodeServerError, body["code"])
				assert.NotContains(t, fmt.Sprint(body), errInjected.Error(), "the cause stays server-side")
			})
		})
	}
}
