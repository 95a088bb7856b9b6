package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/mintauth/mint"
)

var usersAddCommand = command{
	name:  "users add",
	args:  "ID",
	nargs: 1,
	doc: "Adds the user ID. The password is read from standard input (up to the first newline), never from a flag, " +
		"and stored as its argon2id hash. An existing user ID is an error.",
	store: true,
	setup: func(fs *flag.FlagSet) action {
		username := fs.String("username", "", "the user's login name (required)")
		email := fs.String("email", "", "the user's e-mail address, another login name")
		return func(ctx context.Context, e *env, args []string) error {
			if *username == "" {
				return usagef("users add: -username is required")
			}
			id := args[0]
			if _, err := e.store.User(ctx, id); err == nil {
				return fmt.Errorf("users add: user %q already exists", id)
			} else if !errors.Is(err, mint.ErrNotFound) {
				return err
			}
			password, err := readSecret(e.stdin)
			if err != nil {
				return fmt.Errorf("users add: %w", err)
			}
			hash, err := mint.HashPassword(password)
			if err != nil {
				return err
			}
			if err := e.store.UpsertUser(ctx, &mint.User{ID: id, Username: *username, Email: *email, PasswordHash: hash}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added user %s (%s)\n", id, *username)
			return nil
		}
	},
}

var usersDisableCommand = usersSetDisabled("disable", true,
	"Disables the user ID: the servers refuse the user's logins, even with the right password, "+
		"and the user's refresh tokens, from their next request on. Nothing is revoked: mint users enable undoes it.")

var usersEnableCommand = usersSetDisabled("enable", false,
	"Enables the user ID again: logins and the refresh tokens the user still holds work again.")

// usersSetDisabled is the command users disable or users enable: it sets
// the user's Disabled, and fails for an unknown user, changing nothing.
func usersSetDisabled(verb string, disabled bool, doc string) command {
	return command{
		name:  "users " + verb,
		args:  "ID",
		nargs: 1,
		doc:   doc,
		store: true,
		setup: func(*flag.FlagSet) action {
			return func(ctx context.Context, e *env, args []string) error {
				id := args[0]
				if err := e.store.SetUserDisabled(ctx, id, disabled); errors.Is(err, mint.ErrNotFound) {
					return fmt.Errorf("users %s: no user %q", verb, id)
				} else if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%sd user %s\n", verb, id)
				return nil
			}
		},
	}
}

var revokeCommand = command{
	name: "revoke",
	doc: "Revokes everything of a user (-user ID) or of a client (-client ID, its users' tokens too): " +
		"every refresh token ends, and every access token issued until now is refused by introspection.",
	store: true,
	setup: func(fs *flag.FlagSet) action {
		user := fs.String("user", "", "the id of the user to revoke")
		client := fs.String("client", "", "the id of the client to revoke")
		return func(ctx context.Context, e *env, _ []string) error {
			if (*user == "") == (*client == "") {
				return usagef("revoke: give exactly one of -user ID and -client ID")
			}
			now := time.Now()
			if *user != "" {
				if _, err := e.store.User(ctx, *user); errors.Is(err, mint.ErrNotFound) {
					return fmt.Errorf("revoke: no user %q", *user)
				} else if err != nil {
					return err
				}
				if err := e.store.RevokeUser(ctx, *user, now); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "revoked everything of user %s\n", *user)
				return nil
			}
			if _, err := e.store.Client(ctx, *client); errors.Is(err, mint.ErrNotFound) {
				return fmt.Errorf("revoke: no client %q", *client)
			} else if err != nil {
				return err
			}
			if err := e.store.RevokeClient(ctx, *client, now); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "revoked everything of client %s\n", *client)
			return nil
		}
	},
}
