#!/usr/bin/env bash
# Side-by-side load test: the Rust demo (release build) against two FastAPI
# peers on loopback, measured with wrk in one run:
#
#   * bench/fastapi_app.py      FastAPI's security tutorial: users in a dict;
#   * bench/fastapi_sql_app.py  the same, looking the user up in SQLite on
#                               every request, as FastAPI's SQL tutorial does.
#
# Routes: GET /health, GET /users/me with a valid token, a bad signature, an
# expired token and a malformed token, GET /items. Rounds alternate the order
# of servers and routes; every run reports req/s, p99 latency and the server's
# CPU time per request (/proc/PID/stat). Then the ratios again from
# back-to-back pairs of short runs (bench/paired.py), peak RSS under load, the
# time to the first /health answer after a start on an existing database, and
# a login storm. Then the demo's instructions per request under callgrind and
# the in-process cost of verifying a token. Ends with markdown tables for the
# README.
#
#   bash bench/compare.sh                       # 5 rounds of 6 s per run
#   ROUNDS=1 DURATION=3 STARTS=2 bash bench/compare.sh    # quick try
#   QUICK=1 bash bench/compare.sh               # the same
#   SERVERS=demo bash bench/compare.sh          # the demo only
#
# Other settings: CONNECTIONS (32), THREADS (wrk threads, 1), RSS_CONNECTIONS
# (256), PAIRS (6) and PAIR_SECONDS (2) for the paired ratios, DEMO_LOG_LEVEL
# (the demo's ROCKET_LOG_LEVEL; unset keeps Rocket's default), VERIFY_BENCH=0
# to skip the in-process verification figures, INSTRUCTIONS=0 to skip the
# instructions per request (callgrind; bench/instructions.py), RESULTS (the
# results file, bench/results.json) and CHART (the chart drawn from it,
# docs/speed.svg; empty: none).
#
# Installs what it needs: wrk and valgrind (Debian), fastapi, uvicorn[standard] (uvloop,
# httptools), pyjwt, pwdlib[argon2], python-multipart (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

settings=$(env | grep -E '^(QUICK|ROUNDS|DURATION|CONNECTIONS|THREADS|RSS_CONNECTIONS|STARTS|DEMO_LOG_LEVEL|SERVERS|PAIRS|PAIR_SECONDS)=' | sort | tr '\n' ' ' || true)
command=${BENCH_COMMAND:-"${settings}bash bench/compare.sh"}
if [ "${QUICK:-0}" = 1 ]; then
  export ROUNDS=${ROUNDS:-1} DURATION=${DURATION:-3} STARTS=${STARTS:-2} PAIRS=${PAIRS:-2}
fi

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
python3 -c "import fastapi, uvicorn, uvloop, httptools, jwt, pwdlib, multipart" 2>/dev/null ||
  pip install -q fastapi "uvicorn[standard]" pyjwt "pwdlib[argon2]" python-multipart

cargo build --release --locked -q -p demo-app

BENCH_COMMAND=$command python3 bench/compare.py

# Instructions per request of the demo's routes under callgrind: steady where
# time drifts with the host (bench/instructions.py).
if [ "${INSTRUCTIONS:-1}" = 1 ]; then
  command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
  echo
  python3 bench/instructions.py
fi

if [ "${VERIFY_BENCH:-1}" = 1 ]; then
  # In-process cost of verifying one access token: auth-core beside one raw
  # HMAC-SHA256 over the same signing input (criterion, one group), and PyJWT
  # (timeit) on a token of the same shape and secret length.
  echo
  criterion=$(cargo bench -q -p auth-core --bench hot_path -- verify_vs_hmac 2>/dev/null)
  us() { # criterion benchmark name -> median microseconds
    awk -v name="$1" '
      $1 == name && /time:/ { line = $0 }
      $1 == name && !/time:/ { want = 1; next }
      want && /time:/ { line = $0; want = 0 }
      END { split(line, f, "["); split(f[2], v, " "); x = v[3]; u = v[4];
            if (u == "ns") x /= 1000; if (u == "ms") x *= 1000; print x }' <<<"$criterion"
  }
  verify_us=$(us "verify_vs_hmac/verify_access_token")
  first_us=$(us "verify_vs_hmac/verify_first_sight")
  hmac_us=$(us "verify_vs_hmac/raw_hmac_sha256")
  lean_us=$(us "verify_vs_hmac/lean_verify_lower_bound")
  py_us=$(python3 - <<'PY'
import time, timeit, uuid, jwt
secret = "bench-secret-0123456789-abcdefghijklmnop"
now = int(time.time())
claims = {"iss": "auth-core", "sub": "johndoe", "aud": "api", "iat": now, "exp": now + 1800,
          "nbf": now, "jti": uuid.uuid4().hex, "client_id": "default",
          "scope": "read:items write:items"}
token = jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "at+jwt"})
decode = lambda: jwt.decode(token, secret, algorithms=["HS256"], audience="api", issuer="auth-core")
runs = 20000
print(min(timeit.repeat(decode, number=runs, repeat=5)) / runs * 1e6)
PY
  )
  awk -v v="$verify_us" -v f="$first_us" -v h="$hmac_us" -v l="$lean_us" -v p="$py_us" 'BEGIN {
    printf "| in process | µs |\n|---|---:|\n"
    printf "| auth-core `AccessTokens::verify`, a token seen before (cache hit) | %.2f |\n", v
    printf "| auth-core `AccessTokens::verify`, a token seen for the first time | %.2f |\n", f
    printf "| one raw HMAC-SHA256 over the same signing input | %.2f |\n", h
    printf "| lower bound: one pre-keyed HMAC, claims parsed once | %.2f |\n", l
    printf "| PyJWT `jwt.decode` | %.2f |\n\n", p
    printf "verify ÷ raw HMAC: %.1fx (first sight %.1fx); PyJWT ÷ auth-core: %.1fx\n", v / h, f / h, p / v }'
fi

# The speed chart of the README (docs/speed.svg) from the results file
# compare.py wrote; CHART names another SVG, CHART= skips it.
if [ -n "${CHART-docs/speed.svg}" ]; then
  echo
  python3 bench/chart.py "${RESULTS:-bench/results.json}" "${CHART:-docs/speed.svg}"
fi
