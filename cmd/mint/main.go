// Command mint administers a mint SQL store: the schema, the signing
// keys, clients, users and revocations, and inspects tokens.
//
//	mint -store sqlite:/var/lib/mint.db migrate
//	mint keys rotate -store postgres://mint@db/mint
//	MINT_STORE=sqlite:mint.db mint clients add svc -grants client_credentials -scopes read
//
// The store is named by -store (sqlite:PATH or a postgres:// DSN), before
// the command or after it, or by the MINT_STORE environment variable.
// The exit status is 0 on success, 1 on failure and 2 on a usage error;
// messages go to standard error. Run mint help for every command and
// flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/mintauth/mint/sqlstore"
)

// storeEnv names the environment variable that holds the default -store.
const storeEnv = "MINT_STORE"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// env is what a command works with: its standard streams and, for a
// command that needs one, the opened store.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	store          *sqlstore.Store
}

// action runs a command on its positional arguments, its flags having
// been parsed.
type action func(ctx context.Context, e *env, args []string) error

// command is one mint command.
type command struct {
	// name is the command as typed: "migrate", "keys rotate".
	name string
	// args names the positional arguments in the usage line.
	args string
	// nargs is the number of positional arguments required.
	nargs int
	// doc says what the command does.
	doc string
	// store is whether the command works on a store, and so takes -store.
	store bool
	// setup defines the command's own flags on fs and returns its action.
	setup func(fs *flag.FlagSet) action
}

// commands lists every command, in the order mint help shows them.
var commands = []command{
	migrateCommand, keysListCommand, keysRotateCommand, keysRetireCommand,
	clientsAddCommand, clientsListCommand, clientsRemoveCommand, clientsRotateSecretCommand,
	usersAddCommand, usersDisableCommand, usersEnableCommand, revokeCommand, hashCommand, tokenInspectCommand,
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usageError.
func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	err := dispatch(ctx, e, args)
	var usage *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "mint: %s\nRun mint help for usage.\n", err)
		return 2
	}
	// The library's errors begin with "mint: " already.
	fmt.Fprintf(stderr, "mint: %s\n", strings.TrimPrefix(err.Error(), "mint: "))
	return 1
}

// dispatch parses the global flags, finds the command and runs it.
func dispatch(ctx context.Context, e *env, args []string) error {
	global := flag.NewFlagSet("mint", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	store := global.String("store", os.Getenv(storeEnv), "")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help(e.stdout)
			return err
		}
		return usagef("%s", err)
	}
	rest := global.Args()
	if len(rest) == 0 {
		return usagef("no command")
	}
	if rest[0] == "help" {
		help(e.stdout)
		return nil
	}
	c, n := lookup(rest)
	if c == nil {
		return unknown(e, rest)
	}
	return c.exec(ctx, e, *store, rest[n:])
}

// unknown answers a command line that names no command: the
// subcommands of a group (mint keys -h, mint keys), else a usage error.
func unknown(e *env, words []string) error {
	var subs []string
	for _, c := range commands {
		if sub, ok := strings.CutPrefix(c.name, words[0]+" "); ok {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		return usagef("unknown command %q", words[0])
	}
	if len(words) > 1 && slices.Contains([]string{"-h", "-help", "--help"}, words[1]) {
		fmt.Fprintf(e.stdout, "usage: mint %s {%s} ...\nRun mint %s SUBCOMMAND -h for one of them.\n",
			words[0], strings.Join(subs, "|"), words[0])
		return nil
	}
	return usagef("%s: want a subcommand: %s", words[0], strings.Join(subs, ", "))
}

// lookup finds the command that words begins with, and how many words
// name it.
func lookup(words []string) (*command, int) {
	for i := range commands {
		n := strings.Count(commands[i].name, " ") + 1
		if len(words) >= n && strings.Join(words[:n], " ") == commands[i].name {
			return &commands[i], n
		}
	}
	return nil, 0
}

// flags returns the command's flag set, with -store when it takes one,
// and its action.
func (c *command) flags() (*flag.FlagSet, *string, action) {
	fs := flag.NewFlagSet("mint "+c.name, flag.ContinueOnError)
	var spec *string
	if c.store {
		spec = fs.String("store", "", "the store: sqlite:PATH or a postgres:// DSN (default: the -store before the command, else $"+storeEnv+")")
	}
	return fs, spec, c.setup(fs)
}

// exec parses the command's flags and arguments, opens its store and runs
// it.
func (c *command) exec(ctx context.Context, e *env, store string, args []string) error {
	fs, spec, act := c.flags()
	fs.SetOutput(e.stderr)
	fs.Usage = func() { c.usage(fs, e.stderr) }
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stdout)
			c.usage(fs, e.stdout)
			return err
		}
		return usagef("%s: %s", c.name, err)
	}
	if len(pos) != c.nargs {
		return usagef("%s: want %d argument(s) %s, got %d", c.name, c.nargs, c.args, len(pos))
	}
	if spec != nil {
		if *spec == "" {
			*spec = store
		}
		if *spec == "" {
			return usagef("%s: no store: give -store sqlite:PATH or -store postgres://..., or set %s", c.name, storeEnv)
		}
		s, closeStore, err := openStore(ctx, *spec, c.name == "migrate")
		if err != nil {
			return err
		}
		defer closeStore()
		e.store = s
	}
	return act(ctx, e, pos)
}

// parseInterspersed parses fs from args, allowing flags after positional
// arguments (mint keys retire KID -store ...), and returns the positional
// arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// usage writes the command's usage line, doc and flags to w.
func (c *command) usage(fs *flag.FlagSet, w io.Writer) {
	line := "mint " + c.name
	if hasFlags(fs) {
		line += " [flags]"
	}
	if c.args != "" {
		line += " " + c.args
	}
	fmt.Fprintf(w, "usage: %s\n\n%s\n", line, c.doc)
	if hasFlags(fs) {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// hasFlags reports whether fs defines any flag.
func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// help writes every command with its flags to w.
func help(w io.Writer) {
	fmt.Fprintf(w, `mint administers a mint SQL store and inspects tokens.

usage: mint [-store SPEC] COMMAND [flags] [arguments]

-store is sqlite:PATH or a postgres:// DSN; it may also come after the
command, or from $%s. Exit status: 0 success, 1 failure, 2 usage error.
Run mint COMMAND -h for one command.
`, storeEnv)
	for i := range commands {
		fmt.Fprintln(w, "\n---")
		fs, _, _ := commands[i].flags()
		commands[i].usage(fs, w)
	}
}
