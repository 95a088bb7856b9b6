// Package verify is the resource-server side of mint: it checks the
// access tokens (RFC 9068) an authorization server issued, against the
// issuer's keys in the same process (New), at a JWKS URL (NewRemote) or
// found through the issuer's RFC 8414 metadata (Discover), and protects
// HTTP handlers with RFC 6750 bearer middleware (Bearer, RequireScope,
// FromContext), which also takes DPoP-bound tokens with a proof of
// possession of their key (RFC 9449 section 7; VerifyDPoP,
// WithDPoPOrigin, WithDPoPNonce). It links neither the issuer side of
// mint nor any password hashing.
//
// A service that knows only its issuer's URL and its own audience:
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"log"
//		"net/http"
//
//		"github.com/mintauth/mint/verify"
//	)
//
//	func main() {
//		v, err := verify.Discover(context.Background(), "https://auth.example.com", "invoices-api")
//		if err != nil {
//			log.Fatal(err)
//		}
//		invoices := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			claims, _ := verify.FromContext(r.Context())
//			fmt.Fprintln(w, "invoices of", claims.Subject)
//		})
//		protect := verify.Bearer(v, "invoices")
//		http.Handle("GET /invoices", protect(verify.RequireScope("invoices:read")(invoices)))
//		log.Fatal(http.ListenAndServe("127.0.0.1:8081", nil))
//	}
package verify
