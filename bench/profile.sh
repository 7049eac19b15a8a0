#!/usr/bin/env bash
# Where the demo's CPU time goes, per route: a release build of the demo under
# wrk load, sampled with perf (cpu-clock, DWARF call graphs), one profile per
# case. Prints the top symbols (self time) and the inclusive share of a few
# places of interest for each case.
#
#   bash bench/profile.sh                          # every case
#   bash bench/profile.sh health me bad_signature  # some of them
#   ROCKET_LOG_LEVEL=normal bash bench/profile.sh bad_signature
#
# Cases: health, me (valid token), bad_signature, expired, malformed, items.
# Settings: DURATION (10 s), CONNECTIONS (32), TOP (25 symbols), OUT (where
# the perf data and reports go; a new temporary directory by default).
# Needs perf (Debian: linux-perf) and wrk; installs both when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
TOP=${TOP:-25}
PORT=18010
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export ROCKET_LOG_LEVEL=${ROCKET_LOG_LEVEL:-critical}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(health me bad_signature expired malformed items)

command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
perf stat -e cpu-clock true >/dev/null 2>&1 || { echo "perf cannot sample here" >&2; exit 1; }
cargo build --release --locked -q -p demo-app

secret="profile-secret-$(date +%s)-0123456789abcdefghij"
ROCKET_PORT=$PORT ROCKET_ADDRESS=127.0.0.1 ROCKET_DATABASE_URL="sqlite://$OUT/demo.db" \
  ROCKET_AUTH_SECRET="$secret" target/release/demo-app >"$OUT/demo.log" 2>&1 &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
  sleep 0.1
done

valid=$(curl -sf -d username=johndoe -d password=secret "http://127.0.0.1:$PORT/token" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
curl -sf -o /dev/null -H "Authorization: Bearer $valid" -H 'Content-Type: application/json' \
  -d '{"name": "hammer"}' "http://127.0.0.1:$PORT/items"
token_for() {
  SECRET=$secret VALID=$valid python3 - "$1" <<'PY'
import base64, hashlib, hmac, json, os, sys, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
secret, valid, case = os.environ["SECRET"], os.environ["VALID"], sys.argv[1]
if case == "bad_signature":
    head = valid.rsplit(".", 1)[0]
    print(head + "." + b64(hmac.new(b"another-secret-0123456789abcdefghijkl", head.encode(),
                                    hashlib.sha256).digest()))
elif case == "expired":
    now = int(time.time())
    claims = {"iss": "auth-core", "sub": "johndoe", "aud": "api", "exp": now - 3600,
              "iat": now - 5400, "nbf": now - 5400, "jti": "x", "client_id": "default",
              "scope": "read:items write:items"}
    head = b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode()) + "." + \
        b64(json.dumps(claims).encode())
    print(head + "." + b64(hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()))
elif case == "malformed":
    print("not.a-jwt.at-all")
else:
    print(valid)
PY
}

# Places whose inclusive share is reported (perf report --children).
interesting='log::|rocket::log|std::io::stdio|fmt::write|jsonwebtoken::decode|jsonwebtoken::.*verify|hmac|sha2::|local_cache|on_response|render_into|AuthError.*(body|challenge|description)|serde_json::ser|catcher|SubjectCache|Auth::authenticate|Protected|__memmove|malloc|free|sqlx|tokio::runtime::task|hyper::proto|epoll|sendto|recvfrom|writev|__send|__recv|syscall'

report() { # case path status
  set +o pipefail # head closes the pipe early
  echo "## $1 (GET $2 -> $3, ROCKET_LOG_LEVEL=$ROCKET_LOG_LEVEL): top $TOP symbols, self time"
  perf report -i "$OUT/$1.data" --no-children --sort dso,symbol --stdio -g none \
    --percent-limit 0.3 2>/dev/null | grep -E '^ +[0-9]' | sed -E 's/[ -]+$//' | head -n "$TOP"
  echo
  echo "## $1: inclusive time of selected places"
  perf report -i "$OUT/$1.data" --children --sort symbol --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9]' | grep -E "$interesting" | sed -E 's/ +$//' | head -n 40
  echo
  set -o pipefail
}

for case in "${cases[@]}"; do
  case $case in
    health) path=/health token= ;;
    items) path=/items token=$valid ;;
    me) path=/users/me token=$valid ;;
    bad_signature | expired | malformed) path=/users/me token=$(token_for "$case") ;;
    *) echo "unknown case $case" >&2; exit 2 ;;
  esac
  header=()
  [ -z "$token" ] || header=(-H "Authorization: Bearer $token")
  echo "== $case: GET $path, ROCKET_LOG_LEVEL=$ROCKET_LOG_LEVEL" >&2
  status=$(curl -s -o /dev/null -w '%{http_code}' "${header[@]}" "http://127.0.0.1:$PORT$path")
  echo "   answers $status" >&2
  wrk -t1 -c"$CONNECTIONS" -d2s "${header[@]}" "http://127.0.0.1:$PORT$path" >/dev/null
  perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p $demo -o "$OUT/$case.data" \
    -- sleep "$DURATION" 2>/dev/null &
  recorder=$!
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${header[@]}" "http://127.0.0.1:$PORT$path" |
    grep -E 'Requests/sec' >&2
  wait $recorder
  report "$case" "$path" "$status" | tee "$OUT/$case.txt"
done
echo "perf data and reports in $OUT" >&2
