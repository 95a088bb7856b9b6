#!/usr/bin/env bash
# Load test over the wire (issue 7, point 4): builds and starts the
# reference server on loopback, drives POST /oauth2/token with
# client_credentials (HTTP Basic, form body) over keep-alive connections
# with wrk, prints requests per second and latency percentiles, fails if
# any response is not 2xx or any socket error occurred, and stops the
# server.
#
#   scripts/load.sh                 # 10 s, 2 threads, 16 connections
#   DURATION=30s CONNS=64 scripts/load.sh
#
# The client's secret is a generated one (256 bits, stored as $sha256$),
# the form mint.GenerateSecret makes: the figures measure the token
# endpoint, not argon2id. wrk (Debian package) is installed with apt-get
# when missing.
set -euo pipefail

PORT="${PORT:-18080}"
DURATION="${DURATION:-10s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-16}"
ADDR="127.0.0.1:${PORT}"
BASE="http://${ADDR}"

cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk not found: installing it (apt-get install -y wrk)" >&2
	if [ "$(id -u)" -eq 0 ]; then
		apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
	else
		sudo apt-get install -y wrk >/dev/null || { sudo apt-get update >/dev/null && sudo apt-get install -y wrk >/dev/null; }
	fi
fi

if curl -s -o /dev/null "${BASE}/" 2>/dev/null; then
	echo "something already listens on ${ADDR}; set PORT" >&2
	exit 1
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# A generated client secret and its $sha256$ hash (base64 standard
# encoding without padding of SHA-256 of the secret), as
# mint.HashGeneratedSecret makes it.
secret="$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
hash="\$sha256\$$(printf '%s' "$secret" | sha256sum | cut -d' ' -f1 | xxd -r -p | base64 -w0 | tr -d '=')"
client_id="load-client"

cat >"$work/config.json" <<EOF
{
  "issuer": "${BASE}",
  "audience": "load-api",
  "access_token_ttl": "1h",
  "clients": [
    {"id": "${client_id}", "secret_hash": "${hash}", "name": "Load test",
     "grants": ["client_credentials"], "scopes": ["read", "write"]}
  ],
  "users": []
}
EOF

echo "building the reference server..." >&2
go build -o "$work/server" ./examples/server
"$work/server" -addr "$ADDR" -config "$work/config.json" >"$work/stdout.log" 2>"$work/stderr.log" &
server_pid=$!

for _ in $(seq 1 100); do
	if curl -s -o /dev/null -w '%{http_code}' "${BASE}/.well-known/jwks.json" 2>/dev/null | grep -q 200; then
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "the server exited:" >&2
		cat "$work/stderr.log" >&2
		exit 1
	fi
	sleep 0.1
done

basic="$(printf '%s:%s' "$client_id" "$secret" | base64 -w0)"

# One request by hand first: the endpoint must answer 200 with a token.
status="$(curl -s -o "$work/first.json" -w '%{http_code}' -u "${client_id}:${secret}" \
	-d grant_type=client_credentials "${BASE}/oauth2/token")"
if [ "$status" != 200 ]; then
	echo "smoke request answered HTTP $status:" >&2
	cat "$work/first.json" >&2
	exit 1
fi

cat >"$work/cc.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic ${basic}"

local threads = {}
function setup(thread)
	table.insert(threads, thread)
end
function init(args)
	bad = 0
end
function response(status, headers, body)
	if status < 200 or status > 299 then
		bad = bad + 1
	end
end
function done(summary, latency, requests)
	local total = 0
	for _, t in ipairs(threads) do
		total = total + t:get("bad")
	end
	local e = summary.errors
	io.write(string.format("mint-load: requests=%d non2xx=%d socket_errors=%d\n",
		summary.requests, total, e.connect + e.read + e.write + e.timeout))
end
EOF

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version | cut -d' ' -f3)"
echo "wrk -t${THREADS} -c${CONNS} -d${DURATION} --latency POST ${BASE}/oauth2/token (client_credentials, EdDSA)"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$work/cc.lua" "${BASE}/oauth2/token" | tee "$work/wrk.out"

line="$(grep '^mint-load:' "$work/wrk.out")"
non2xx="$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$line")"
sockerr="$(sed -E 's/.*socket_errors=([0-9]+).*/\1/' <<<"$line")"
if [ "$non2xx" != 0 ] || [ "$sockerr" != 0 ]; then
	echo "FAIL: ${non2xx} non-2xx responses, ${sockerr} socket errors" >&2
	exit 1
fi
echo "OK: no error responses under load"
