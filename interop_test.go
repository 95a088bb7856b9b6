package mint_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// A real client, golang.org/x/oauth2, against the mounted endpoints.

func TestInteropClientCredentials(t *testing.T) {
	s := newDialectServer(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.srv.Client())
	styles := []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"in header", oauth2.AuthStyleInHeader},
		{"in params", oauth2.AuthStyleInParams},
		{"auto-detect", oauth2.AuthStyleAutoDetect},
	}
	for _, st := range styles {
		t.Run(st.name, func(t *testing.T) {
			// The odd client's id and secret hold '-', ' ', '%' and '+'.
			cfg := clientcredentials.Config{ClientID: oddID, ClientSecret: oddSecret,
				TokenURL: s.srv.URL + pathOAuth, AuthStyle: st.style, Scopes: []string{"read"}}
			tok, err := cfg.Token(ctx)
			require.NoError(t, err)
			assert.Equal(t, "Bearer", tok.Type())
			assert.Equal(t, "read", tok.Extra("scope"))
			assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
			assert.Empty(t, tok.RefreshToken)
			assert.Equal(t, oddID, s.parse(t, tok.AccessToken)["sub"])

			cfg.ClientSecret = "wrong"
			_, err = cfg.Token(ctx)
			var re *oauth2.RetrieveError
			require.True(t, errors.As(err, &re), "%v", err)
			assert.Equal(t, http.StatusUnauthorized, re.Response.StatusCode)
			assert.Equal(t, "invalid_client", re.ErrorCode)
		})
	}
}

func TestInteropPasswordAndRefresh(t *testing.T) {
	s := newDialectServer(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.srv.Client())
	for _, st := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := oauth2.Config{ClientID: "app", ClientSecret: appSecret,
			Endpoint: oauth2.Endpoint{TokenURL: s.srv.URL + pathDjango, AuthStyle: st}}
		tok, err := cfg.PasswordCredentialsToken(ctx, "john_doe", johnPass)
		require.NoError(t, err)
		assert.Equal(t, "Bearer", tok.Type())
		assert.NotEmpty(t, tok.RefreshToken)
		assert.Equal(t, "read write", tok.Extra("scope"))
		assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
		assert.Equal(t, "7", s.parse(t, tok.AccessToken)["sub"])

		// Hand the client an expired token: its TokenSource refreshes it.
		expired := &oauth2.Token{AccessToken: "stale", RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
		fresh, err := cfg.TokenSource(ctx, expired).Token()
		require.NoError(t, err)
		assert.NotEqual(t, "stale", fresh.AccessToken)
		assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "rotated")
		assert.True(t, fresh.Valid())
		assert.Equal(t, "7", s.parse(t, fresh.AccessToken)["sub"])

		_, err = cfg.PasswordCredentialsToken(ctx, "john_doe", "wrong")
		var re *oauth2.RetrieveError
		require.True(t, errors.As(err, &re), "%v", err)
		assert.Equal(t, "invalid_grant", re.ErrorCode)
		assert.Equal(t, "Invalid credentials given.", re.ErrorDescription)
	}
}

func TestInteropSocialID(t *testing.T) {
	s := newDialectServer(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.srv.Client())
	cfg := oauth2.Config{ClientID: "138", ClientSecret: appSecret,
		Endpoint: oauth2.Endpoint{TokenURL: s.srv.URL + pathSocialID, AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := cfg.PasswordCredentialsToken(ctx, "john_doe", johnPass)
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.Type(), "x/oauth2 reads bearer as Bearer")
	assert.WithinDuration(t, time.Now().Add(604800*time.Second), tok.Expiry, time.Minute)
	assert.NotEmpty(t, tok.RefreshToken)
}
