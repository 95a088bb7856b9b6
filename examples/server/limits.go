package main

import "time"

// serverLimits overrides the http.Server timeouts of main.go's constants;
// a zero field keeps the constant. Tests shorten them to show a slow
// client being cut off (hardening_test.go).
type serverLimits struct {
	readHeader, read, write, idle time.Duration
}

// resolved returns l with every zero field set to its constant.
func (l serverLimits) resolved() serverLimits {
	pick := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return serverLimits{
		readHeader: pick(l.readHeader, readHeaderTimeout),
		read:       pick(l.read, readTimeout),
		write:      pick(l.write, writeTimeout),
		idle:       pick(l.idle, idleTimeout),
	}
}
