package mint_test

// Benchmarks of the token endpoint. BenchmarkWire measures it where its
// users feel it, over loopback HTTP with keep-alive, next to a net/http
// floor and a naive golang-jwt handler in the same run; its figures are
// read as ratios to that floor (BENCHMARKS.md):
//
//	go test -run '^$' -bench 'Wire|Baseline|HandlerClientCredentials' -count 6 -cpu 1 .
//
// BenchmarkBaselineClientCredentials and BenchmarkHandlerClientCredentials
// run the naive handler and mint's in process, driven alike, for the
// in-process comparison; BenchmarkArgon2idVerify and
// BenchmarkPasswordOverhead set the password grant against the argon2id
// verification it is made of.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"

	"github.com/mintauth/mint"
)

const (
	benchIssuer   = "https://auth.example.com"
	benchAudience = "https://api.example.com"
	benchClientID = "bench-client"
	benchScope    = "read write"
	benchTTL      = time.Hour
)

// BenchmarkWire measures the token endpoint where its users feel it: one
// request over loopback HTTP with keep-alive, from one http.Client to an
// httptest.Server, the answer read to its end. Its sub-benchmarks run side
// by side in one process, so that each is read as a ratio to the first
// (BENCHMARKS.md):
//
//   - floor/client_credentials and floor/refresh: a net/http handler
//     answering mint's own answer to that grant, replayed, with the same
//     headers, to a client doing the same work; what net/http and the
//     loopback cost on this machine;
//   - ALG/naive: baselineHandler (golang-jwt with jwt.MapClaims,
//     encoding/json), signing with ALG as mint does;
//   - ALG/client_credentials: mint.TokenHandler, OAuth 2.0 dialect, a key
//     of ALG, a generated client secret;
//   - ALG/refresh: each request presents the refresh token the previous
//     answer carried, so that every one rotates it (a fresh Issuer and
//     store per run, on a server of its own);
//   - HS256/client_credentials_claims_hook: the same with a claims hook
//     that adds one claim;
//   - password: client_credentials' HS256 server with the user's
//     password hashed by argon2id at mint's default parameters.
//
// Every request sends the client in HTTP Basic and a form body.
func BenchmarkWire(b *testing.B) {
	const password = "correct horse battery staple"
	hash, err := mint.HashPassword(password)
	if err != nil {
		b.Fatal(err)
	}
	c := wireClient(b)
	const ccBody = "grant_type=client_credentials"
	const passwordBody = "grant_type=password&username=john_doe&password=correct+horse+battery+staple"
	// newServer's server and store live as long as b: a sub-benchmark's
	// own b, so that its store is garbage once it ends.
	newServer := func(b *testing.B, alg string, opts ...mint.Option) (url, secret string) {
		iss, store, secret := newBenchIssuer(b, alg, append(opts, mint.WithHasher(mint.Argon2id{}))...)
		store.PutUser(&mint.User{ID: "7", Username: "john_doe", PasswordHash: hash, Roles: []int{3}})
		return wireServer(b, mint.TokenHandler{Issuer: iss}), secret
	}
	hsURL, hsSecret := newServer(b, mint.HS256)
	b.Run("floor/client_credentials", func(b *testing.B) {
		floorURL := wireFloor(b, c, hsURL, ccBody, hsSecret)
		for b.Loop() {
			wireDrain(b, wirePost(b, c, floorURL, ccBody, hsSecret))
		}
	})
	b.Run("floor/refresh", func(b *testing.B) {
		// A refresh answer, replayed; the client reads its refresh token
		// and presents it, as it does to mint.
		refresh := wireRefreshToken(b, wirePost(b, c, hsURL, passwordBody, hsSecret))
		floorURL := wireFloor(b, c, hsURL, "grant_type=refresh_token&refresh_token="+refresh, hsSecret)
		for b.Loop() {
			refresh = wireRefreshToken(b, wirePost(b, c, floorURL,
				"grant_type=refresh_token&refresh_token="+url.QueryEscape(refresh), hsSecret))
		}
	})
	for _, alg := range []string{mint.HS256, mint.EdDSA} {
		mintURL, secret := newServer(b, alg)
		naiveURL := wireServer(b, baselineHandler(benchClientID, sha256.Sum256([]byte(secret)), benchKey(b, alg)))
		b.Run(alg+"/naive", func(b *testing.B) {
			for b.Loop() {
				wireDrain(b, wirePost(b, c, naiveURL, ccBody, secret))
			}
		})
		b.Run(alg+"/client_credentials", func(b *testing.B) {
			for b.Loop() {
				wireDrain(b, wirePost(b, c, mintURL, ccBody, secret))
			}
		})
		if alg == mint.HS256 { // right after client_credentials, to be read against it
			hookURL, hookSecret := newServer(b, alg, mint.WithClaims(func(context.Context, *mint.ClaimsRequest) (map[string]any, error) {
				return map[string]any{"tenant_id": "acme"}, nil
			}))
			b.Run(alg+"/client_credentials_claims_hook", func(b *testing.B) {
				for b.Loop() {
					wireDrain(b, wirePost(b, c, hookURL, ccBody, hookSecret))
				}
			})
		}
		b.Run(alg+"/refresh", func(b *testing.B) {
			// Each run gets an empty store: the memory store keeps every
			// rotated token until Prune, and a store that grew in the runs
			// before would make the runs of one -count differ.
			mintURL, secret := newServer(b, alg)
			refresh := wireRefreshToken(b, wirePost(b, c, mintURL, passwordBody, secret))
			for b.Loop() {
				refresh = wireRefreshToken(b, wirePost(b, c, mintURL,
					"grant_type=refresh_token&refresh_token="+url.QueryEscape(refresh), secret))
			}
		})
	}
	b.Run("password", func(b *testing.B) {
		for b.Loop() {
			wireDrain(b, wirePost(b, c, hsURL, passwordBody, hsSecret))
		}
	})
}

// wireFloor serves, on a server of its own, what mintURL answers to body:
// one real answer, its body and its headers, replayed.
func wireFloor(b *testing.B, c *http.Client, mintURL, body, secret string) string {
	return wireFloorOf(b, wirePost(b, c, mintURL, body, secret))
}

// wireClient returns an http.Client that keeps its connections alive and
// may keep more idle ones per host than net/http's default of two.
func wireClient(b *testing.B) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	b.Cleanup(t.CloseIdleConnections)
	return &http.Client{Transport: t}
}

// wireServer serves h on a loopback httptest.Server for the rest of the
// benchmark and returns its token endpoint's URL.
func wireServer(b *testing.B, h http.Handler) string {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL + "/token"
}

// wirePost POSTs a form body with the bench client in HTTP Basic and
// fails unless the answer is 200; the caller reads and closes the body.
func wirePost(b *testing.B, c *http.Client, url, body, secret string) *http.Response {
	basic := base64.StdEncoding.EncodeToString([]byte(benchClientID + ":" + secret))
	return wireSend(b, c, url, body, map[string]string{"Authorization": "Basic " + basic})
}

// wireDrain reads an answer to its end and closes it, so that its
// connection goes back to the client's pool.
func wireDrain(b *testing.B, resp *http.Response) {
	_, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
}

// wireRefreshToken reads the refresh token out of a JSON token answer and
// drains it.
func wireRefreshToken(b *testing.B, resp *http.Response) string {
	var answer struct {
		RefreshToken string `json:"refresh_token"`
	}
	err := json.NewDecoder(resp.Body).Decode(&answer)
	wireDrain(b, resp)
	if err != nil || answer.RefreshToken == "" {
		b.Fatalf("no refresh token in the answer (%v)", err)
	}
	return answer.RefreshToken
}

// baselineHandler is the naive client_credentials token endpoint of
// issue 7: parse the form and Basic auth, compare a SHA-256 secret digest
// in constant time, draw 16 random bytes for the jti, sign the eight
// RFC 9068 claims with golang-jwt (jwt.MapClaims) and k's algorithm, and
// answer with encoding/json and the headers RFC 6749 section 5.1 asks for.
func baselineHandler(clientID string, secretDigest [32]byte, k *mint.Key) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request"})
			return
		}
		id, secret, ok := r.BasicAuth()
		sum := sha256.Sum256([]byte(secret))
		if !ok || subtle.ConstantTimeCompare(sum[:], secretDigest[:]) != 1 || id != clientID {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		}
		var raw [16]byte
		_, _ = rand.Read(raw[:])
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.Algorithm()), jwt.MapClaims{
			"iss":       benchIssuer,
			"sub":       id,
			"aud":       benchAudience,
			"exp":       now.Add(benchTTL).Unix(),
			"iat":       now.Unix(),
			"jti":       base64.RawURLEncoding.EncodeToString(raw[:]),
			"client_id": id,
			"scope":     benchScope,
		})
		tok.Header["typ"], tok.Header["kid"] = "at+jwt", k.ID()
		signed, err := tok.SignedString(k.Private())
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": signed,
			"token_type":   "Bearer",
			"expires_in":   int(benchTTL / time.Second),
			"scope":        benchScope,
		})
	})
}

// BenchmarkBaselineClientCredentials is baselineHandler in process,
// driven as BenchmarkHandlerClientCredentials drives mint.
func BenchmarkBaselineClientCredentials(b *testing.B) {
	for _, alg := range []string{mint.HS256, mint.EdDSA} {
		b.Run(alg, func(b *testing.B) {
			secret, _, err := mint.GenerateSecret()
			if err != nil {
				b.Fatal(err)
			}
			h := baselineHandler(benchClientID, sha256.Sum256([]byte(secret)), benchKey(b, alg))
			driveClientCredentials(b, h, "http://auth.example.com/token", benchClientID, secret, http.StatusOK)
		})
	}
}

// BenchmarkHandlerClientCredentials is mint.TokenHandler (OAuth 2.0
// dialect) in process, driven as BenchmarkBaselineClientCredentials drives
// the naive handler: same request, same recorder, same algorithm.
func BenchmarkHandlerClientCredentials(b *testing.B) {
	for _, alg := range []string{mint.HS256, mint.EdDSA} {
		b.Run(alg, func(b *testing.B) {
			iss, _, secret := newBenchIssuer(b, alg)
			h := mint.TokenHandler{Issuer: iss}
			driveClientCredentials(b, h, "http://auth.example.com/token", benchClientID, secret, http.StatusOK)
		})
	}
}

// driveClientCredentials runs serveForm with a client_credentials body
// once per iteration.
func driveClientCredentials(b *testing.B, h http.Handler, url, clientID, secret string, want int) {
	b.Helper()
	for b.Loop() {
		serveForm(b, h, url, "grant_type=client_credentials", clientID, secret, want)
	}
}

// serveForm runs h once with a fresh form POST built by http.NewRequest
// (not httptest.NewRequest, which costs as much as the work measured),
// the client in HTTP Basic, and a fresh httptest.ResponseRecorder; it
// fails unless h answers want.
func serveForm(b *testing.B, h http.Handler, url, body, clientID, secret string, want int) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// newBenchIssuer returns an Issuer signing with a fresh alg key, over a
// memory store holding one client with a generated secret (allowed
// client_credentials, password and refresh_token), the store and that
// secret.
func newBenchIssuer(b testing.TB, alg string, opts ...mint.Option) (*mint.Issuer, *mint.MemoryStore, string) {
	b.Helper()
	secret, hash, err := mint.GenerateSecret()
	if err != nil {
		b.Fatal(err)
	}
	store := mint.NewMemoryStore()
	store.PutClient(&mint.Client{ID: benchClientID, SecretHash: hash,
		Grants: []string{mint.GrantClientCredentials, mint.GrantPassword, mint.GrantRefreshToken},
		Scopes: []string{"read", "write"}})
	keys, err := mint.NewKeySet(benchKey(b, alg))
	if err != nil {
		b.Fatal(err)
	}
	// The default audit hook logs every issued token at Info to the
	// Issuer's logger; a discard logger keeps the host's log sink out of
	// the figures.
	opts = append([]mint.Option{mint.WithIssuer(benchIssuer), mint.WithAudience(benchAudience),
		mint.WithAccessTokenTTL(benchTTL), mint.WithUnknownClientHash(mint.HashGeneratedSecret("x")),
		mint.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	iss, err := mint.New(store, keys, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return iss, store, secret
}

// benchKey returns a fresh key for alg.
func benchKey(b testing.TB, alg string) *mint.Key {
	b.Helper()
	k, err := mint.GenerateKey(alg)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func BenchmarkArgon2idVerify(b *testing.B) {
	password := []byte("correct horse battery staple")
	p := newArgon2idHash(b, string(password))
	for b.Loop() {
		if !p.verify(password) {
			b.Fatal("mismatch")
		}
	}
}

// argon2idHash is a password hash made by mint.HashPassword (argon2id at
// mint's default parameters), read back from its PHC string so that a
// bare argon2.IDKey can verify it outside mint.
type argon2idHash struct {
	encoded        string
	memory, passes uint32
	threads        uint8
	salt, key      []byte
}

func newArgon2idHash(b testing.TB, password string) argon2idHash {
	b.Helper()
	encoded, err := mint.HashPassword(password)
	if err != nil {
		b.Fatal(err)
	}
	h := argon2idHash{encoded: encoded}
	parts := strings.Split(encoded, "$") // "", argon2id, v=19, m=..,t=..,p=.., salt, key
	if len(parts) != 6 || parts[1] != "argon2id" {
		b.Fatalf("not an argon2id hash: %s", encoded)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.passes, &h.threads); err != nil {
		b.Fatal(err)
	}
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		b.Fatal(err)
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil {
		b.Fatal(err)
	}
	return h
}

// verify derives the key of password with argon2id and compares it with
// the hash's in constant time.
func (h argon2idHash) verify(password []byte) bool {
	got := argon2.IDKey(password, h.salt, h.passes, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// BenchmarkPasswordOverhead measures mint's own cost on top of the
// password's argon2id verification (issue 7: at most 1%) in pairs taken
// back to back, so that the load of the moment weighs on both halves
// alike: each iteration times one bare argon2id verification at the
// default parameters, then one password grant through the OAuth 2.0
// handler. It reports the medians of both and of the per-pair difference
// (overhead-ns) and that difference over the bare verification
// (overhead-%). Run it with -benchtime 200x or more for stable medians;
// its ns/op includes the untimed collections and means nothing.
func BenchmarkPasswordOverhead(b *testing.B) {
	iss, store, secret := newBenchIssuer(b, mint.HS256)
	password := []byte("correct horse battery staple")
	p := newArgon2idHash(b, string(password))
	store.PutUser(&mint.User{ID: "7", Username: "john_doe", PasswordHash: p.encoded, Roles: []int{3}})
	h := mint.TokenHandler{Issuer: iss, Dialect: mint.OAuth2Dialect{NoRefreshToken: true}}
	const body = "grant_type=password&username=john_doe&password=correct+horse+battery+staple"

	// Keep the collector out of both halves: collect before each, untimed,
	// with a heap target above argon2id's 19 MiB.
	defer debug.SetGCPercent(debug.SetGCPercent(2000))
	verifyBare := func() time.Duration {
		runtime.GC()
		t0 := time.Now()
		if !p.verify(password) {
			b.Fatal("mismatch")
		}
		return time.Since(t0)
	}
	grant := func() time.Duration {
		runtime.GC()
		t0 := time.Now()
		serveForm(b, h, "http://auth.example.com/token", body, benchClientID, secret, http.StatusOK)
		return time.Since(t0)
	}
	var bare, full, diff []float64
	i := 0
	for b.Loop() {
		var tb, tg time.Duration
		if i%2 == 0 { // alternate the order, so that neither half always runs second
			tb, tg = verifyBare(), grant()
		} else {
			tg, tb = grant(), verifyBare()
		}
		i++
		bare = append(bare, float64(tb))
		full = append(full, float64(tg))
		diff = append(diff, float64(tg-tb))
	}
	mb, mf, md := median(bare), median(full), median(diff)
	b.ReportMetric(mb, "argon2id-ns")
	b.ReportMetric(mf, "grant-ns")
	b.ReportMetric(md, "overhead-ns")
	b.ReportMetric(100*md/mb, "overhead-%")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
