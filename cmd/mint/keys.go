package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mintauth/mint"
)

// rotateAlgs are the algorithms keys rotate makes keys for: asymmetric
// ones, whose public half the servers publish.
var rotateAlgs = []string{mint.EdDSA, mint.ES256, mint.RS256, mint.PS256}

// defaultPublishAhead is the reference server's default key_publish_ahead.
const defaultPublishAhead = 5 * time.Minute

var migrateCommand = command{
	name:  "migrate",
	doc:   "Creates the store's tables, or upgrades them; running it again changes nothing.",
	store: true,
	setup: func(*flag.FlagSet) action {
		return func(ctx context.Context, e *env, _ []string) error {
			if err := e.store.Migrate(ctx); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "migrated")
			return nil
		}
	},
}

var hashCommand = command{
	name: "hash",
	doc:  "Reads a secret or password from standard input (up to the first newline) and prints its argon2id hash.",
	setup: func(*flag.FlagSet) action {
		return func(_ context.Context, e *env, _ []string) error {
			secret, err := readSecret(e.stdin)
			if err != nil {
				return err
			}
			hash, err := mint.HashPassword(secret)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, hash)
			return nil
		}
	},
}

// readSecret reads one line from r, without its line ending; an empty
// secret is an error.
func readSecret(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("nothing on standard input: give the secret there")
	}
	return line, nil
}

var keysListCommand = command{
	name:  "keys list",
	doc:   "Lists the signing keys, highest version first: version, kid, algorithm, when it was added, when it signs from, and when it was retired.",
	store: true,
	setup: func(fs *flag.FlagSet) action {
		ahead := fs.Duration("publish-ahead", defaultPublishAhead, "the servers' key_publish_ahead: a key signs that long after it was added")
		return func(ctx context.Context, e *env, _ []string) error {
			keys, err := e.store.SigningKeys(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tKID\tALG\tADDED\tSIGNS FROM\tRETIRED")
			for _, k := range keys {
				retired := "-"
				if !k.RetiredAt.IsZero() {
					retired = k.RetiredAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", k.Version, k.ID, k.Algorithm,
					k.CreatedAt.UTC().Format(time.RFC3339), k.CreatedAt.Add(*ahead).UTC().Format(time.RFC3339), retired)
			}
			return w.Flush()
		}
	},
}

var keysRotateCommand = command{
	name: "keys rotate",
	doc: "Adds a signing key, the next version: servers publish it at their next key sync and sign with it " +
		"once their key_publish_ahead has passed. Prints its kid as the last line.",
	store: true,
	setup: func(fs *flag.FlagSet) action {
		alg := fs.String("alg", mint.EdDSA, "the key's algorithm: EdDSA, ES256, RS256 or PS256")
		return func(ctx context.Context, e *env, _ []string) error {
			keys, err := e.store.SigningKeys(ctx)
			if err != nil {
				return err
			}
			var version int64 = 1
			if len(keys) > 0 {
				version = keys[0].Version + 1
			}
			if !slices.Contains(rotateAlgs, *alg) {
				return usagef("keys rotate: -alg %s: want one of %s (a key the servers can publish in their JWKS)", *alg, strings.Join(rotateAlgs, ", "))
			}
			key, err := mint.GenerateKey(*alg)
			if err != nil {
				return err
			}
			sk, err := key.Stored(version, time.Now().UTC())
			if err != nil {
				return err
			}
			added, err := e.store.AddSigningKey(ctx, sk)
			switch {
			case err != nil:
				return err
			case !added:
				return fmt.Errorf("key version %d was added meanwhile by someone else: run keys rotate again if another key is still wanted", version)
			}
			fmt.Fprintf(e.stdout, "added key version %d (%s)\n%s\n", version, *alg, key.ID())
			return nil
		}
	},
}

var keysRetireCommand = command{
	name:  "keys retire",
	args:  "KID",
	nargs: 1,
	doc: "Stops the key KID signing; servers keep publishing it until every token it signed has expired. " +
		"Retiring the only key that can sign is an error.",
	store: true,
	setup: func(fs *flag.FlagSet) action {
		ahead := fs.Duration("publish-ahead", defaultPublishAhead, "the servers' key_publish_ahead: only a key added that long ago can sign in place of KID")
		return func(ctx context.Context, e *env, args []string) error {
			err := mint.RetireKey(ctx, e.store, args[0], mint.KeyPolicy{PublishAhead: *ahead})
			if errors.Is(err, mint.ErrNotFound) {
				return fmt.Errorf("keys retire: no key has kid %q (see mint keys list)", args[0])
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "retired key %s\n", args[0])
			return nil
		}
	},
}
