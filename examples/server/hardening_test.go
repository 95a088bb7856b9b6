package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Short limits so that the tests see slow clients cut off quickly.
var hardeningLimits = serverLimits{readHeader: 300 * time.Millisecond, read: 600 * time.Millisecond}

// hostPort is the listen address of a base URL.
func hostPort(t *testing.T, base string) string {
	u, err := url.Parse(base)
	require.NoError(t, err)
	return u.Host
}

// trickle opens a connection, writes head at once and then one byte of
// slow every 50 ms, and returns how long the server took to end the
// connection (read error or EOF), with whatever it answered. It gives up
// after 5 s, far beyond every limit under test.
func trickle(t *testing.T, addr, head, slow string) (time.Duration, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := conn.Write([]byte{slow[i%len(slow)]}); err != nil {
				return
			}
		}
	}()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	answer, _ := io.ReadAll(conn) // ends at EOF, a reset, or the deadline
	return time.Since(start), string(answer)
}

func TestSlowLorisHeadersAreCutOff(t *testing.T) {
	ts := startServer(t, options{limits: hardeningLimits})
	addr := hostPort(t, ts.base)
	took, answer := trickle(t, addr, "POST /oauth2/token HTTP/1.1\r\nHost: x\r\n", "X-Slow-Header: aaaaaaaa\r\n")
	assert.Less(t, took, 2*time.Second, "ReadHeaderTimeout (300 ms) ended the connection")
	assert.GreaterOrEqual(t, took, 250*time.Millisecond)
	assert.NotContains(t, answer, "200 OK")
}

func TestSlowBodyIsCutOff(t *testing.T) {
	ts := startServer(t, options{limits: hardeningLimits})
	addr := hostPort(t, ts.base)
	head := "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
	took, answer := trickle(t, addr, head, "grant_type=client_credentials&")
	assert.Less(t, took, 2*time.Second, "ReadTimeout (600 ms) ended the connection")
	if answer != "" {
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(answer)), nil)
		require.NoError(t, err, answer)
		assert.Less(t, resp.StatusCode, 500, "a body cut short is the client's fault: %s", answer)
		assert.GreaterOrEqual(t, resp.StatusCode, 400, answer)
	}
}

// Slow-loris connections cannot pin the server: while many trickle their
// headers, an ordinary token request is answered at once.
func TestSlowLorisCannotPinTheServer(t *testing.T) {
	ts := startServer(t, options{limits: serverLimits{readHeader: 3 * time.Second}})
	addr := hostPort(t, ts.base)
	conns := make([]net.Conn, 50)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		conns[i] = c
		_, err = io.WriteString(c, "POST /oauth2/token HTTP/1.1\r\nHost: x\r\nX-Slow: ")
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	start := time.Now()
	resp, err := client.PostForm(ts.base+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {demoHorusClientID}, "client_secret": {"wrong"}})
	require.NoError(t, err, "served despite 50 slow connections")
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Less(t, time.Since(start), time.Second)
}

func TestOversizedHeadersAreRefused(t *testing.T) {
	ts := startServer(t, options{})
	req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Big", strings.Repeat("a", maxHeaderBytes+8<<10))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

func TestServerLimitsDefaultToTheConstants(t *testing.T) {
	assert.Equal(t, serverLimits{readHeader: readHeaderTimeout, read: readTimeout, write: writeTimeout, idle: idleTimeout},
		serverLimits{}.resolved())
	assert.Equal(t, 300*time.Millisecond, hardeningLimits.resolved().readHeader)
	assert.Equal(t, writeTimeout, hardeningLimits.resolved().write)
}

// Two servers on one SQL store count failed client authentications
// together: guesses spread over both block the client on both.
func TestReplicasThrottleTogether(t *testing.T) {
	for _, s := range sqlSpecs {
		t.Run(s.name, func(t *testing.T) {
			spec := s.spec(t)
			servers := []*testServer{startSQLServer(t, spec), startSQLServer(t, spec)}
			post := func(ts *testServer, secret string) *http.Response {
				req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth2/token",
					strings.NewReader("grant_type=client_credentials"))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("bb145d5f", secret)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				return resp
			}
			for i := range 10 { // mint's default back-off blocks at the 10th failure
				require.Equal(t, http.StatusUnauthorized, post(servers[i%2], "guess").StatusCode, "guess %d", i)
			}
			for i, ts := range servers {
				resp := post(ts, "bb145d5fxyz")
				assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "server %d", i)
				assert.Equal(t, "1", resp.Header.Get("Retry-After"), "server %d", i)
			}
		})
	}
}
