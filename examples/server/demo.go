package main

import (
	"time"

	"github.com/mintauth/mint"
)

// The demo credentials, printed at start when no -config is given. They
// are the example values Horus, Eventhos, Django OAuth Toolkit and SocialID print.
const (
	// Horus silent password: a privileged client that mints user tokens by username.
	demoSilentClientID     = "bb145d5f"
	demoSilentClientSecret = "bb145d5fxyz"
	// Horus client credentials: a service acting for itself.
	demoHorusClientID     = "6f7503fc-2cc1-4cf1-b45c-e50f324bf8ca.library.apps"
	demoHorusClientSecret = "b3209806-42da-402d-92dc-ab2f3ef8608b"
	// Eventhos: an Eventhos client, numeric id.
	demoEventhosClientID     = "1"
	demoEventhosClientSecret = "eventhos-demo-secret"
	// Django OAuth Toolkit: a Django OAuth Toolkit style client.
	demoDjangoClientID     = "django-demo"
	demoDjangoClientSecret = "django-demo-secret"
	// SocialID: SocialID's Login App client.
	demoSocialClientID     = "138"
	demoSocialClientSecret = "e8b9ca24f1b590af67e6271297d6e1f7226625d61c5b5daa1b2f215464e292cf"
	// A general client for the standard endpoints (/oauth2/...).
	demoClientID     = "demo-client"
	demoClientSecret = "demo-client-secret"

	// Horus silent password's person, found by e-mail.
	demoSanviID       = "1"
	demoSanviUsername = "sanvi"
	demoSanviEmail    = "sanvi@828fligth.com"
	demoSanviPassword = "sanvi-demo-password"
	// Eventhos, Django OAuth Toolkit and SocialID's user.
	demoJohnID       = "7"
	demoJohnUsername = "john_doe"
	demoJohnEmail    = "john_doe@domain.com"
	demoJohnPassword = "john_doe_secret"
	// A user whose account is disabled: a right password is refused.
	demoMiaID       = "9"
	demoMiaUsername = "mia"
	demoMiaPassword = "mia-demo-password"
	// A resource the demo client may ask for (RFC 8707).
	demoResource = "https://api.example.com/"

	demoAudience = "demo-api"
)

// demoConfig returns the built-in configuration, with plaintext secrets,
// for the given issuer. It covers every dialect.
func demoConfig(issuer string) *Config {
	return &Config{
		Issuer:         issuer,
		Audience:       demoAudience,
		AccessTokenTTL: Duration(time.Hour),
		Clients: []ClientConfig{
			{
				ID: demoSilentClientID, Secret: demoSilentClientSecret,
				Name: "Horus silent-password client", Description: "Horus silent password: mints user tokens by username",
				Grants: []string{mint.GrantSilentPassword},
			},
			{
				ID: demoHorusClientID, Secret: demoHorusClientSecret,
				Name: "Library app", Description: "Horus client credentials: a service acting for itself",
				Grants: []string{mint.GrantClientCredentials},
			},
			{
				ID: demoEventhosClientID, Secret: demoEventhosClientSecret,
				Name: "Subject name", Description: "Subject description", Identifier: "clientIdentifier",
				Grants: []string{mint.GrantClientCredentials, mint.GrantPassword},
				Roles:  []int{1, 2},
			},
			{
				ID: demoDjangoClientID, Secret: demoDjangoClientSecret,
				Name: "Django OAuth Toolkit app", Description: "Django OAuth Toolkit style",
				Grants: []string{mint.GrantPassword, mint.GrantRefreshToken},
				Scopes: []string{"read", "write"},
			},
			{
				ID: demoSocialClientID, Secret: demoSocialClientSecret,
				Name: "SocialID Login App", Description: "SocialID",
				Grants:         []string{mint.GrantPassword, mint.GrantRefreshToken},
				AccessTokenTTL: Duration(604800 * time.Second),
			},
			{
				ID: demoClientID, Secret: demoClientSecret,
				Name: "Demo client", Description: "Standard OAuth 2.0 endpoints",
				Grants:    []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken},
				Scopes:    []string{"read", "write"},
				Resources: []string{demoResource},
				Claims:    map[string]any{"tenant_id": "acme"},
			},
		},
		Users: []UserConfig{
			{ID: demoSanviID, Username: demoSanviUsername, Email: demoSanviEmail, Password: demoSanviPassword, Roles: []int{1}},
			{ID: demoJohnID, Username: demoJohnUsername, Email: demoJohnEmail, Password: demoJohnPassword, Roles: []int{3},
				Claims: map[string]any{"department": "library"}},
			{ID: demoMiaID, Username: demoMiaUsername, Password: demoMiaPassword, Disabled: true},
		},
	}
}
