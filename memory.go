package mint

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps everything in memory, safe for
// concurrent use: for tests, demos and single-process hosts, as everything
// is lost on restart. Users are found by exact (case-sensitive) username
// and e-mail. A refresh token saved without a Family is the first of its
// own. A revoked family stays revoked, for tokens of it saved later too,
// until Prune finds none of its tokens left; Prune also drops what expired.
//
// Besides Store it implements AccessTokenDenyList, SubjectRevoker,
// ReplayCache and Rehasher; the records of RevokeUser and RevokeClient,
// one per user or client, are kept for good.
type MemoryStore struct {
	mu        sync.RWMutex
	clients   map[string]*Client
	users     map[string]*User // by id
	usernames map[string]*User
	emails    map[string]*User
	tokens    map[string]*RefreshToken // by digest
	revoked   map[string]bool          // revoked family names
	denied    map[string]time.Time     // access-token id -> until
	used      map[string]time.Time     // ReplayCache: id -> expires
	// SubjectRevoker: user or client id -> the time as of which it is revoked.
	revokedUsers, revokedClients map[string]time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{clients: map[string]*Client{}, users: map[string]*User{}, usernames: map[string]*User{},
		emails: map[string]*User{}, tokens: map[string]*RefreshToken{}, revoked: map[string]bool{},
		denied: map[string]time.Time{}, used: map[string]time.Time{},
		revokedUsers: map[string]time.Time{}, revokedClients: map[string]time.Time{}}
}

// PutClient adds or replaces a client. The store keeps its own copy.
func (s *MemoryStore) PutClient(c *Client) {
	cp := *c
	cp.Grants, cp.Scopes, cp.Roles = slices.Clone(c.Grants), slices.Clone(c.Scopes), slices.Clone(c.Roles)
	cp.Audience, cp.Resources = slices.Clone(c.Audience), slices.Clone(c.Resources)
	cp.Secrets, cp.JWKS = slices.Clone(c.Secrets), slices.Clone(c.JWKS)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[cp.ID] = &cp
}

// PutUser adds or replaces a user (the store keeps its own copy), found by
// id, username and e-mail; a replaced user's old names no longer find it.
func (s *MemoryStore) PutUser(u *User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putUserLocked(cloneUser(u))
}

func (s *MemoryStore) putUserLocked(u *User) {
	if old, ok := s.users[u.ID]; ok {
		if s.usernames[old.Username] == old {
			delete(s.usernames, old.Username)
		}
		if s.emails[old.Email] == old {
			delete(s.emails, old.Email)
		}
	}
	s.users[u.ID] = u
	if u.Username != "" {
		s.usernames[u.Username] = u
	}
	if u.Email != "" {
		s.emails[u.Email] = u
	}
}

// Client implements ClientStore; the client returned is shared: do not modify it.
func (s *MemoryStore) Client(_ context.Context, id string) (*Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return get(s.clients, id, func(c *Client) *Client { return c })
}

// User implements UserStore; the user returned is the caller's own copy.
func (s *MemoryStore) User(_ context.Context, id string) (*User, error) {
	return s.userFrom(s.users, id)
}

// UserByUsername implements UserStore, like User.
func (s *MemoryStore) UserByUsername(_ context.Context, username string) (*User, error) {
	return s.userFrom(s.usernames, username)
}

// UserByEmail implements UserStore, like User.
func (s *MemoryStore) UserByEmail(_ context.Context, email string) (*User, error) {
	return s.userFrom(s.emails, email)
}

func (s *MemoryStore) userFrom(index map[string]*User, key string) (*User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return get(index, key, cloneUser)
}

// SaveRefreshToken implements RefreshTokenStore. The store keeps its own
// copy; a token with the digest of one already stored replaces it.
func (s *MemoryStore) SaveRefreshToken(_ context.Context, t *RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveLocked(t)
	return nil
}

// RefreshToken implements RefreshTokenStore; the token returned is the caller's.
func (s *MemoryStore) RefreshToken(_ context.Context, digest string) (*RefreshToken, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return get(s.tokens, digest, cloneToken)
}

// RotateRefreshToken implements RefreshTokenStore.
func (s *MemoryStore) RotateRefreshToken(_ context.Context, old string, next *RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[old]
	if !ok {
		return ErrNotFound
	}
	if t.Revoked || !t.UsedAt.IsZero() || t.Next != "" {
		return ErrTokenUsed
	}
	t.UsedAt, t.Next = next.IssuedAt, next.Digest
	s.saveLocked(next)
	return nil
}

// RevokeRefreshFamily implements RefreshTokenStore.
func (s *MemoryStore) RevokeRefreshFamily(_ context.Context, family string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[family] = true
	for _, t := range s.tokens {
		t.Revoked = t.Revoked || t.Family == family
	}
	return nil
}

// revokeLocked revokes every family that has a token for which of is
// true, with all the tokens of those families.
func (s *MemoryStore) revokeLocked(of func(*RefreshToken) bool) {
	families := map[string]bool{}
	for _, t := range s.tokens {
		if of(t) {
			families[t.Family] = true
		}
	}
	for _, t := range s.tokens {
		t.Revoked = t.Revoked || families[t.Family]
	}
	maps.Copy(s.revoked, families)
}

// DenyAccessToken implements AccessTokenDenyList.
func (s *MemoryStore) DenyAccessToken(_ context.Context, jti string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[jti] = until
	return nil
}

// AccessTokenDenied implements AccessTokenDenyList, with the revocations
// of SubjectRevoker.
func (s *MemoryStore) AccessTokenDenied(_ context.Context, jti, clientID, userID string, issuedAt time.Time) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.denied[jti]
	return ok || s.subjectRevokedLocked(clientID, userID, issuedAt), nil
}

// RevokeUser implements SubjectRevoker.
func (s *MemoryStore) RevokeUser(_ context.Context, userID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.After(s.revokedUsers[userID]) {
		s.revokedUsers[userID] = at
	}
	s.revokeLocked(func(t *RefreshToken) bool { return t.UserID == userID })
	return nil
}

// RevokeClient implements SubjectRevoker.
func (s *MemoryStore) RevokeClient(_ context.Context, clientID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at.After(s.revokedClients[clientID]) {
		s.revokedClients[clientID] = at
	}
	s.revokeLocked(func(t *RefreshToken) bool { return t.ClientID == clientID })
	return nil
}

// subjectRevokedLocked reports whether RevokeClient or RevokeUser revoked a
// token of the client and user ("" for none) issued at issuedAt.
func (s *MemoryStore) subjectRevokedLocked(clientID, userID string, issuedAt time.Time) bool {
	if at, ok := s.revokedClients[clientID]; ok && !issuedAt.After(at) {
		return true
	}
	at, ok := s.revokedUsers[userID]
	return ok && userID != "" && !issuedAt.After(at)
}

// UpdatePasswordHash implements Rehasher.
func (s *MemoryStore) UpdatePasswordHash(_ context.Context, userID, old, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return ErrNotFound
	}
	if u.PasswordHash == old {
		cp := *u
		cp.PasswordHash = hash
		s.putUserLocked(&cp)
	}
	return nil
}

// UpdateSecretHash implements Rehasher.
func (s *MemoryStore) UpdateSecretHash(_ context.Context, clientID, old, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return ErrNotFound
	}
	cp := *c // a new record: callers may hold the old one
	cp.Secrets = slices.Clone(c.Secrets)
	switch i := slices.IndexFunc(cp.Secrets, func(s Secret) bool { return s.Hash == old }); {
	case c.SecretHash == old:
		cp.SecretHash = hash
	case i >= 0:
		cp.Secrets[i].Hash = hash
	default:
		return nil // changed meanwhile: keep the newer secret
	}
	s.clients[clientID] = &cp
	return nil
}

// UseOnce implements ReplayCache; an id stays until Prune finds it expired.
func (s *MemoryStore) UseOnce(_ context.Context, id string, expires time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.used[id]; seen {
		return false, nil
	}
	s.used[id] = expires
	return true, nil
}

// Prune drops the refresh tokens, deny-list entries and used ids that
// expired before now, and the revoked families with no token left.
func (s *MemoryStore) Prune(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	expired := func(_ string, until time.Time) bool { return until.Before(now) }
	maps.DeleteFunc(s.tokens, func(_ string, t *RefreshToken) bool { return t.ExpiresAt.Before(now) })
	maps.DeleteFunc(s.denied, expired)
	maps.DeleteFunc(s.used, expired)
	kept := map[string]bool{}
	for _, t := range s.tokens {
		if s.revoked[t.Family] {
			kept[t.Family] = true
		}
	}
	s.revoked = kept
}

// saveLocked stores a copy of t, replacing one with its digest; if issued
// before its user or client was revoked, it revokes its family as well.
func (s *MemoryStore) saveLocked(t *RefreshToken) {
	rec := cloneToken(t)
	if rec.Family == "" {
		rec.Family = rec.Digest
	}
	if s.subjectRevokedLocked(rec.ClientID, rec.UserID, rec.IssuedAt) {
		s.revoked[rec.Family] = true
	}
	rec.Revoked = rec.Revoked || s.revoked[rec.Family]
	s.tokens[rec.Digest] = rec
}

// get returns the copy of m[key], or ErrNotFound.
func get[T any](m map[string]*T, key string, clone func(*T) *T) (*T, error) {
	v, ok := m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return clone(v), nil
}

func cloneUser(u *User) *User {
	cp := *u
	cp.Roles = slices.Clone(u.Roles)
	return &cp
}

func cloneToken(t *RefreshToken) *RefreshToken {
	cp := *t
	cp.Scope, cp.Resources = slices.Clone(t.Scope), slices.Clone(t.Resources)
	return &cp
}
