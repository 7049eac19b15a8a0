#!/usr/bin/env bash
# Side-by-side load test: the Rust demo (release build) against the same
# routes in FastAPI (bench/fastapi_app.py), both on loopback, measured with
# wrk in one run. Prints requests per second and the ratio.
#
#   bash bench/compare.sh            # 10 s per route and server
#   DURATION=30 bash bench/compare.sh
#
# Installs what it needs: wrk (Debian), fastapi, uvicorn[standard] (uvloop,
# httptools), pyjwt, pwdlib (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
RUST_PORT=18000
PY_PORT=18001
SECRET="bench-secret-$(date +%s)-0123456789abcdefghij"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
python3 -c "import fastapi, uvicorn, uvloop, httptools, jwt, pwdlib, multipart" 2>/dev/null ||
  pip install -q fastapi "uvicorn[standard]" pyjwt "pwdlib[argon2]" python-multipart

cargo build --release --locked -q -p demo-app

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

ROCKET_PORT=$RUST_PORT ROCKET_ADDRESS=127.0.0.1 ROCKET_LOG_LEVEL=critical \
  ROCKET_DATABASE_URL="sqlite://$work/bench.db" ROCKET_AUTH_SECRET="$SECRET" \
  target/release/demo-app >"$work/rust.log" 2>&1 &
pids+=($!)
(cd bench && BENCH_SECRET="$SECRET" exec python3 -m uvicorn fastapi_app:app \
  --host 127.0.0.1 --port $PY_PORT --workers 2 --no-access-log --log-level warning) \
  >"$work/py.log" 2>&1 &
pids+=($!)

wait_up() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null && return 0
    sleep 0.2
  done
  echo "server on port $1 did not start" >&2; cat "$work"/*.log >&2; exit 1
}
wait_up $RUST_PORT
wait_up $PY_PORT

token() {
  curl -sf -X POST "http://127.0.0.1:$1/token" -d username=johndoe -d password=secret |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
RUST_TOKEN=$(token $RUST_PORT)
PY_TOKEN=$(token $PY_PORT)

rps() { # port token path
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -H "Authorization: Bearer $2" \
    "http://127.0.0.1:$1$3" | awk '/Requests\/sec/ {print $2}'
}

printf '%-12s %14s %14s %8s\n' route "rust req/s" "fastapi req/s" ratio
for path in /health /users/me /items; do
  rust=$(rps $RUST_PORT "$RUST_TOKEN" "$path")
  py=$(rps $PY_PORT "$PY_TOKEN" "$path")
  awk -v p="$path" -v r="$rust" -v f="$py" 'BEGIN { printf "%-12s %14.0f %14.0f %7.1fx\n", p, r, f, r / f }'
done
echo "wrk -t2 -c$CONNECTIONS -d${DURATION}s per row; uvicorn with 2 workers; $(nproc) cores shared by servers and wrk"

# In-process cost of verifying one access token: auth-core (criterion)
# against PyJWT (timeit), same token shape, same HS256 secret length.
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
rust_us=$(cargo bench -q -p auth-core --bench hot_path -- verify_access_token 2>/dev/null |
  awk '/time:/ { v = $5; u = $6; if (u == "ns") v /= 1000; if (u == "ms") v *= 1000; print v; exit }')
py_us=$(BENCH_TOKEN="$PY_TOKEN" BENCH_SECRET="$SECRET" python3 - <<'PY'
import os, timeit, jwt
token, secret = os.environ["BENCH_TOKEN"], os.environ["BENCH_SECRET"]
decode = lambda: jwt.decode(token, secret, algorithms=["HS256"], audience="api", issuer="auth-core")
runs = 20000
print(min(timeit.repeat(decode, number=runs, repeat=5)) / runs * 1e6)
PY
)
awk -v r="$rust_us" -v p="$py_us" 'BEGIN { printf "verify one JWT: auth-core %.2f us, PyJWT %.2f us: %.1fx\n", r, p, p / r }'
