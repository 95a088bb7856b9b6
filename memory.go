package mint

import (
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps everything in memory, safe for
// concurrent use. It is meant for tests, demos and single-process hosts:
// everything is lost on restart. Lookups of users by username and e-mail
// are exact (case-sensitive).
//
// Besides Store it implements AccessTokenDenyList, PasswordRehasher and
// SecretRehasher.
type MemoryStore struct {
	mu        sync.RWMutex
	clients   map[string]*Client
	usernames map[string]*User
	emails    map[string]*User
	tokens    map[string]*RefreshToken
	revoked   map[string]bool // families revoked as a whole
	denied    map[string]time.Time
	users     map[string]*User
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		clients:   map[string]*Client{},
		usernames: map[string]*User{},
		emails:    map[string]*User{},
		tokens:    map[string]*RefreshToken{},
		revoked:   map[string]bool{},
		denied:    map[string]time.Time{},
		users:     map[string]*User{},
	}
}

// PutClient adds or replaces a client. The store keeps its own copy.
func (s *MemoryStore) PutClient(c *Client) {
	cp := cloneClient(c)
	s.mu.Lock()
	s.clients[c.ID] = cp
	s.mu.Unlock()
}

// PutUser adds or replaces a user, indexed by username and by e-mail.
func (s *MemoryStore) PutUser(u *User) {
	cp := *u
	cp.Roles = slices.Clone(u.Roles)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.users[u.ID]; ok {
		delete(s.usernames, old.Username)
		delete(s.emails, old.Email)
	}
	s.users[cp.ID] = &cp
	if cp.Username != "" {
		s.usernames[cp.Username] = &cp
	}
	if cp.Email != "" {
		s.emails[cp.Email] = &cp
	}
}

// Client implements ClientStore.
func (s *MemoryStore) Client(_ context.Context, id string) (*Client, error) {
	s.mu.RLock()
	c, ok := s.clients[id]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	return c, nil
}

// User implements UserStore.
func (s *MemoryStore) User(_ context.Context, id string) (*User, error) {
	return s.user(s.users, id)
}

// UserByUsername implements UserStore.
func (s *MemoryStore) UserByUsername(_ context.Context, username string) (*User, error) {
	return s.user(s.usernames, username)
}

// UserByEmail implements UserStore.
func (s *MemoryStore) UserByEmail(_ context.Context, email string) (*User, error) {
	return s.user(s.emails, email)
}

func (s *MemoryStore) user(index map[string]*User, key string) (*User, error) {
	s.mu.RLock()
	u, ok := index[key]
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNotFound
	}
	cp := *u
	return &cp, nil
}

// SaveRefreshToken implements RefreshTokenStore.
func (s *MemoryStore) SaveRefreshToken(_ context.Context, t *RefreshToken) error {
	cp := cloneToken(t)
	s.mu.Lock()
	s.tokens[t.Digest] = cp
	s.mu.Unlock()
	return nil
}

// RefreshToken implements RefreshTokenStore.
func (s *MemoryStore) RefreshToken(_ context.Context, digest string) (*RefreshToken, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tokens[digest]
	if !ok {
		return nil, ErrNotFound
	}
	cp := cloneToken(t)
	cp.Revoked = cp.Revoked || s.revoked[t.Family]
	return cp, nil
}

// RotateRefreshToken implements RefreshTokenStore.
func (s *MemoryStore) RotateRefreshToken(_ context.Context, old string, next *RefreshToken) error {
	cp := cloneToken(next)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[old]
	if !ok {
		return ErrNotFound
	}
	if t.Revoked || s.revoked[t.Family] || !t.UsedAt.IsZero() {
		return ErrTokenUsed
	}
	t.UsedAt = next.IssuedAt
	t.Next = next.Digest
	s.tokens[next.Digest] = cp
	return nil
}

// RevokeRefreshFamily implements RefreshTokenStore: one map write marks
// every token of the family revoked.
func (s *MemoryStore) RevokeRefreshFamily(_ context.Context, family string) error {
	s.mu.Lock()
	s.revoked[family] = true
	s.mu.Unlock()
	return nil
}

// DenyAccessToken implements AccessTokenDenyList.
func (s *MemoryStore) DenyAccessToken(_ context.Context, jti string, until time.Time) error {
	s.mu.Lock()
	s.denied[jti] = until
	s.mu.Unlock()
	return nil
}

// AccessTokenDenied implements AccessTokenDenyList.
func (s *MemoryStore) AccessTokenDenied(_ context.Context, jti string) (bool, error) {
	s.mu.RLock()
	_, ok := s.denied[jti]
	s.mu.RUnlock()
	return ok, nil
}

// UpdatePasswordHash implements PasswordRehasher.
func (s *MemoryStore) UpdatePasswordHash(_ context.Context, userID, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return ErrNotFound
	}
	cp := *u
	cp.PasswordHash = hash
	s.users[userID] = &cp
	if cp.Username != "" {
		s.usernames[cp.Username] = &cp
	}
	if cp.Email != "" {
		s.emails[cp.Email] = &cp
	}
	return nil
}

// UpdateSecretHash implements SecretRehasher.
func (s *MemoryStore) UpdateSecretHash(_ context.Context, clientID, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return ErrNotFound
	}
	cp := cloneClient(c)
	cp.SecretHash = hash
	s.clients[clientID] = cp
	return nil
}

// Prune drops refresh tokens and deny-list entries that expired before now.
func (s *MemoryStore) Prune(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		if !now.Before(t.ExpiresAt) {
			delete(s.tokens, k)
		}
	}
	for k, until := range s.denied {
		if !now.Before(until) {
			delete(s.denied, k)
		}
	}
}

func cloneClient(c *Client) *Client {
	cp := *c
	cp.Grants = slices.Clone(c.Grants)
	cp.Scopes = slices.Clone(c.Scopes)
	cp.Roles = slices.Clone(c.Roles)
	return &cp
}

func cloneToken(t *RefreshToken) *RefreshToken {
	cp := *t
	cp.Scope = slices.Clone(t.Scope)
	return &cp
}
