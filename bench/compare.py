"""Load test of the Rust demo against two FastAPI peers, in one run.

Run through bench/compare.sh, which installs wrk and the Python packages and
builds the demo. Settings (environment):

  ROUNDS=3        rounds; each round runs every route on every server, the
                  server order alternating from round to round (A/B/C, C/B/A)
  DURATION=10     seconds per wrk run
  CONNECTIONS=32  wrk connections for the throughput table
  THREADS=1       wrk threads
  RSS_CONNECTIONS=256  connections for the peak-RSS measurement
  STARTS=5        restarts on the existing database for the start-up time
  DEMO_LOG_LEVEL  ROCKET_LOG_LEVEL of the demo (unset: Rocket's default for
                  a release build)
  SERVERS=demo,fastapi,fastapi-sql   which servers to measure

For every run it reads the server's CPU time (utime + stime of the server
process and its children, /proc/PID/stat) before and after and divides by
the number of requests; wrk's own CPU time (this process's cutime + cstime)
tells whether the load generator was the limit.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "10"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "32"))
THREADS = int(os.environ.get("THREADS", "1"))
RSS_CONNECTIONS = int(os.environ.get("RSS_CONNECTIONS", "256"))
STARTS = int(os.environ.get("STARTS", "5"))
DEMO_LOG_LEVEL = os.environ.get("DEMO_LOG_LEVEL")
SERVERS = os.environ.get("SERVERS", "demo,fastapi,fastapi-sql").split(",")
DEMO_BIN = os.environ.get("DEMO_BIN", "target/release/demo-app")
COMMAND = os.environ.get("BENCH_COMMAND", "bash bench/compare.sh")

TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
SECRET = "bench-secret-%d-0123456789abcdefghij" % time.time()
WRONG_SECRET = "another-secret-0123456789abcdefghijklmnop"
WORK = tempfile.mkdtemp(prefix="auth-bench-")
HERE = os.path.dirname(os.path.abspath(__file__))

LABELS = {"demo": "demo (Rust)", "fastapi": "FastAPI (dict)", "fastapi-sql": "FastAPI (SQLite)"}
PORTS = {"demo": 18000, "fastapi": 18001, "fastapi-sql": 18002}

# route label, path, which token, expected status
ROUTES = [
    ("GET /health", "/health", None, 200),
    ("GET /users/me (valid)", "/users/me", "valid", 200),
    ("GET /users/me (bad signature)", "/users/me", "bad_signature", 401),
    ("GET /users/me (expired)", "/users/me", "expired", 401),
    ("GET /users/me (malformed)", "/users/me", "malformed", 401),
    ("GET /items (valid, SQLite read)", "/items", "valid", 200),
]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc

def proc_children(pid):
    """Every descendant of pid (uvicorn's worker processes)."""
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                for child in f.read().split():
                    out.append(int(child))
                    out.extend(proc_children(int(child)))
    except FileNotFoundError:
        pass
    return out


def stat_fields(path):
    with open(path) as f:
        raw = f.read()
    # the command name may contain spaces: split after its closing paren
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pid):
    """utime + stime of pid and its descendants, in seconds."""
    total = 0
    for p in [pid] + proc_children(pid):
        try:
            fields = stat_fields("/proc/%d/stat" % p)
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / TICK


def own_children_cpu():
    """cutime + cstime of this process: the CPU of reaped children (wrk)."""
    fields = stat_fields("/proc/self/stat")
    return (int(fields[13]) + int(fields[14])) / TICK


def machine_busy():
    """Busy CPU seconds of the whole machine (/proc/stat), all cores."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return (sum(cpu[:8]) - idle) / TICK


def status_kib(pid, key):
    total = 0
    for p in [pid] + proc_children(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def reset_peak_rss(pid):
    for p in [pid] + proc_children(pid):
        try:
            with open("/proc/%d/clear_refs" % p, "w") as f:
                f.write("5")
        except OSError:
            pass


# ---------------------------------------------------------------- servers

def server_command(name):
    port = PORTS[name]
    if name == "demo":
        env = dict(os.environ, ROCKET_PORT=str(port), ROCKET_ADDRESS="127.0.0.1",
                   ROCKET_DATABASE_URL="sqlite://%s/demo.db" % WORK, ROCKET_AUTH_SECRET=SECRET)
        if DEMO_LOG_LEVEL:
            env["ROCKET_LOG_LEVEL"] = DEMO_LOG_LEVEL
        return [DEMO_BIN], env, None
    module = "fastapi_app" if name == "fastapi" else "fastapi_sql_app"
    env = dict(os.environ, BENCH_SECRET=SECRET, BENCH_SQL_DB="%s/fastapi.db" % WORK)
    cmd = [sys.executable, "-m", "uvicorn", "%s:app" % module, "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(NCPU), "--loop", "uvloop", "--http", "httptools",
           "--no-access-log", "--log-level", "warning"]
    return cmd, env, HERE


def get(port, path, token=None, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": "Bearer " + token} if token else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def start(name, limit=60.0):
    """Starts a server; returns (process, seconds until /health answered)."""
    cmd, env, cwd = server_command(name)
    logf = open("%s/%s.log" % (WORK, name), "ab")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    while time.monotonic() - t0 < limit:
        if proc.poll() is not None:
            break
        try:
            if get(PORTS[name], "/health", timeout=1)[0] == 200:
                return proc, time.monotonic() - t0
        except OSError:
            time.sleep(0.001)
    stop(proc)
    with open("%s/%s.log" % (WORK, name)) as f:
        log(f.read()[-4000:])
    sys.exit("%s did not answer /health within %.0f s" % (name, limit))


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def post_form(port, path, fields, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request("POST", path, urllib.parse.urlencode(fields), headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header, claims, secret):
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def tokens_for(name):
    status, body = post_form(PORTS[name], "/token", {"username": "johndoe", "password": "secret"})
    if status != 200:
        sys.exit("%s: POST /token answered %d: %s" % (name, status, body[:200]))
    valid = json.loads(body)["access_token"]
    signing_input = valid.rsplit(".", 1)[0]
    forged = hmac.new(WRONG_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    now = int(time.time())
    expired_claims = {
        "iss": "auth-core", "sub": "johndoe", "aud": "api", "exp": now - 3600,
        "iat": now - 5400, "nbf": now - 5400, "jti": "expired-bench-token",
        "client_id": "default", "scope": "read:items write:items",
    }
    return {
        "valid": valid,
        "bad_signature": signing_input + "." + b64(forged),
        "expired": sign({"alg": "HS256", "typ": "at+jwt"}, expired_claims, SECRET),
        "malformed": "not.a-jwt.at-all",
    }


# ---------------------------------------------------------------- wrk

def to_ms(value):
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    return float(value)


def wrk(port, path, token, connections, duration, script=None):
    cmd = ["wrk", "-t%d" % THREADS, "-c%d" % connections, "-d%ds" % duration, "--latency"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    own0 = own_children_cpu()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wrk_cpu = own_children_cpu() - own0
    result = {"wrk_cpu": wrk_cpu, "raw": out, "errors": 0, "non2xx": 0}
    for line in out.splitlines():
        words = line.split()
        if "requests in" in line:
            result["requests"] = int(words[0])
        elif line.startswith("Requests/sec:"):
            result["rps"] = float(words[1])
        elif words[:1] == ["99%"]:
            result["p99_ms"] = to_ms(words[1])
        elif line.strip().startswith("Socket errors:"):
            result["errors"] = sum(int(w.rstrip(",")) for w in words[3::2])
        elif line.strip().startswith("Non-2xx"):
            result["non2xx"] = int(words[-1])
    return result


def measure(name, proc, path, token, connections, duration):
    cpu0, busy0, t0 = cpu_seconds(proc.pid), machine_busy(), time.monotonic()
    r = wrk(PORTS[name], path, token, connections, duration)
    cpu1, busy1, elapsed = cpu_seconds(proc.pid), machine_busy(), time.monotonic() - t0
    r["server_cpu"] = cpu1 - cpu0
    r["cpu_us"] = (cpu1 - cpu0) / max(r["requests"], 1) * 1e6
    # CPU used by anything else on the machine (other processes, builds)
    r["other_cores"] = max(0.0, (busy1 - busy0) - r["server_cpu"] - r["wrk_cpu"]) / elapsed
    r["wrk_util"] = r["wrk_cpu"] / (duration * THREADS)
    return r


# ---------------------------------------------------------------- main

def median(values):
    return statistics.median(values) if values else float("nan")


def main():
    servers = [s for s in SERVERS if s in PORTS]
    cpu_model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    log("work directory", WORK)

    # Start-up on an existing database: the first start creates and seeds it,
    # then every server is restarted STARTS times, the last one kept running.
    procs, startup = {}, {}
    for name in servers:
        proc, first = start(name)
        stop(proc)
        times = []
        for i in range(STARTS):
            proc, t = start(name)
            times.append(t)
            if i < STARTS - 1:
                stop(proc)
        procs[name], startup[name] = proc, times
        log("%s: first start %.0f ms (new database), then %s ms" %
            (name, first * 1e3, ", ".join("%.0f" % (t * 1e3) for t in times)))

    try:
        toks = {name: tokens_for(name) for name in servers}
        if "demo" in servers:
            conn = http.client.HTTPConnection("127.0.0.1", PORTS["demo"], timeout=10)
            conn.request("POST", "/items", json.dumps({"name": "hammer"}),
                         {"Content-Type": "application/json",
                          "Authorization": "Bearer " + toks["demo"]["valid"]})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 201:
                sys.exit("demo: POST /items answered %d" % resp.status)
        # Every route answers what it should before anything is timed.
        for name in servers:
            for label, path, tok, expected in ROUTES:
                status, body = get(PORTS[name], path, toks[name][tok] if tok else None)
                if status != expected:
                    sys.exit("%s %s answered %d, expected %d: %s" %
                             (name, label, status, expected, body[:200]))
        hwm_start = {name: status_kib(procs[name].pid, "VmHWM") for name in servers}

        # Warm-up, then the rounds.
        for name in servers:
            wrk(PORTS[name], "/users/me", toks[name]["valid"], CONNECTIONS, min(2, DURATION))
        results = {}
        for rnd in range(ROUNDS):
            order = servers if rnd % 2 == 0 else servers[::-1]
            for label, path, tok, _ in ROUTES:
                for name in order:
                    r = measure(name, procs[name], path, toks[name][tok] if tok else None,
                                CONNECTIONS, DURATION)
                    results.setdefault((name, label), []).append(r)
                    log("round %d %-16s %-32s %9.0f req/s  p99 %7.2f ms  %6.1f us/req  "
                        "wrk %3.0f%%  others %.2f cores%s" %
                        (rnd + 1, name, label, r["rps"], r["p99_ms"], r["cpu_us"],
                         r["wrk_util"] * 100, r["other_cores"],
                         "  SOCKET ERRORS %d" % r["errors"] if r["errors"] else ""))

        # Peak RSS under read load at RSS_CONNECTIONS, after resetting the
        # peak left by start-up (the demo hashes a dummy password at launch).
        rss = {}
        for name in servers:
            reset_peak_rss(procs[name].pid)
            for path in ("/users/me", "/items"):
                wrk(PORTS[name], path, toks[name]["valid"], RSS_CONNECTIONS, max(3, DURATION // 2))
            rss[name] = {
                "start": hwm_start[name],
                "read": status_kib(procs[name].pid, "VmHWM"),
                "idle": status_kib(procs[name].pid, "VmRSS"),
            }
        # The same after a login flood: argon2 needs 19 MiB per concurrent hash.
        script = os.path.join(WORK, "login.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.body = "username=johndoe&password=secret"\n'
                    'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
        for name in servers:
            reset_peak_rss(procs[name].pid)
            wrk(PORTS[name], "/token", None, 16, max(3, DURATION // 2), script=script)
            rss[name]["login"] = status_kib(procs[name].pid, "VmHWM")
    finally:
        for proc in procs.values():
            stop(proc)
        log_sizes = {name: os.path.getsize("%s/%s.log" % (WORK, name)) for name in servers}
        shutil.rmtree(WORK, ignore_errors=True)
    for name, size in log_sizes.items():
        if size > 1 << 20:
            print("NOTE %s wrote %.0f MiB of log during the run." % (LABELS[name], size / (1 << 20)))

    report(servers, results, startup, rss, cpu_model)


def fmt_rps(v):
    return "{:,.0f}".format(v)


def report(servers, results, startup, rss, cpu_model):
    def med(name, label, key):
        return median([r[key] for r in results[(name, label)]])

    def spread(name, label, key, fmt):
        vals = [r[key] for r in results[(name, label)]]
        if len(vals) < 2:
            return fmt % vals[0]
        return (fmt + " (" + fmt + "-" + fmt + ")") % (median(vals), min(vals), max(vals))

    print()
    print("Machine: %d cores, %s, %s; wrk %s, %d thread(s), %d connections, %d s per run, "
          "%d rounds with the server order alternating; medians over rounds (min-max)." %
          (NCPU, cpu_model, platform.platform(terse=True), wrk_version(), THREADS, CONNECTIONS,
           DURATION, ROUNDS))
    print("Demo: release build, Rocket defaults (%d workers)%s; FastAPI peers: uvicorn, "
          "uvloop + httptools, %d workers." %
          (NCPU, ", ROCKET_LOG_LEVEL=" + DEMO_LOG_LEVEL if DEMO_LOG_LEVEL else "", NCPU))
    print("Command: `%s`" % COMMAND)
    print()
    print("| route | server | req/s | p99 ms | server CPU µs/req |")
    print("|---|---|---:|---:|---:|")
    for label, _, _, _ in ROUTES:
        for name in servers:
            print("| `%s` | %s | %s | %s | %s |" % (
                label, LABELS[name],
                spread(name, label, "rps", "%.0f"),
                spread(name, label, "p99_ms", "%.2f"),
                spread(name, label, "cpu_us", "%.1f")))
    print()
    health, me = ROUTES[0][0], ROUTES[1][0]
    print("| ratio | " + " | ".join(LABELS[n] for n in servers) + " |")
    print("|---|" + "---:|" * len(servers))

    def paired(name, num, den, key):
        """Per-round ratios (the two runs of a round are minutes apart at
        most): median (min-max)."""
        vals = [a[key] / b[key] for a, b in zip(results[(name, num)], results[(name, den)])]
        if len(vals) < 2:
            return "%.2f" % vals[0]
        return "%.2f (%.2f-%.2f)" % (median(vals), min(vals), max(vals))

    print("| `/users/me` req/s ÷ `/health` req/s | " +
          " | ".join(paired(n, me, health, "rps") for n in servers) + " |")
    for label, _, tok, status in ROUTES[2:5]:
        print("| CPU/req %s ÷ 200 `/users/me` | " % label.split("(")[1].rstrip(")") +
              " | ".join(paired(n, label, me, "cpu_us") for n in servers) + " |")
    if "demo" in servers:
        print("| demo req/s ÷ this server's req/s, `/users/me` | " +
              " | ".join("%.2f" % (med("demo", me, "rps") / med(n, me, "rps")) for n in servers) +
              " |")
    print()
    print("| memory and start-up | " + " | ".join(LABELS[n] for n in servers) + " |")
    print("|---|" + "---:|" * len(servers))
    mib = lambda kib: "%.1f MiB" % (kib / 1024)
    print("| peak RSS since start (VmHWM, incl. launch) | " +
          " | ".join(mib(rss[n]["start"]) for n in servers) + " |")
    print("| peak RSS under read load, %d connections | " % RSS_CONNECTIONS +
          " | ".join(mib(rss[n]["read"]) for n in servers) + " |")
    print("| peak RSS under a login flood, 16 connections | " +
          " | ".join(mib(rss[n]["login"]) for n in servers) + " |")
    print("| first `/health` after start, existing database (median, max of %d) | " % STARTS +
          " | ".join("%.0f ms, %.0f ms" % (median(startup[n]) * 1e3, max(startup[n]) * 1e3)
                     for n in servers) + " |")
    print()
    if len(servers) > 1:
        print("FastAPI peers: RSS summed over the uvicorn master and its %d workers." % NCPU)

    # Warnings: a saturated load generator, socket errors, a busy machine.
    runs = [r for rs in results.values() for r in rs]
    for (name, label), rs in results.items():
        for r in rs:
            if r["wrk_util"] > 0.9:
                print("WARNING %s %s: wrk used %.0f%% of its %d thread(s); the load generator "
                      "may be the limit" % (name, label, r["wrk_util"] * 100, THREADS))
            if r["errors"]:
                print("WARNING %s %s: %d socket errors" % (name, label, r["errors"]))
    print("wrk used at most %.0f%% of its %d thread(s)." %
          (max(r["wrk_util"] for r in runs) * 100, THREADS))
    others = sorted(r["other_cores"] for r in runs)
    if others[-1] > 0.25:
        print("WARNING other processes on the machine used %.2f cores (median; %.2f-%.2f) "
              "during the runs: req/s and p99 are depressed; CPU µs/req is the steadier "
              "figure." % (median(others), others[0], others[-1]))


def wrk_version():
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    words = (out.stdout + out.stderr).split()
    return words[1] if len(words) > 1 else "?"


if __name__ == "__main__":
    main()
