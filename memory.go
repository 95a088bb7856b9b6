package mint

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps everything in memory, safe for
// concurrent use. It is meant for tests, demos and single-process hosts:
// everything is lost on restart. Lookups of users by username and e-mail
// are exact (case-sensitive).
//
// Expired refresh tokens and deny-list entries stay until Prune drops
// them. A refresh token saved without a Family is the first of its own
// family. A revoked family stays revoked, for tokens of it saved later
// too, until Prune finds none of its tokens left.
//
// Besides Store it implements AccessTokenDenyList, SubjectRevoker,
// ReplayCache and Rehasher. The records of RevokeUser and
// RevokeClient, one per user or client, are kept for good.
type MemoryStore struct {
	mu        sync.RWMutex
	clients   map[string]*Client
	users     map[string]*User // by id
	usernames map[string]*User
	emails    map[string]*User
	tokens    map[string]*RefreshToken // by digest
	families  map[string]*family       // by the digest of the family's first token
	denied    map[string]time.Time     // access-token id -> until
	// revokedUsers and revokedClients: id -> the time as of which
	// everything of it is revoked (SubjectRevoker).
	revokedUsers, revokedClients map[string]time.Time
	used                         map[string]time.Time // ReplayCache: id -> expires
}

// family is a rotation chain: the digests of its tokens still stored, and
// whether it was revoked.
type family struct {
	tokens  map[string]struct{}
	revoked bool
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		clients:   map[string]*Client{},
		users:     map[string]*User{},
		usernames: map[string]*User{},
		emails:    map[string]*User{},
		tokens:    map[string]*RefreshToken{},
		families:  map[string]*family{},
		denied:    map[string]time.Time{},
		used:      map[string]time.Time{},

		revokedUsers:   map[string]time.Time{},
		revokedClients: map[string]time.Time{},
	}
}

// PutClient adds or replaces a client. The store keeps its own copy.
func (s *MemoryStore) PutClient(c *Client) {
	cp := *c
	cp.Grants = slices.Clone(c.Grants)
	cp.Scopes = slices.Clone(c.Scopes)
	cp.Roles = slices.Clone(c.Roles)
	cp.Audience = slices.Clone(c.Audience)
	cp.Resources = slices.Clone(c.Resources)
	cp.Secrets = slices.Clone(c.Secrets)
	cp.JWKS = slices.Clone(c.JWKS)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[cp.ID] = &cp
}

// PutUser adds or replaces a user, found by id, username and e-mail. The
// store keeps its own copy; a replaced user's old username and e-mail no
// longer find it.
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

// Client implements ClientStore. The client returned is shared: do not
// modify it.
func (s *MemoryStore) Client(_ context.Context, id string) (*Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, ErrNotFound
	}
	return c, nil
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
	u, ok := index[key]
	if !ok {
		return nil, ErrNotFound
	}
	return cloneUser(u), nil
}

// SaveRefreshToken implements RefreshTokenStore. The store keeps its own
// copy; a token with the digest of one already stored replaces it.
func (s *MemoryStore) SaveRefreshToken(_ context.Context, t *RefreshToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveLocked(t)
	return nil
}

// RefreshToken implements RefreshTokenStore. The token returned is the
// caller's own copy.
func (s *MemoryStore) RefreshToken(_ context.Context, digest string) (*RefreshToken, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tokens[digest]
	if !ok {
		return nil, ErrNotFound
	}
	return cloneToken(t), nil
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
	s.revokeFamilyLocked(family)
	return nil
}

// revokeFamilyLocked revokes the family named and every token of it.
func (s *MemoryStore) revokeFamilyLocked(name string) {
	f := s.familyLocked(name)
	f.revoked = true
	for digest := range f.tokens {
		s.tokens[digest].Revoked = true
	}
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
	s.revokeSubjectLocked(s.revokedUsers, userID, at, func(t *RefreshToken) bool { return t.UserID == userID })
	return nil
}

// RevokeClient implements SubjectRevoker.
func (s *MemoryStore) RevokeClient(_ context.Context, clientID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeSubjectLocked(s.revokedClients, clientID, at, func(t *RefreshToken) bool { return t.ClientID == clientID })
	return nil
}

// revokeSubjectLocked records the revocation of id as of at in revoked,
// keeping the later time, and revokes the families of the tokens of.
func (s *MemoryStore) revokeSubjectLocked(revoked map[string]time.Time, id string, at time.Time, of func(*RefreshToken) bool) {
	if at.After(revoked[id]) {
		revoked[id] = at
	}
	for _, t := range s.tokens {
		if of(t) {
			s.revokeFamilyLocked(t.Family)
		}
	}
}

// subjectRevokedLocked reports whether a token of the client and user
// (userID "" for none) issued at issuedAt is revoked by RevokeClient or
// RevokeUser.
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
	if u.PasswordHash != old {
		return nil // changed meanwhile: keep the newer password
	}
	cp := *u
	cp.PasswordHash = hash
	s.putUserLocked(&cp)
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

// UseOnce implements ReplayCache: an id stays recorded until Prune finds
// it expired.
func (s *MemoryStore) UseOnce(_ context.Context, id string, expires time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, seen := s.used[id]; seen {
		return false, nil
	}
	s.used[id] = expires
	return true, nil
}

// Prune drops the refresh tokens, deny-list entries and used ids
// (ReplayCache) that expired before now, and forgets revoked families none of whose tokens are left.
func (s *MemoryStore) Prune(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if t.ExpiresAt.Before(now) {
			s.dropLocked(t)
		}
	}
	maps.DeleteFunc(s.families, func(_ string, f *family) bool { return len(f.tokens) == 0 })
	maps.DeleteFunc(s.denied, func(_ string, until time.Time) bool { return until.Before(now) })
	maps.DeleteFunc(s.used, func(_ string, until time.Time) bool { return until.Before(now) })
}

// saveLocked stores a copy of t, replacing a token with the same digest.
func (s *MemoryStore) saveLocked(t *RefreshToken) {
	rec := cloneToken(t)
	if rec.Family == "" {
		rec.Family = rec.Digest
	}
	if old, ok := s.tokens[rec.Digest]; ok {
		s.dropLocked(old)
	}
	f := s.familyLocked(rec.Family)
	// A token issued before its user or client was revoked, saved after,
	// revokes its family as well.
	if s.subjectRevokedLocked(rec.ClientID, rec.UserID, rec.IssuedAt) {
		f.revoked = true
	}
	rec.Revoked = rec.Revoked || f.revoked
	f.tokens[rec.Digest] = struct{}{}
	s.tokens[rec.Digest] = rec
}

// dropLocked removes t from the tokens and from its family.
func (s *MemoryStore) dropLocked(t *RefreshToken) {
	delete(s.tokens, t.Digest)
	delete(s.families[t.Family].tokens, t.Digest)
}

// familyLocked returns the family named, adding it if new.
func (s *MemoryStore) familyLocked(name string) *family {
	f, ok := s.families[name]
	if !ok {
		f = &family{tokens: map[string]struct{}{}}
		s.families[name] = f
	}
	return f
}

func cloneUser(u *User) *User {
	cp := *u
	cp.Roles = slices.Clone(u.Roles)
	return &cp
}

func cloneToken(t *RefreshToken) *RefreshToken {
	cp := *t
	cp.Scope = slices.Clone(t.Scope)
	cp.Resources = slices.Clone(t.Resources)
	return &cp
}
