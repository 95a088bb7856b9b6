// Command server is mint's reference server: the token endpoints of Horus,
// Eventhos, Django OAuth Toolkit and SocialID at their own paths, the
// standard OAuth 2.0 token endpoint,
// introspection (RFC 7662), revocation (RFC 7009), authorization-server
// metadata (RFC 8414), the public signing keys (RFC 7517) and a demo
// resource, GET /api/me, behind the bearer middleware (RFC 6750), which
// also takes DPoP-bound tokens with a proof whose htu is under the
// issuer's URL (RFC 9449).
//
//	go run ./examples/server                                    # built-in demo configuration
//	go run ./examples/server -config examples/server/config.example.json
//	go run ./examples/server -addr 0.0.0.0:9000                 # listen elsewhere
//	go run ./examples/server -store sqlite:mint.db              # a SQLite file
//	go run ./examples/server -store postgres://postgres@127.0.0.1/mint
//
// Without -config the server runs a demo configuration that covers every
// dialect and prints its credentials and ready-to-paste curl commands for
// every mounted endpoint. The configuration file is JSON:
//
//	{
//	  "issuer": "http://127.0.0.1:8080",
//	  "audience": "demo-api",
//	  "access_token_ttl": "1h",
//	  "refresh_grace_period": "0s",
//	  "clients": [
//	    {"id": "bb145d5f", "secret": "bb145d5fxyz", "name": "Library app",
//	     "description": "Back office", "identifier": "library",
//	     "grants": ["client_credentials", "password", "refresh_token", "silent_password"],
//	     "scopes": ["read", "write"], "roles": [1, 2], "access_token_ttl": "604800s"}
//	  ],
//	  "users": [
//	    {"id": "7", "username": "john_doe", "email": "john_doe@domain.com",
//	     "password": "john_doe_secret", "roles": [3]}
//	  ],
//	  "key_publish_ahead": "5m",
//	  "key_sync_interval": "30s"
//	}
//
// Unknown fields are rejected. "secret" and "password" may be given
// already hashed as "secret_hash" and "password_hash" (mint.HashPassword's
// argon2id, bcrypt, or mint.GenerateSecret's $sha256$); plaintexts are
// hashed with argon2id at load and never kept. A client's "secrets", a
// list of {"secret" or "secret_hash", "expires": RFC 3339}, adds secrets
// that stop working at their expiry (none: never), beside or instead of
// "secret", so that a secret rotates without downtime.
// "refresh_grace_period" (default "0s", at most "1m") lets a client whose
// refresh answer was lost, say to a server that died after the rotation
// committed, present its previous refresh token again within that time and
// get a new pair; at "0s" rotation is strict and that retry revokes the
// token family, so the client must log in again. The issuer is used byte for
// byte as every token's `iss`; it never comes from a request's Host header.
// Tokens are signed with an EdDSA key: generated at start with the memory
// store (tokens do not survive a restart), kept in the database with a SQL
// store, so that several servers on one database verify each other's
// tokens. Those servers re-read the keys every "key_sync_interval"
// (default 30s) and publish a key added to the database for
// "key_publish_ahead" (default 5m) before signing with it, and a key
// retired in the database for the longest "access_token_ttl" after; the
// server refuses a config where key_publish_ahead does not exceed
// key_sync_interval.
//
// The server logs one line per request to stderr (method, path, status,
// duration; never a query string, header or body). Its http.Server limits
// are: 5 s to read the request headers, 10 s to read the whole request,
// 15 s to write the answer, 60 s for an idle keep-alive connection, 16 KiB
// of request headers (token handlers cap bodies at 64 KiB). On SIGINT or
// SIGTERM it stops accepting connections, lets requests in flight finish
// for up to 10 s, then exits.
package main
