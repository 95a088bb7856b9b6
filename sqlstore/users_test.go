package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mintauth/mint"
)

// SetUserDisabled flips User.Disabled of a stored user and nothing else;
// an unknown user is ErrNotFound and adds no row.
func TestSetUserDisabled(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			u := &mint.User{ID: "7", Username: "john_doe", Email: "john_doe@domain.com", PasswordHash: "h", Roles: []int{3}}
			require.NoError(t, s.UpsertUser(ctx, u))
			for _, step := range []struct {
				name     string
				disabled bool
			}{
				{"disable", true},
				{"disable twice", true},
				{"enable", false},
				{"enable twice", false},
			} {
				require.NoError(t, s.SetUserDisabled(ctx, "7", step.disabled), step.name)
				got, err := s.UserByUsername(ctx, "john_doe")
				require.NoError(t, err, step.name)
				want := *u
				want.Disabled = step.disabled
				assert.Equal(t, &want, got, step.name)
			}
			for _, id := range []string{"8", "", "bad\x00id", "\xff"} {
				assert.ErrorIs(t, s.SetUserDisabled(ctx, id, true), mint.ErrNotFound, "%q", id)
			}
			assert.Equal(t, 1, count(t, s.DB(), "mint_users"), "an unknown user is not added")
		})
	}
}

// Upgrading a database whose users predate the disabled column leaves
// every one of them enabled.
func TestUsersStayEnabledThroughTheUpgrade(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			s := newStore(t, e)
			db := s.DB()
			// Back to the schema before the column: drop it and forget its migration.
			_, err := db.ExecContext(ctx, "ALTER TABLE mint_users DROP COLUMN disabled")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "DELETE FROM mint_schema_migrations WHERE version = 7")
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, `INSERT INTO mint_users (id, username, email, email_key, password_hash, roles)
VALUES ('7', 'john_doe', NULL, NULL, 'h', '[]')`)
			require.NoError(t, err)

			require.NoError(t, s.Migrate(ctx))
			got, err := s.User(ctx, "7")
			require.NoError(t, err)
			assert.False(t, got.Disabled)
			require.NoError(t, s.SetUserDisabled(ctx, "7", true))
			got, err = s.User(ctx, "7")
			require.NoError(t, err)
			assert.True(t, got.Disabled)
		})
	}
}
