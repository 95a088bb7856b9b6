package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mintauth/mint"
)

// pruneEvery is how often the memory store drops expired refresh tokens
// and deny-list entries.
const pruneEvery = 10 * time.Minute

// openStore opens the store named by spec and puts the configured clients
// and users in it. It returns the store and a function that closes it.
//
//	memory   an in-memory store (the default): everything is lost on exit
func openStore(ctx context.Context, spec string, cfg *Config) (mint.Store, func() error, error) {
	switch spec {
	case "", "memory":
		s := mint.NewMemoryStore()
		for _, c := range cfg.MintClients() {
			s.PutClient(c)
		}
		for _, u := range cfg.MintUsers() {
			s.PutUser(u)
		}
		ctx, cancel := context.WithCancel(ctx)
		go prune(ctx, s)
		return s, func() error { cancel(); return nil }, nil
	}
	return nil, nil, fmt.Errorf("-store %q: unsupported: want memory", redactDSN(spec))
}

// prune drops expired records from s until ctx is done.
func prune(ctx context.Context, s *mint.MemoryStore) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.Prune(now)
		}
	}
}

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|[^\s&]+)`)

// redactDSN hides the password of a store spec, for errors and logs:
// URL userinfo (postgres://u:secret@host) and key=value (password=secret).
func redactDSN(spec string) string {
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		spec = u.Redacted()
	}
	if u, err := url.Parse(spec); err == nil && u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if strings.EqualFold(k, "password") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
		spec = u.String()
	}
	return dsnPassword.ReplaceAllString(spec, "${1}xxxxx")
}
