package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/mintauth/mint/verify"
)

var tokenInspectCommand = command{
	name:  "token inspect",
	args:  "TOKEN",
	nargs: 1,
	doc: "Prints the header and the claims of the JWT TOKEN, unverified. With -issuer, the token is first verified " +
		"through the issuer's discovery metadata and JWKS (signature, iss, aud, exp); a token that fails is an error.",
	setup: func(fs *flag.FlagSet) action {
		issuer := fs.String("issuer", "", "the issuer's URL: verify the token through its RFC 8414 metadata")
		audience := fs.String("audience", "", "with -issuer, the audience the token must name (default: the first of its own aud)")
		return func(ctx context.Context, e *env, args []string) error {
			header, claims, err := decodeJWT(args[0])
			if err != nil {
				return fmt.Errorf("token inspect: %w", err)
			}
			if *issuer != "" {
				aud := *audience
				if aud == "" {
					aud = firstAudience(claims)
				}
				v, err := verify.Discover(ctx, *issuer, aud)
				if err != nil {
					return fmt.Errorf("token inspect: %w", err)
				}
				if _, err := v.Verify(ctx, args[0]); err != nil {
					return fmt.Errorf("token inspect: not valid: %w", err)
				}
				fmt.Fprintf(e.stdout, "verified: issued by %s for %s\n", *issuer, aud)
			}
			fmt.Fprintf(e.stdout, "header:\n%s\nclaims:\n%s\n", header, claims)
			return nil
		}
	},
}

// decodeJWT returns the indented JSON header and claims of a compact JWS.
func decodeJWT(token string) (header, claims []byte, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("not a JWT: want 3 dot-separated parts, got %d", len(parts))
	}
	if header, err = indentPart(parts[0]); err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	if claims, err = indentPart(parts[1]); err != nil {
		return nil, nil, fmt.Errorf("claims: %w", err)
	}
	return header, claims, nil
}

// indentPart decodes one base64url part holding a JSON object and indents it.
func indentPart(part string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return nil, fmt.Errorf("not base64url: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// firstAudience returns the first aud of indented JSON claims, a string or
// an array (RFC 7519 section 4.1.3); empty when there is none.
func firstAudience(claims []byte) string {
	var c struct {
		Aud json.RawMessage `json:"aud"`
	}
	_ = json.Unmarshal(claims, &c)
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(c.Aud, &many) == nil && len(many) > 0 {
		return many[0]
	}
	return ""
}
