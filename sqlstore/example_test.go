package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

	"github.com/mintauth/mint"
	"github.com/mintauth/mint/sqlstore"
)

// A host keeps its clients, refresh tokens and signing key in SQLite
// (PostgreSQL: sql.Open("pgx", dsn) and sqlstore.Postgres).
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "mint-example")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "mint.db")+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil { // idempotent; run it on every start
		log.Fatal(err)
	}
	secret, hash, _ := mint.GenerateSecret()
	if err := store.UpsertClient(ctx, &mint.Client{ID: "reports", SecretHash: hash,
		Grants: []string{mint.GrantClientCredentials}, Scopes: []string{"read"}}); err != nil {
		log.Fatal(err)
	}
	// The first start creates the key; later starts, and other replicas
	// on the same database, load it.
	keys, err := mint.LoadKeySet(ctx, store, mint.EdDSA, mint.KeyPolicy{PublishAhead: 5 * time.Minute, TokenLifetime: time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	issuer, err := mint.New(store, keys, mint.WithIssuer("https://auth.example.com"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := issuer.Token(ctx, &mint.TokenRequest{GrantType: mint.GrantClientCredentials,
		ClientID: "reports", ClientSecret: secret})
	if err != nil {
		log.Fatal(err)
	}
	again, _ := mint.LoadKeySet(ctx, store, mint.EdDSA, mint.KeyPolicy{PublishAhead: 5 * time.Minute, TokenLifetime: time.Hour})
	fmt.Println(tok.ScopeString(), again.Active().ID() == keys.Active().ID())
	// Output: read true
}
