package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mintauth/mint"
)

// list splits a comma-separated flag value; empty: none.
func list(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

var clientsAddCommand = command{
	name:  "clients add",
	args:  "ID",
	nargs: 1,
	doc: "Adds the client ID with a generated 256-bit secret, printed once, alone on the last line of standard output; " +
		"only its digest is stored. An existing client ID is an error.",
	store: true,
	setup: func(fs *flag.FlagSet) action {
		grants := fs.String("grants", "", "comma-separated grant types the client may use, e.g. client_credentials,refresh_token")
		scopes := fs.String("scopes", "", "comma-separated scopes the client may be granted")
		name := fs.String("name", "", "the client's display name")
		return func(ctx context.Context, e *env, args []string) error {
			id := args[0]
			if _, err := e.store.Client(ctx, id); err == nil {
				return fmt.Errorf("clients add: client %q already exists (rotate its secret with clients rotate-secret)", id)
			} else if !errors.Is(err, mint.ErrNotFound) {
				return err
			}
			secret, hash, err := mint.GenerateSecret()
			if err != nil {
				return err
			}
			c := &mint.Client{ID: id, SecretHash: hash, Name: *name, Grants: list(*grants), Scopes: list(*scopes)}
			if err := e.store.UpsertClient(ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added client %s; its secret, shown only now:\n%s\n", id, secret)
			return nil
		}
	},
}

var clientsListCommand = command{
	name:  "clients list",
	doc:   "Lists the clients: id, name, grants, scopes and how many secrets work now. No secret or digest is shown.",
	store: true,
	setup: func(*flag.FlagSet) action {
		return func(ctx context.Context, e *env, _ []string) error {
			ids, err := e.store.ClientIDs(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tGRANTS\tSCOPES\tSECRETS")
			now := time.Now()
			for _, id := range ids {
				c, err := e.store.Client(ctx, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", c.ID, dash(c.Name), dash(strings.Join(c.Grants, ",")),
					dash(strings.Join(c.Scopes, ",")), liveSecrets(c, now))
			}
			return w.Flush()
		}
	},
}

// dash returns v, or "-" for an empty column.
func dash(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

// liveSecrets counts the client's secrets that work at now.
func liveSecrets(c *mint.Client, now time.Time) int {
	n := 0
	if c.SecretHash != "" {
		n++
	}
	for _, s := range c.Secrets {
		if !s.Expired(now) {
			n++
		}
	}
	return n
}

var clientsRemoveCommand = command{
	name:  "clients remove",
	args:  "ID",
	nargs: 1,
	doc:   "Removes the client ID: its secrets stop working. Tokens already issued are not revoked: use mint revoke -client ID first.",
	store: true,
	setup: func(*flag.FlagSet) action {
		return func(ctx context.Context, e *env, args []string) error {
			if err := e.store.DeleteClient(ctx, args[0]); errors.Is(err, mint.ErrNotFound) {
				return fmt.Errorf("clients remove: no client %q", args[0])
			} else if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "removed client %s\n", args[0])
			return nil
		}
	},
}

var clientsRotateSecretCommand = command{
	name:  "clients rotate-secret",
	args:  "ID",
	nargs: 1,
	doc: "Gives the client ID a new generated secret, printed once, alone on the last line of standard output. " +
		"Its current secrets keep working until -keep-old has passed; expired ones are dropped.",
	store: true,
	setup: func(fs *flag.FlagSet) action {
		keep := fs.Duration("keep-old", 24*time.Hour, "how long the current secrets keep working; 0: they stop at once")
		return func(ctx context.Context, e *env, args []string) error {
			if *keep < 0 {
				return usagef("clients rotate-secret: -keep-old must not be negative")
			}
			c, err := e.store.Client(ctx, args[0])
			if errors.Is(err, mint.ErrNotFound) {
				return fmt.Errorf("clients rotate-secret: no client %q", args[0])
			} else if err != nil {
				return err
			}
			secret, hash, err := mint.GenerateSecret()
			if err != nil {
				return err
			}
			c.Secrets = keptSecrets(c, time.Now().Add(*keep).UTC())
			c.SecretHash = hash
			if err := e.store.UpsertClient(ctx, c); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "rotated the secret of client %s; the new one, shown only now:\n%s\n", c.ID, secret)
			return nil
		}
	},
}

// keptSecrets returns the client's current secrets, each expiring at
// until at the latest; expired ones are left out.
func keptSecrets(c *mint.Client, until time.Time) []mint.Secret {
	now := time.Now()
	var kept []mint.Secret
	if c.SecretHash != "" {
		kept = append(kept, mint.Secret{Hash: c.SecretHash, ExpiresAt: until})
	}
	for _, s := range c.Secrets {
		if s.Expired(now) {
			continue
		}
		if s.ExpiresAt.IsZero() || s.ExpiresAt.After(until) {
			s.ExpiresAt = until
		}
		kept = append(kept, s)
	}
	return kept
}
