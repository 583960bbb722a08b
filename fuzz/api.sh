#!/usr/bin/env bash
# Fuzzes the HTTP API from its own OpenAPI document with schemathesis (PyPI): every
# operation gets generated valid and invalid requests with the admin token; any 5xx
# answer, or a server that stops answering, fails the run.
# Needs `pip install schemathesis`. API_FUZZ_EXAMPLES (default 50) bounds the examples
# per operation and phase. The server is the debug build of this checkout, on a free
# port with a fresh data directory; its log is kept in that directory on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v schemathesis >/dev/null || { echo "schemathesis is missing: pip install schemathesis" >&2; exit 1; }
cargo build --quiet --bin hookcast
data_dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="api-fuzz-$(date +%s%N)"
HOOKCAST_DATA_DIR="$data_dir" HOOKCAST_LISTEN="127.0.0.1:$port" HOOKCAST_ADMIN_TOKEN="$token" \
  HOOKCAST_FSYNC=false HOOKCAST_LOG="warn,hookcast=info" \
  target/debug/hookcast serve >"$data_dir/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
status=0
schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --checks not_a_server_error \
  --header "Authorization: Bearer $token" \
  --max-examples "${API_FUZZ_EXAMPLES:-50}" \
  --request-timeout 20 \
  --generation-deterministic || status=$?
# The server must still be alive and healthy after all of it.
if ! curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null; then
  echo "the server stopped answering during the API fuzz run" >&2
  status=1
fi
if grep -q "panicked" "$data_dir/server.log"; then
  grep -B2 -A5 "panicked" "$data_dir/server.log" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "server log: $data_dir/server.log" >&2
else
  rm -rf "$data_dir"
fi
exit "$status"
