"""Instructions per request, per route: the demo (release build) under
callgrind, driven by wrk one route at a time, its counters zeroed before
each run and dumped after it.

Time per request drifts with the host's load; the number of instructions
the server executes per request does not, so differences of a few percent
between routes show up that the load test cannot resolve. What it leaves
out: the kernel's share (sockets, scheduling), memory stalls, and the load
generator. Use it beside bench/compare.sh, not instead of it. It also
reports the share of auth-core's own entry points (the request guards, the
catcher that writes a refusal, the logger) in each route's instructions.

  python3 bench/instructions.py            # after a release build
  ROUNDS=3 RUN_SECONDS=5 python3 bench/instructions.py

A second table compares credential paths on the same route: a bearer
header against the session cookie and an API key (`X-API-Key`, made with
`demo-app apikey add`) on `GET /users/me`, and on `POST /items` (a SQLite
write each) a bearer header against the cookie with its CSRF check
(same-origin `Origin`, `X-CSRF-Token`).

Settings: ROUNDS (2; the route order alternates), RUN_SECONDS (3),
CONNECTIONS (4). Needs valgrind and wrk (Debian); installs both when missing.
"""

import base64
import http.client
import json
import os
import re
import urllib.parse
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    DEMO_BIN, PORTS, ROUTES, THREADS, WORK, get, log, median, parse_wrk, server_command, stop,
    tokens_for,
)

ROUNDS_IR = int(os.environ.get("ROUNDS", "2"))
RUN_SECONDS = int(os.environ.get("RUN_SECONDS", "3"))
CONNECTIONS_IR = int(os.environ.get("CONNECTIONS", "4"))
# /items adds a SQLite read, which is not what this compares.
MEASURED = [r for r in ROUTES if not r[1].startswith("/items")]


def need(tool, package):
    if shutil.which(tool) is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True)


# auth-core's own entry points on a request's path, by what they match in
# callgrind's function names; none of them calls another.
PARTS = [
    ("guards", re.compile(r"^<auth_core::http::guard::.+? as rocket::request::from_request::FromRequest>::from_request")),
    ("catcher", re.compile(r"^<auth_core::http::respond::catcher::AuthCatcher as rocket::catcher::handler::Handler>::handle")),
    ("logger", re.compile(r"^<auth_core::log::logger::QuietLogger as log::Log>::log")),
]


def parts(path):
    """Instructions in each of PARTS (inclusive) in a callgrind dump."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         check=True, capture_output=True, text=True).stdout
    totals = dict.fromkeys(name for name, _ in PARTS)
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(.*?)(?: \[.*\])?$", line)
        if not m:
            continue
        for name, pattern in PARTS:
            if pattern.search(m.group(2)):
                totals[name] = (totals[name] or 0) + int(m.group(1).replace(",", ""))
    return {name: value or 0 for name, value in totals.items()}


def summary(path):
    """The Ir total of a callgrind dump."""
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    sys.exit("no summary line in %s" % path)


def start_under_callgrind(out):
    cmd, env, _ = server_command("demo")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + cmd
    logf = open(os.path.join(WORK, "callgrind.log"), "ab")
    proc = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("the demo under callgrind exited; see %s/callgrind.log" % WORK)
        try:
            if get(PORTS["demo"], "/health", timeout=2)[0] == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    stop(proc)
    sys.exit("the demo under callgrind did not answer /health within 120 s")


def control(proc, *args):
    subprocess.run(["callgrind_control", *args, str(proc.pid)], check=True,
                   capture_output=True)


def session_for(port):
    """A cookie session of johndoe: (access cookie, CSRF token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/session",
                     urllib.parse.urlencode({"username": "johndoe", "password": "secret"}),
                     {"Content-Type": "application/x-www-form-urlencoded",
                      "Origin": "http://127.0.0.1:%d" % port})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            sys.exit("POST /session answered %d: %s" % (resp.status, body[:200]))
        cookies = [v.split(";", 1)[0] for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        access = next(c for c in cookies if c.startswith("__Host-access="))
        return access, json.loads(body)["csrf_token"]
    finally:
        conn.close()


def api_key_for():
    """A new API key of johndoe, made by the demo's CLI on the server's
    database (the key is the last line of its output)."""
    _, env, _ = server_command("demo")
    done = subprocess.run([DEMO_BIN, "apikey", "add", "johndoe", "--scopes", "read:items",
                           "--name", "bench"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("demo-app apikey add failed: %s" % done.stderr.strip())
    return done.stdout.strip().splitlines()[-1]


def client_for():
    """A new confidential client allowed client_credentials, made by the
    demo's CLI: (client id, secret)."""
    _, env, _ = server_command("demo")
    done = subprocess.run([DEMO_BIN, "client", "add", "bench", "--scopes", "read:items"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("demo-app client add failed: %s" % done.stderr.strip())
    return "bench", done.stdout.strip().splitlines()[-1]


def wrk_run(port, path, headers, body, duration):
    """The wrk command for one route: headers, and a body to POST (a dict
    as JSON, a string as a form)."""
    cmd = ["wrk", "-t%d" % THREADS, "-c%d" % CONNECTIONS_IR, "-d%ds" % duration, "--latency"]
    for name, value in headers.items():
        cmd += ["-H", "%s: %s" % (name, value)]
    if body is not None:
        # A JSON body, or a form body given as a string. The body goes into
        # the script as a Lua string literal (JSON's string escapes are
        # Lua's for these characters).
        if isinstance(body, str):
            text, content_type = body, "application/x-www-form-urlencoded"
        else:
            text, content_type = json.dumps(body), "application/json"
        script = os.path.join(WORK, "post.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = %s\n'
                    % (json.dumps(text), json.dumps(content_type)))
        cmd += ["-s", script]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    return cmd


def measure_ir(proc, out, label, path, headers, body=None):
    """(requests, instructions, {part: instructions}) of one run of wrk
    against path."""
    port = PORTS["demo"]
    # Warm: connections, caches, the token's first verification.
    subprocess.run(wrk_run(port, path, headers, body, 1), check=True, capture_output=True)
    control(proc, "-z")
    result = parse_wrk(subprocess.run(
        wrk_run(port, path, headers, body, RUN_SECONDS), check=True,
        capture_output=True, text=True).stdout)
    if result["non2xx"] or result["errors"]:
        log("%s: %d non-2xx answers, %d errors" % (label, result["non2xx"], result["errors"]))
    before = set(os.listdir(WORK))
    # Callgrind reads its commands while the program runs: an idle server
    # is nudged with a request until the dump is written (its share, a
    # fraction of one request, is negligible against thousands).
    reason = "".join(c if c.isalnum() else "_" for c in label)
    dumping = subprocess.Popen(["callgrind_control", "-d", reason, str(proc.pid)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        dumps = [f for f in set(os.listdir(WORK)) - before if f.startswith(os.path.basename(out))]
        if dumps and dumping.poll() is not None:
            dump = os.path.join(WORK, dumps[0])
            return result["requests"], summary(dump), parts(dump)
        if not dumps:
            try:
                get(port, "/health", timeout=2)
            except OSError:
                pass
        time.sleep(0.2)
    dumping.kill()
    sys.exit("callgrind wrote no dump for %s" % label)


def main():
    need("valgrind", "valgrind")
    need("wrk", "wrk")
    if not os.path.exists(DEMO_BIN):
        sys.exit("%s missing: cargo build --release -p demo-app" % DEMO_BIN)
    out = os.path.join(WORK, "callgrind.out")
    proc = start_under_callgrind(out)
    try:
        tokens = tokens_for("demo")
        cookie, csrf = session_for(PORTS["demo"])
        api_key = api_key_for()
        client_id, client_secret = client_for()
        basic = base64.b64encode(("%s:%s" % (client_id, client_secret)).encode()).decode()
        bearer = {"Authorization": "Bearer " + tokens["valid"]}
        origin = "http://127.0.0.1:%d" % PORTS["demo"]
        item = {"name": "bench"}
        routes = [(label, path, {"Authorization": "Bearer " + tokens[tok]} if tok else {}, None)
                  for label, path, tok, _ in MEASURED]
        credentials = [
            ("GET /users/me (bearer)", "/users/me", bearer, None),
            ("GET /users/me (cookie)", "/users/me", {"Cookie": cookie}, None),
            ("GET /users/me (API key)", "/users/me", {"X-API-Key": api_key}, None),
            ("POST /items (bearer)", "/items", dict(bearer, Origin=origin), item),
            ("POST /items (cookie, CSRF)", "/items",
             {"Cookie": cookie, "Origin": origin, "X-CSRF-Token": csrf}, item),
            ("POST /token (client_credentials)", "/token", {"Authorization": "Basic " + basic},
             "grant_type=client_credentials"),
        ]
        per_request = {}
        part_per_request = {}
        for round_no in range(ROUNDS_IR):
            both = routes + credentials
            order = both if round_no % 2 == 0 else both[::-1]
            for label, path, headers, body in order:
                requests, ir, split = measure_ir(proc, out, label, path, headers, body)
                per_request.setdefault(label, []).append(ir / max(requests, 1))
                for name, value in split.items():
                    part_per_request.setdefault((label, name), []).append(value / max(requests, 1))
                log("round %d %-32s %6d requests %9.0f instructions/request" %
                    (round_no + 1, label, requests, ir / max(requests, 1)))
    finally:
        stop(proc)
    health = median(per_request[MEASURED[0][0]])
    me = median(per_request[MEASURED[1][0]])
    names = [name for name, _ in PARTS]
    print("| route | instructions/request (median of %d runs) | ÷ `/health` | ÷ `/users/me` | %s |"
          % (ROUNDS_IR, " | ".join("of which auth-core's %s" % n for n in names)))
    print("|---|---:|---:|---:|" + "---:|" * len(names))
    for label, _, _, _ in MEASURED:
        value = median(per_request[label])
        cells = []
        for name in names:
            own = median(part_per_request[(label, name)])
            cells.append("%.0f (%.1f%%)" % (own, 100 * own / value) if own >= 1 else "-")
        print("| `%s` | %.0f | %.2f | %.2f | %s |" % (label, value, value / health, value / me,
                                                    " | ".join(cells)))
    print()
    print("| credential path | instructions/request (median of %d runs) | ÷ the bearer "
          "request on the same route | of which auth-core's guards |" % ROUNDS_IR)
    print("|---|---:|---:|---:|")
    for label, base in [("GET /users/me (bearer)", None),
                        ("GET /users/me (cookie)", "GET /users/me (bearer)"),
                        ("GET /users/me (API key)", "GET /users/me (bearer)"),
                        ("POST /items (bearer)", None),
                        ("POST /items (cookie, CSRF)", "POST /items (bearer)")]:
        value = median(per_request[label])
        ratio = value / median(per_request[base]) if base else 1.0
        guards = median(part_per_request[(label, "guards")])
        print("| `%s` | %.0f | %.3f | %.0f |" % (label, value, ratio, guards))
    grant = median(per_request["POST /token (client_credentials)"])
    me = median(per_request["GET /users/me (bearer)"])
    print()
    print("`POST /token` with the client-credentials grant: %.0f instructions/request, "
          "%.2f × `GET /users/me` with a bearer token (no password hash)." % (grant, grant / me))


if __name__ == "__main__":
    main()
