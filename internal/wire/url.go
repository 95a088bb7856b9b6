package wire

import (
	"errors"
	"net/url"
	"strings"
)

// The URL checks' errors. They quote nothing: the caller names the URL.
var (
	errNotAbsolute  = errors.New("not an absolute http(s) URL")
	errIssuerSuffix = errors.New("an issuer identifier has no query or fragment (RFC 8414 section 2)")
)

// CheckAbsoluteURL accepts an absolute http or https URL with a host and
// without a fragment, as RFC 8414 section 2 wants the endpoints of the
// metadata and RFC 7517 a JWKS location.
func CheckAbsoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return errNotAbsolute
	}
	return nil
}

// CheckIssuerURL applies RFC 8414 section 2 to an issuer identifier: an
// absolute URL with no query or fragment (http is tolerated for local
// development).
func CheckIssuerURL(issuer string) error {
	if err := CheckAbsoluteURL(issuer); err != nil {
		return err
	}
	if u, _ := url.Parse(issuer); u.RawQuery != "" || u.ForceQuery || strings.Contains(issuer, "#") {
		return errIssuerSuffix
	}
	return nil
}

// MetadataURL returns where RFC 8414 section 3.1 puts the metadata of an
// issuer: "/.well-known/oauth-authorization-server" inserted between the
// host and the path of the issuer URL, e.g. https://a.example/t1 gives
// https://a.example/.well-known/oauth-authorization-server/t1. The issuer
// must pass CheckIssuerURL.
func MetadataURL(issuer string) (string, error) {
	if err := CheckIssuerURL(issuer); err != nil {
		return "", err
	}
	u, _ := url.Parse(issuer)
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.EscapedPath(), "/"), nil
}
