package mint_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// nilStore is a buggy host store: its lookups return neither a value nor
// an error.
type nilStore struct {
	*mint.MemoryStore
	client, user, token bool
}

func (s nilStore) Client(ctx context.Context, id string) (*mint.Client, error) {
	if s.client {
		return nil, nil
	}
	return s.MemoryStore.Client(ctx, id)
}

func (s nilStore) UserByUsername(ctx context.Context, name string) (*mint.User, error) {
	if s.user {
		return nil, nil
	}
	return s.MemoryStore.UserByUsername(ctx, name)
}

func (s nilStore) User(ctx context.Context, id string) (*mint.User, error) {
	if s.user {
		return nil, nil
	}
	return s.MemoryStore.User(ctx, id)
}

func (s nilStore) RefreshToken(ctx context.Context, digest string) (*mint.RefreshToken, error) {
	if s.token {
		return nil, nil
	}
	return s.MemoryStore.RefreshToken(ctx, digest)
}

func TestStoreReturningNilNilIsNotFound(t *testing.T) {
	f := newFixture(t)
	login, err := f.token(t, password("app"))
	require.NoError(t, err)
	tests := []struct {
		name  string
		store nilStore
		req   *mint.TokenRequest
		want  error
	}{
		{"client", nilStore{MemoryStore: f.store, client: true}, password("app"), mint.KindClientNotFound},
		{"user", nilStore{MemoryStore: f.store, user: true}, password("app"), mint.KindUserNotFound},
		{"refresh token", nilStore{MemoryStore: f.store, token: true}, refresh(login.RefreshToken, nil), mint.KindInvalidRefreshToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, err := mint.New(tt.store, f.keys, mint.WithHasher(fastHasher))
			require.NoError(t, err)
			assert.NotPanics(t, func() {
				_, err = iss.Token(context.Background(), tt.req)
			})
			assert.ErrorIs(t, err, tt.want)
		})
	}
}
